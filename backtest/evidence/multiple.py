"""Many claims at once: p-values adjusted across the claims of one run.

A run tests several claims together; reading each at its own 5% level finds something by chance
more often than 5% of the time. The verdicts use adjusted p-values:

* ``holm`` (Holm 1979, step-down Bonferroni; controls the chance of any false claim): with the
  ``m`` p-values sorted, ``p_(1) <= … <= p_(m)``, the i-th adjusted value is
  ``max_{j <= i} min(1, (m - j + 1) p_(j))``;
* ``bh`` (Benjamini–Hochberg 1995; controls the expected share of false claims among those
  called): ``min_{j >= i} min(1, m p_(j) / j)``;
* ``none``: unchanged.

These are the values of ``statsmodels.stats.multitest.multipletests`` (``holm``, ``fdr_bh``), to
the last digit (tested). They are computed here, row by row over many families at once, because
statsmodels runs a full garbage collection inside every Holm call (0.2 s each), and a run adjusts
hundreds of variants.

A variant of a claim (its bucket without a member, another weighting, another block length) is
judged under the same rule by putting its p-value in the claim's place in the family and
adjusting again (:func:`adjusted_in_place`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from backtest.conventions import Correction


def adjust_rows(p_values: np.ndarray, correction: Correction) -> np.ndarray:
    """Adjusted p-values of each row of ``p_values`` (rows × tests), as the module says."""
    p = np.atleast_2d(np.asarray(p_values, dtype="float64"))
    m = p.shape[1]
    if correction is Correction.none or m == 0:
        return p.copy()
    order = np.argsort(p, axis=1, kind="stable")
    ranked = np.take_along_axis(p, order, axis=1)
    if correction is Correction.holm:
        scaled = np.maximum.accumulate(ranked * np.arange(m, 0, -1), axis=1)
    else:
        scaled = np.minimum.accumulate((ranked * m / np.arange(1, m + 1))[:, ::-1], axis=1)
        scaled = scaled[:, ::-1]
    out = np.empty_like(p)
    np.put_along_axis(out, order, np.minimum(scaled, 1.0), axis=1)
    return out


def adjust(p_values: Sequence[float] | np.ndarray, correction: Correction) -> np.ndarray:
    """Adjusted p-values of one family, in the order given."""
    p = np.asarray(p_values, dtype="float64")
    if len(p) == 0:
        return p.copy()
    adjusted: np.ndarray = adjust_rows(p[None, :], correction)[0]
    return adjusted


def adjusted_in_place(
    family: Sequence[float] | np.ndarray, index: int, p_value: float, correction: Correction
) -> float:
    """The adjusted p-value of ``p_value`` put at ``index`` of ``family`` (the others as they
    are)."""
    p = np.asarray(family, dtype="float64").copy()
    p[index] = p_value
    return float(adjust(p, correction)[index])
