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
