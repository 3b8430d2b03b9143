"""Noise-level conditioning: the network is told how noisy its input is, and how hard to denoise.

One network serves every dose when it sees the noise level beside the image (as FFDNet,
Zhang et al. 2018, does): a constant channel `sigma * strength / scale_hu` where `sigma` is
the slice's noise standard deviation in HU, measured in its flat soft tissue
(`ipv2.weak.noise_level.slice_noise_levels`, which the classical denoisers use too), and `strength` the user's choice. Trained on pairs whose noise runs
from full dose to 1%, the network learns what to remove at each level; at inference a
larger strength asks for the result of a noisier input (smoother), a smaller one for less.

The noise map is channel 0: every model adds its correction to the centre channel
`C // 2`, which with `C = 2 + 2k` channels (map, then 2k + 1 slices) is still the centre
slice, so any registered architecture takes the map unchanged.

Contract: `slice_noise_levels(array)` is a pure function of the slices; training and
inference both call it, so a network always sees the figure it was trained with.
"""

from __future__ import annotations

from typing import Union

import numpy as np

from ipv2.errors import InputError
from ipv2.weak.noise_level import slice_noise_levels

__all__ = ["DEFAULT_STRENGTH", "NOISE_SCALE_HU", "STRENGTHS", "STRENGTH_RANGE", "noise_map", "slice_noise_levels",
           "strength_factor"]

NOISE_SCALE_HU = 100.0
STRENGTHS = {"low": 0.6, "medium": 1.0, "high": 1.5}
STRENGTH_RANGE = (0.25, 3.0)
DEFAULT_STRENGTH = "medium"


def strength_factor(strength: Union[str, float, None]) -> float:
    """`low`, `medium`, `high` or a number in STRENGTH_RANGE, as the factor on the noise level."""
    if strength is None:
        return STRENGTHS[DEFAULT_STRENGTH]
    if isinstance(strength, str):
        key = strength.strip().lower()
        if key in STRENGTHS:
            return STRENGTHS[key]
        try:
            strength = float(key)
        except ValueError:
            raise InputError(f"strength '{strength}' is unknown; choose {', '.join(STRENGTHS)} or a number "
                             f"from {STRENGTH_RANGE[0]:g} to {STRENGTH_RANGE[1]:g}") from None
    value = float(strength)
    if not (STRENGTH_RANGE[0] <= value <= STRENGTH_RANGE[1]):
        raise InputError(f"strength {value:g} is outside {STRENGTH_RANGE[0]:g}..{STRENGTH_RANGE[1]:g}")
    return value


def noise_map(levels_hu: np.ndarray, height: int, width: int, scale_hu: float = NOISE_SCALE_HU) -> np.ndarray:
    """The conditioning channel (B, 1, H, W) for per-item noise levels in HU."""
    levels = np.asarray(levels_hu, dtype=np.float32).reshape(-1, 1, 1, 1) / np.float32(scale_hu)
    return np.broadcast_to(levels, (levels.shape[0], 1, height, width))
