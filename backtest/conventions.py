"""Names of the run's choices, kept free of heavy imports so the CLI can offer them cheaply."""

from __future__ import annotations

from enum import StrEnum


class Rebalance(StrEnum):
    """When a bucket is brought back to its target weights (at that day's close)."""

    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"
    quarterly = "quarterly"
    none = "none"


class Weighting(StrEnum):
    """How target weights are set at each rebalance."""

    equal = "equal"
    custom = "custom"
    inverse_vol = "inverse_vol"


class Correction(StrEnum):
    """How p-values are adjusted across the claims of a run (``--correction``; see
    :mod:`backtest.evidence.multiple`)."""

    holm = "holm"
    bh = "bh"
    none = "none"


RISK_FREE_TICKER = "^IRX"
"""The risk-free-rate proxy read when the price source has it: the 13-week T-bill yield (%)."""


# --- bounds of the options (checked before anything is allocated; stated in --help) -------------

MAX_COST_BPS = 10_000.0
"""Costs are below 10,000 basis points: 100% of a trade's value would leave nothing to hold."""
MIN_RESAMPLES = 100
"""Fewer resamples cannot place a 90% interval's ends (5% of them each side)."""
MAX_RESAMPLES = 100_000
"""Bootstrap resamples per test (memory grows with resamples × blocks)."""
MAX_BLOCK_LENGTH = 1_000
"""Bootstrap block length, trading days (it is cut to half the window anyway)."""
MAX_SEED = 2**32 - 1
MAX_SHIFT = 2_520
"""A sweep's start shift, trading days (ten years)."""
MAX_CHUNK_COLUMNS = 50_000
"""Member columns per simulation in a sweep (each array of one is events × columns)."""
SWEEP_CONFIRM_VARIANTS = 100_000
"""A sweep of more variants than this runs only with ``--yes`` (its memory estimate is shown)."""
DEFAULT_BASKETS = 10_000
"""Random (and matched) baskets per claim (``--baskets``)."""
MAX_BASKETS = 1_000_000
"""Most baskets per claim (``baskets.csv`` holds a row per basket: ~100 bytes each)."""
MAX_WORKERS = 256
"""Most local worker processes (``--workers``)."""
