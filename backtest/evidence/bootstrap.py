"""The moving-block bootstrap of daily series (Künsch 1989), vectorised over resamples.

A resample of ``n`` rows is ``ceil(n / L)`` blocks of ``L`` consecutive rows, each starting at a
uniform position in ``0 .. n - L``, joined and cut to ``n`` rows (the last block is shorter when
``L`` does not divide ``n``); block starts come from the generator given, so a resample is the
same as ``arch``'s ``MovingBlockBootstrap`` with that generator (tested draw for draw).
"""

from __future__ import annotations

import numpy as np


def effective_block_length(block_length: int, n: int) -> int:
    """The block length used for ``n`` days: ``min(block_length, n // 2)``, at least 1."""
    return max(1, min(block_length, n // 2))


def block_bootstrap_sums(
    values: np.ndarray, block_length: int, resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """Column sums of ``resamples`` moving-block resamples of the rows of ``values``.

    ``values`` is ``(n,)`` or ``(n, k)``; every column is resampled with the same rows. Returns
    ``(resamples,)`` or ``(resamples, k)``. Block sums come from a cumulative sum, so the cost is
    ``resamples × ceil(n / L) × k``, not ``resamples × n × k``.
    """
    x = np.asarray(values, dtype="float64")
    flat = x.ndim == 1
    x = x.reshape(len(x), -1)
    n = x.shape[0]
    length = effective_block_length(block_length, n)
    blocks = -(-n // length)
    starts = rng.integers(0, n - length + 1, size=(resamples, blocks))
    lengths = np.full(blocks, length)
    lengths[-1] = n - length * (blocks - 1)
    cumulative = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(x, axis=0)])
    sums = (cumulative[starts + lengths] - cumulative[starts]).sum(axis=1)
    out: np.ndarray = sums[:, 0] if flat else sums
    return out


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
