"""Means over seeds with 95% intervals, paired differences between two strategies, and the
verdict a difference carries.

A strategy's score on one seed depends on that seed's phantoms and training draw far more
than on the strategy when two strategies are close; scoring both on the same seeds and
taking the per-seed difference removes what the seed shares. The interval is Student's t
on the per-seed values (the differences, for a paired comparison): with few seeds a
bootstrap cannot reach 95% coverage (five values have only 126 distinct resamples), the
t-interval does when the values are roughly normal.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ipv2.errors import InputError

CONFIDENCE = 0.95
WINS, LOSES, TIES = "wins", "loses", "ties"


@dataclass(frozen=True)
class Interval:
    """Mean of `count` values and its two-sided interval; `low` and `high` are NaN for one value."""

    mean: float
    low: float
    high: float
    count: int

    def as_dict(self) -> dict:
        return {"mean": self.mean, "low": self.low, "high": self.high, "count": self.count}


def _values(values: Sequence[float], what: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0:
        raise InputError(f"{what}: give a non-empty list of numbers")
    if not np.all(np.isfinite(array)):
        raise InputError(f"{what}: every value must be finite, got {array.tolist()}")
    return array


def mean_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> Interval:
    """The mean and its Student-t interval over independent values (seeds)."""
    if not 0.0 < confidence < 1.0:
        raise InputError(f"confidence {confidence} must lie strictly between 0 and 1")
    array = _values(values, "values")
    mean = float(array.mean())
    if array.size < 2:
        return Interval(mean, math.nan, math.nan, 1)
    half = float(stats.t.ppf(0.5 + confidence / 2.0, array.size - 1) * array.std(ddof=1) / math.sqrt(array.size))
    return Interval(mean, mean - half, mean + half, int(array.size))


def paired_difference(ours: Sequence[float], theirs: Sequence[float], confidence: float = CONFIDENCE) -> Interval:
    """`ours - theirs`, seed by seed, with the interval of its mean."""
    ours_array, theirs_array = _values(ours, "ours"), _values(theirs, "theirs")
    if ours_array.shape != theirs_array.shape:
        raise InputError(
            f"a paired difference needs one value per seed on both sides, got {ours_array.size} and {theirs_array.size}"
        )
    return mean_interval(ours_array - theirs_array, confidence)


def verdict(difference: Interval, lower_is_better: bool = True, negligible: float = 0.0) -> str:
    """WINS where the interval of `ours - theirs` excludes zero in our favour, LOSES where it
    excludes zero against us, TIES otherwise (and always with one seed: no interval).

    `negligible` widens zero to [-negligible, negligible]: two runs that differ only in the
    last bits of their floating point (the same network reached by two routes) give an
    interval of width zero off zero by 1e-9, which is no difference worth a verdict."""
    if negligible < 0.0:
        raise InputError(f"negligible {negligible} must be 0 or more")
    if not (difference.low > negligible or difference.high < -negligible):
        return TIES
    better = difference.high < 0.0 if lower_is_better else difference.low > 0.0
    return WINS if better else LOSES
