"""Compiled loops the simulation needs where numpy would build days × columns temporaries.

numba compiles each function once per machine (``cache=True`` keeps the machine code next to this
file, so later processes load it in milliseconds). Each loop's arithmetic is written out in its
docstring; the order of every sum is fixed (a group's members in their column order), so a
figure depends only on its own inputs, never on how many other groups or days were computed in
the same call (the "as of" property: appending later prices moves nothing earlier).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def group_values_nb(  # pragma: no cover - compiled; tested through simulate_plans
    closes: np.ndarray,
    cols: np.ndarray,
    lens: np.ndarray,
    rows: np.ndarray,
    held: np.ndarray,
    cash: np.ndarray,
    init_cash: float,
) -> np.ndarray:
    """Each group's value on every day (days × groups, in cash units).

    ``closes``: days × tickers, 0 where a ticker has no price; ``cols``: each member column's
    ticker position in ``closes``; ``lens``: member columns per group, in column order; ``rows``:
    the event rows (ascending day positions); ``held`` / ``cash``: shares per member column and
    cash per group after each event row. Before ``rows[0]`` a group is worth ``init_cash``; from
    ``rows[k]`` up to the next event row, ``cash[k, g] + Σ_i held[k, i] × closes[t, cols[i]]``
    over the group's members ``i`` in order.
    """
    n_days = closes.shape[0]
    n_groups = lens.shape[0]
    out = np.empty((n_days, n_groups))
    first = rows[0] if rows.shape[0] else n_days
    for t in range(min(first, n_days)):
        for g in range(n_groups):
            out[t, g] = init_cash
    for k in range(rows.shape[0]):
        stop = rows[k + 1] if k + 1 < rows.shape[0] else n_days
        for t in range(rows[k], stop):
            start = 0
            for g in range(n_groups):
                value = cash[k, g]
                for i in range(start, start + lens[g]):
                    value += held[k, i] * closes[t, cols[i]]
                out[t, g] = value
                start += lens[g]
    return out
