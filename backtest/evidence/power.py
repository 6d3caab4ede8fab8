"""What the data could have detected: the minimum detectable effect of a claim's window, and how
long until the observed effect, if it continues, becomes detectable.

Everything is read off the claim's own bootstrap. Let ``S0`` be its resampled sums of daily
excess log returns, centred on 0 (resampled sum − the bootstrap mean), ``Q`` their quantiles,
``c`` the one-sided level of the verdict rule ((1 − confidence) / 2, 5% for a 90% interval),
``π`` the power (80%) and ``ℓ = ln(1 + level)`` the claim's level in log terms.

* A **bootstrap world** with a constant excess ``Δ`` (in log terms, spread evenly over the days)
  has total ``Δ + S0*``, with ``S0*`` one draw of ``S0``: the window's own volatility, dependence
  and length. The rule calls it ``supported`` when its interval's lower end,
  ``Δ + S0* + Q(c)`` (the interval's width as in the window), lies above ``ℓ``. That happens in
  ``π`` of the worlds when ``Δ = ℓ − Q(c) − Q(1 − π)``: the **smallest effect detectable as
  support**; likewise ``Δ = ℓ − Q(1 − c) − Q(π)`` is the largest detectable as refutation.
  Both are reported as excess returns, ``exp(Δ) − 1``. For normal sums this is the textbook
  ``ℓ ± (z_{1−c} + z_π) × σ``.
* **Further days**: the observed mean daily excess log return ``μ`` continuing for ``N`` days
  gives ``μN``, while the spread of the sums grows as ``√(N / n)``. The effect becomes
  detectable (as support when ``μ > 0``, as refutation when ``μ < 0``) at the smallest ``N``
  with ``μN − ℓ ≥ (−Q(c) − Q(1 − π)) √(N / n)`` (support), or
  ``ℓ − μN ≥ (Q(1 − c) + Q(π)) √(N / n)`` (refutation): a quadratic in ``√N``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

POWER = 0.80
MAX_DAYS = 2520
"""Ten years of trading days: beyond that, "further days" is reported as out of reach."""


@dataclass(frozen=True)
class Detectable:
    """The smallest excess the rule calls supported (``above``) and the largest it calls refuted
    (``below``) in ``power`` of the bootstrap worlds, as excess returns."""

    above: float
    below: float


def detectable_effects(
    centred: np.ndarray, level: float, confidence: float, power: float = POWER
) -> Detectable:
    """The minimum detectable effects of a window (module docstring), from its centred
    resampled log sums ``centred`` and its level (an excess return)."""
    c = (1 - confidence) / 2
    q_lo, q_hi, q_miss, q_hit = np.quantile(centred, [c, 1 - c, 1 - power, power])
    ell = math.log1p(level)
    return Detectable(
        above=math.expm1(ell - q_lo - q_miss),
        below=math.expm1(ell - q_hi - q_hit),
    )


@dataclass(frozen=True)
class DaysToDetect:
    """Trading days in all (``days``) for the observed rate to become detectable, and as which
    verdict (``side``); ``days`` is None when it never does, or not within ``MAX_DAYS``."""

    side: str | None
    days: int | None
    reason: str | None = None


def days_to_detect(
    centred: np.ndarray,
    total: float,
    n: int,
    level: float,
    confidence: float,
    power: float = POWER,
) -> DaysToDetect:
    """How many trading days the window would need for its observed effect (``total`` log
    excess over ``n`` days, continuing at ``total / n`` a day) to be detectable (module
    docstring)."""
    mu = total / n
    if mu == 0:
        return DaysToDetect(None, None, "the observed excess is exactly zero")
    c = (1 - confidence) / 2
    q_lo, q_hi, q_miss, q_hit = np.quantile(centred, [c, 1 - c, 1 - power, power])
    ell = math.log1p(level)
    if mu > 0:
        side, rate, spread, need = "supported", mu, -q_lo - q_miss, ell
    else:
        side, rate, spread, need = "refuted", -mu, q_hi + q_hit, -ell
    # rate × u² − (spread / √n) × u − need ≥ 0 with u = √N
    b = spread / math.sqrt(n)
    disc = b * b + 4 * rate * need
    if disc < 0:  # holds at every length
        return DaysToDetect(side, 1)
    u = (b + math.sqrt(disc)) / (2 * rate)
    days = max(1, math.ceil(u * u - 1e-9))
    if days > MAX_DAYS:
        return DaysToDetect(
            side, None, f"more than {MAX_DAYS // 252} years of data at the observed rate"
        )
    return DaysToDetect(side, days)
