"""The moving-block bootstrap of daily series (Künsch 1989), vectorised over resamples.

A resample of ``n`` rows is ``ceil(n / L)`` blocks of ``L`` consecutive rows, each starting at a
uniform position in ``0 .. n - L``, joined and cut to ``n`` rows (the last block is shorter when
``L`` does not divide ``n``); block starts come from the generator given, so a resample is the
same as ``arch``'s ``MovingBlockBootstrap`` with that generator (tested draw for draw).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def effective_block_length(block_length: int, n: int) -> int:
    """The block length used for ``n`` days: ``min(block_length, n // 2)``, at least 1."""
    return max(1, min(block_length, n // 2))


def block_bootstrap_sums(
    values: np.ndarray, block_length: int, resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """Column sums of ``resamples`` moving-block resamples of the rows of ``values``.

    ``values`` is ``(n,)`` or ``(n, k)``; every column is resampled with the same rows. Returns
    ``(resamples,)`` or ``(resamples, k)``: :func:`block_sums_from_starts` of the starts
    :func:`block_starts` draws from ``rng``.
    """
    n = np.shape(values)[0]
    return block_sums_from_starts(
        values, block_length, block_starts(n, block_length, resamples, rng)
    )


def block_sums_from_starts(values: np.ndarray, block_length: int, starts: np.ndarray) -> np.ndarray:
    """Column sums of the moving-block resamples whose block starts are ``starts`` (resamples ×
    blocks, from :func:`block_starts` for these rows and block length; not modified).

    Every block's sum is computed once, from a cumulative sum (``c[s + L] - c[s]`` for each start
    ``s``, and with the last block's length), and a resample adds up the sums of its blocks in
    order, so the cost is ``resamples × ceil(n / L) × k``, not ``resamples × n × k``.
    """
    x = np.asarray(values, dtype="float64")
    flat = x.ndim == 1
    x = x.reshape(len(x), -1)
    n = x.shape[0]
    length = effective_block_length(block_length, n)
    blocks = -(-n // length)
    if starts.shape[1] != blocks:
        raise ValueError(f"{starts.shape[1]} block starts per resample for {blocks} blocks")
    rest = n - length * (blocks - 1)
    cumulative = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(x, axis=0)])
    m = n - length + 1  # the possible starts
    full = cumulative[length : length + m] - cumulative[:m]
    last = cumulative[rest : rest + m] - cumulative[:m]
    if flat:  # np.take on a vector: one gather, about twice as fast as indexing twice
        picked = np.take(full[:, 0], starts)
        picked[:, -1] = np.take(last[:, 0], starts[:, -1])
        out: np.ndarray = picked.sum(axis=1)
        return out
    blocks_picked = full[starts]
    blocks_picked[:, -1] = last[starts[:, -1]]
    sums: np.ndarray = blocks_picked.sum(axis=1)
    return sums


def block_bootstrap_mean(values: np.ndarray, block_length: int) -> np.ndarray | float:
    """The exact expected column sums of a moving-block resample (what
    :func:`block_bootstrap_sums` averages to): ``(k - 1) × mean full-block sum + mean sum of a
    block of the last, shorter length``, every start ``0 .. n - L`` equally likely.

    It differs from the sample's sum because blocks cover the first and last ``L - 1`` days less
    often than the others; resampled sums are shifted by the difference (see :func:`excess_test`).
    """
    x = np.asarray(values, dtype="float64")
    flat = x.ndim == 1
    x = x.reshape(len(x), -1)
    n = x.shape[0]
    length = effective_block_length(block_length, n)
    blocks = -(-n // length)
    rest = n - length * (blocks - 1)
    cumulative = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(x, axis=0)])
    starts = np.arange(n - length + 1)
    full = (cumulative[starts + length] - cumulative[starts]).mean(axis=0)
    last = (cumulative[starts + rest] - cumulative[starts]).mean(axis=0)
    mean = (blocks - 1) * full + last
    return float(mean[0]) if flat else mean


def block_starts(n: int, block_length: int, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """The block starts of ``resamples`` resamples of ``n`` rows: ``(resamples, ceil(n / L))``
    integers in ``0 .. n - L`` (``L`` = :func:`effective_block_length`), drawn exactly as
    :func:`block_bootstrap_sums` draws them from the same generator."""
    length = effective_block_length(block_length, n)
    blocks = -(-n // length)
    return rng.integers(0, n - length + 1, size=(resamples, blocks))


def window_bootstrap_sums(
    values: np.ndarray, n: int, block_length: int, starts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Moving-block resample sums of every window of ``n`` consecutive rows of ``values``, all
    resampled with the same block ``starts`` (from :func:`block_starts`; positions inside each
    window).

    Returns ``(sums, sample, mean)``: ``sums`` is ``(windows, resamples)``, row ``w`` the sums
    :func:`block_bootstrap_sums` would give window ``w`` with those starts; ``sample`` the
    windows' own sums; ``mean`` their exact bootstrap means (:func:`block_bootstrap_mean`).
    Window ``w`` holds rows ``w .. w + n - 1``. Each resample is a count of how often it drew each
    start for its full blocks, so the sums of all windows are one matrix product (block sums ×
    counts) plus each resample's last, shorter block, not a loop over windows.
    """
    x = np.asarray(values, dtype="float64")
    windows = len(x) - n + 1
    length = effective_block_length(block_length, n)
    blocks = -(-n // length)
    rest = n - length * (blocks - 1)
    offsets = n - length + 1
    cumulative = np.concatenate([[0.0], np.cumsum(x)])
    at = np.arange(offsets)[:, None] + np.arange(windows)[None, :]
    full = cumulative[at + length] - cumulative[at]  # (offsets, windows)
    last = cumulative[at + rest] - cumulative[at]
    resamples = starts.shape[0]
    # how often each resample drew each start for its full blocks (a flat bincount)
    cells = (np.arange(resamples)[:, None] * offsets + starts[:, :-1]).ravel()
    counts = np.bincount(cells, minlength=resamples * offsets).reshape(resamples, offsets)
    # windows × resamples, so that each window's resamples are contiguous for sorting; its one
    # shorter last block is taken, not multiplied (a one-hot product would add only zeros)
    sums = full.T @ counts.T.astype("float64")
    sums += np.take(np.ascontiguousarray(last.T), starts[:, -1], axis=1)
    sample = cumulative[n : n + windows] - cumulative[:windows]
    mean = (blocks - 1) * full.mean(axis=0) + last.mean(axis=0)
    return sums, sample, mean


def sorted_quantiles(ordered: np.ndarray, q: Sequence[float]) -> np.ndarray:
    """``np.quantile(ordered, q)`` (numpy's default linear interpolation, bit for bit) of draws
    already sorted ascending, without NaN, so that one sort serves an interval and its p-values.

    The steps are numpy's own: virtual index ``v = (n - 1) q``, ``i = floor(v)`` (both ends the
    largest draw when ``v >= n - 1``), ``g = v - i``, and ``a + (b - a) g``, or
    ``b - (b - a)(1 - g)`` when ``g >= 0.5``, with ``a, b`` the ``i``-th and ``i + 1``-th
    smallest draws (a hypothesis test holds it to ``np.quantile``).
    """
    below, above, gamma = quantile_ranks(len(ordered), q)
    return interpolated(ordered[below], ordered[above], gamma)


def quantile_ranks(n: int, q: Sequence[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where numpy's linear quantiles ``q`` of ``n`` values lie: the positions ``below`` and
    ``above`` in the sorted values (``-1``: the largest) and the weight ``gamma`` of ``above``,
    as :func:`sorted_quantiles` says."""
    virtual = (n - 1) * np.asarray(q, dtype="float64")
    below = np.floor(virtual).astype(np.intp)
    above = below + 1
    last = virtual >= n - 1
    below[last] = -1
    above[last] = -1
    gamma = virtual - below
    return below, above, gamma


def interpolated(a: np.ndarray, b: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """numpy's linear interpolation between order statistics ``a`` and ``b``:
    ``a + (b - a) g``, or ``b - (b - a)(1 - g)`` when ``g >= 0.5``."""
    diff = b - a
    out: np.ndarray = np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)
    return out


def excess_quantiles(
    sums: np.ndarray, q: Sequence[float], mean: np.ndarray, sample: np.ndarray
) -> np.ndarray:
    """Per window, numpy's linear quantiles ``q`` of ``expm1(sums - mean + sample)`` bit for bit
    (``sums``: windows × resamples, as :func:`window_bootstrap_sums` returns them with ``mean``
    and ``sample``), taking ``expm1`` of four values per window, not of every resample.

    Each rounded step of ``f(s) = expm1(s - mean + sample)`` is non-decreasing, so the ``k``-th
    smallest ``f(s)`` of a window is ``f`` of its ``k``-th smallest sum: the sums are sorted per
    window, and ``f`` and numpy's interpolation are applied to the two order statistics around
    each level. Returns ``(len(q), windows)``.
    """
    below, above, gamma = quantile_ranks(sums.shape[1], q)
    ordered = np.sort(sums, axis=1)
    a = np.expm1(ordered[:, below] - mean[:, None] + sample[:, None])
    b = np.expm1(ordered[:, above] - mean[:, None] + sample[:, None])
    return interpolated(a, b, gamma).T


def quantile_p_values(draws: np.ndarray, level: float) -> tuple[float, float]:
    """One-sided bootstrap p-values of ``draws`` against ``level``, defined so that they agree
    exactly with numpy's linear quantiles of the same draws.

    With ``Q(a)`` the linear-interpolation quantile function of the draws (numpy's default,
    ``Q(i / (R - 1))`` = the i-th smallest draw):

    * ``p_above = sup {a : Q(a) <= level}`` — about the share of draws at or below ``level``;
      ``p_above < a`` exactly when ``Q(a) > level`` (the interval's lower end lies above it);
    * ``p_below = 1 - inf {a : Q(a) >= level}`` — about the share at or above ``level``;
      ``p_below < a`` exactly when ``Q(1 - a) < level``.

    ("Exactly" up to floating-point rounding: at a level equal to an interval's end the p-value
    is that end's quantile level, give or take 1e-16.)
    """
    return sorted_p_values(np.sort(np.asarray(draws, dtype="float64")), level)


def sorted_p_values(d: np.ndarray, level: float) -> tuple[float, float]:
    """:func:`quantile_p_values` of draws already sorted ascending."""
    r = len(d)
    at_most = int(np.searchsorted(d, level, side="right"))
    if at_most == 0:
        p_above = 0.0
    elif at_most == r:
        p_above = 1.0
    else:
        i = at_most - 1
        p_above = (i + (level - d[i]) / (d[i + 1] - d[i])) / (r - 1)
    below = int(np.searchsorted(d, level, side="left"))
    if below == 0:
        p_below = 1.0
    elif below == r:
        p_below = 0.0
    else:
        i = below - 1
        p_below = 1.0 - (i + (level - d[i]) / (d[i + 1] - d[i])) / (r - 1)
    return float(p_above), float(p_below)


BLOCK_LENGTH_FLOOR = 5
"""Shortest automatic block length: daily returns carry a week of dependence at least."""


def politis_white_block_length(values: np.ndarray) -> float:
    """The Politis–White (2004, corrected by Patton, Politis and White 2009) optimal block length
    of a series, as :func:`arch.bootstrap.optimal_block_length` estimates it: its ``circular``
    column, which is the moving-block bootstrap's optimal length too (both have the same bias and
    variance constants). :func:`politis_white_lengths` computes it."""
    return politis_white_lengths(np.asarray(values, dtype="float64"))[1]


def politis_white_lengths(x: np.ndarray) -> tuple[float, float]:
    """The stationary and circular bootstrap's optimal block lengths of the series ``x`` (days),
    by arch's own steps: arch 8.0's ``arch.bootstrap.base._single_optimal_block``, the function
    its ``optimal_block_length`` calls for each column, transcribed line for line (the same
    operations in the same order, so the same bits; ``tests/backtest/test_bootstrap.py`` holds
    the two equal on random and real series).

    The steps: demean ``x`` (``n`` days); find the first lag ``m̂`` after which ``K_N = max(5,
    int(log10 n))`` autocorrelations in a row are below ``2 √(log10 n / n)``, searching up to
    ``M = ⌈√n⌉ + K_N``; with ``m = min(2 max(m̂, 1), M)`` (``M`` when there is none) take the
    flat-top (trapezoid) weights ``λ(k / m)`` and ``G = Σ 2 λ k γ_k``, ``σ² = γ_0 + Σ 2 λ γ_k``;
    then ``b = (2 G² / D)^{1/3} n^{1/3}`` with ``D = 2 σ⁴`` (stationary) or ``4/3 σ⁴``
    (circular), each capped at ``⌈min(3 √n, n / 3)⌉``.

    Why a transcription and not a call: ``import arch`` runs arch's package ``__init__``, which
    imports its univariate models and with them scipy.stats, statsmodels, matplotlib and numba:
    ~1.0 s on the machine the README's Performance table comes from. The run's weekly history is
    otherwise free of all four, and the estimate itself takes 0.1 ms.

    The steps below are arch's: Copyright (c) 2017 Kevin Sheppard. All rights reserved. Under the
    University of Illinois/NCSA Open Source License, whose conditions and disclaimers are in
    ``LICENSE-arch.md`` beside this module. arch itself is a development dependency: the
    reference the tests hold this copy and the bootstrap's draws to."""
    nobs = x.shape[0]
    eps = x - x.mean(0)
    b_max = np.ceil(min(3 * np.sqrt(nobs), nobs / 3))
    kn = max(5, int(np.log10(nobs)))
    m_max = int(np.ceil(np.sqrt(nobs))) + kn
    cv = 2 * np.sqrt(np.log10(nobs) / nobs)  # first kn insignificant autocorrelations in a row
    acv = np.zeros(m_max + 1)
    abs_acorr = np.zeros(m_max + 1)
    opt_m: int | None = None
    for i in range(m_max + 1):
        v1 = eps[i + 1 :] @ eps[i + 1 :]
        v2 = eps[: -(i + 1)] @ eps[: -(i + 1)]
        cross_prod = eps[i:] @ eps[: nobs - i]
        acv[i] = cross_prod / nobs
        abs_acorr[i] = np.abs(cross_prod) / np.sqrt(v1 * v2)
        if i >= kn and np.all(abs_acorr[i - kn : i] < cv) and opt_m is None:
            opt_m = i - kn
    m = 2 * max(opt_m, 1) if opt_m is not None else m_max
    m = min(m, m_max)

    g = 0.0
    lr_acv = acv[0]
    for k in range(1, m + 1):
        lam = 1 if k / m <= 1 / 2 else 2 * (1 - k / m)
        g += 2 * lam * k * acv[k]
        lr_acv += 2 * lam * acv[k]
    d_sb = 2 * lr_acv**2
    d_cb = 4 / 3 * lr_acv**2
    b_sb = ((2 * g**2) / d_sb) ** (1 / 3) * nobs ** (1 / 3)
    b_cb = ((2 * g**2) / d_cb) ** (1 / 3) * nobs ** (1 / 3)
    return float(min(b_sb, b_max)), float(min(b_cb, b_max))


def automatic_block_length(estimate: float, n: int) -> int:
    """An estimate rounded and kept within ``[5, n // 4]`` (``n // 4`` wins when it is smaller)."""
    high = max(1, n // 4)
    rounded = round(estimate) if np.isfinite(estimate) else BLOCK_LENGTH_FLOOR
    return int(min(high, max(BLOCK_LENGTH_FLOOR, rounded)))
