"""Deciding what a fetch must download, and joining what it brought to what is stored.

Adjusted closes are not append-only: at every dividend or split Yahoo rescales a ticker's whole
adjusted history. Appending new rows to an old adjustment base would put a false return at the
seam. So an incremental fetch asks for a few days it already has (``OVERLAP_DAYS``) and compares
them; if they moved, the ticker is fetched again from the start.

Pure functions; the store and the network are the caller's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

OVERLAP_DAYS = 10
"""Calendar days re-fetched before a ticker's last stored date (covers a long weekend + holiday)."""
REL_TOLERANCE = 1e-6
"""Largest relative difference on the overlap still taken as "the same adjustment"."""


@dataclass(frozen=True)
class StoredState:
    """What the store knows of one ticker: its last date and when it was written (UTC date)."""

    last: dt.date
    stored_on: dt.date


def plan_fetch(
    tickers: Iterable[str],
    stored: Mapping[str, StoredState],
    start: dt.date,
    today: dt.date,
) -> tuple[dict[dt.date, list[str]], list[str]]:
    """Group the tickers to download by the date to download from; list those to skip.

    A ticker stored today is skipped (a second run the same day downloads nothing). A ticker
    stored earlier is fetched from ``OVERLAP_DAYS`` before its last date; one not stored, from
    ``start``.
    """
    plan: dict[dt.date, list[str]] = {}
    skipped: list[str] = []
    for ticker in tickers:
        state = stored.get(ticker)
        if state is None:
            plan.setdefault(start, []).append(ticker)
        elif state.stored_on >= today:
            skipped.append(ticker)
        else:
            since = max(start, state.last - dt.timedelta(days=OVERLAP_DAYS))
            plan.setdefault(since, []).append(ticker)
    return plan, skipped


def join_fetched(old: pd.Series, new: pd.Series) -> pd.Series | None:
    """``old`` extended by ``new``; None when their shared dates disagree (refetch in full).

    With no shared date the join is refused too: nothing shows the two use the same adjustment.
    """
    shared = old.index.intersection(new.index)
    if len(shared) == 0:
        return None
    a = old.loc[shared].to_numpy()
    b = new.loc[shared].to_numpy()
    if not np.allclose(a, b, rtol=REL_TOLERANCE, atol=0.0):
        return None
    joined = pd.concat([old[old.index < new.index[0]], new])
    out: pd.Series = joined[~joined.index.duplicated(keep="last")].sort_index()
    return out
