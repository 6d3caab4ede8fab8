"""Adjusted p-values: equal to statsmodels' multipletests, by hand on three claims, and in place."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from backtest.conventions import Correction
from backtest.evidence.multiple import adjust, adjust_rows, adjusted_in_place


@pytest.mark.parametrize(("correction", "method"), [("holm", "holm"), ("bh", "fdr_bh")])
def test_adjusted_values_equal_statsmodels(correction: str, method: str) -> None:
    rng = np.random.default_rng(0)
    for trial in range(300):
        m = int(rng.integers(1, 12))
        p = rng.uniform(0, 1, m) ** rng.uniform(0.3, 4)
        if trial % 5 == 0:
            p[: m // 2 + 1] = p[0]  # ties
        expected = multipletests(p, method=method)[1]
        np.testing.assert_allclose(adjust(p, Correction(correction)), expected, rtol=0, atol=1e-12)


def test_by_hand_on_three_claims() -> None:
    p = [0.01, 0.04, 0.03]
    # Holm: sorted 0.01, 0.03, 0.04 × 3, 2, 1 = 0.03, 0.06, 0.04 → running max 0.03, 0.06, 0.06
    np.testing.assert_allclose(adjust(p, Correction.holm), [0.03, 0.06, 0.06])
    # BH: 0.01 × 3/1, 0.03 × 3/2, 0.04 × 3/3 = 0.03, 0.045, 0.04 → running min from the top
    np.testing.assert_allclose(adjust(p, Correction.bh), [0.03, 0.04, 0.04])
    np.testing.assert_allclose(adjust(p, Correction.none), p)


def test_a_variant_takes_the_claims_place_in_the_family() -> None:
    family = [0.01, 0.04, 0.03]
    # 0.02 in place of 0.04: sorted 0.01, 0.02, 0.03 → Holm 0.03, 0.04, 0.04
    assert adjusted_in_place(family, 1, 0.02, Correction.holm) == pytest.approx(0.04)
    assert adjusted_in_place(family, 1, 0.02, Correction.none) == 0.02


def test_rows_are_adjusted_independently() -> None:
    rows = np.array([[0.01, 0.04, 0.03], [0.5, 0.2, 0.9]])
    out = adjust_rows(rows, Correction.holm)
    np.testing.assert_allclose(out[0], multipletests(rows[0], method="holm")[1])
    np.testing.assert_allclose(out[1], multipletests(rows[1], method="holm")[1])
