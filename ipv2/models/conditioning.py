"""Noise-level conditioning: the network is told how noisy its input is, and how hard to denoise.

One network serves every dose when it sees the noise level beside the image (as FFDNet,
Zhang et al. 2018, does): a constant channel `sigma / scale_hu` where `sigma` is the
slice's noise standard deviation in HU, measured in its flat soft tissue
(`ipv2.weak.noise_level.slice_noise_levels`, which the classical denoisers use too).
Trained on pairs whose noise runs from full dose to 1%, the network learns what to remove
at each level. The network is always told the level measured: scaling it to set a strength
saturated (every noisy input got the same maximal smoothing), so the strength control acts
on the result instead (`ipv2.denoise.strength`).

The noise map is channel 0: every model adds its correction to the centre channel
`C // 2`, which with `C = 2 + 2k` channels (map, then 2k + 1 slices) is still the centre
slice, so any registered architecture takes the map unchanged.

Contract: `slice_noise_levels(array)` is a pure function of the slices; training and
inference both call it, so a network always sees the figure it was trained with.
"""

from __future__ import annotations

import numpy as np

from ipv2.weak.noise_level import slice_noise_levels

__all__ = ["NOISE_SCALE_HU", "noise_map", "slice_noise_levels"]

NOISE_SCALE_HU = 100.0


def noise_map(levels_hu: np.ndarray, height: int, width: int, scale_hu: float = NOISE_SCALE_HU) -> np.ndarray:
    """The conditioning channel (B, 1, H, W) for per-item noise levels in HU."""
    levels = np.asarray(levels_hu, dtype=np.float32).reshape(-1, 1, 1, 1) / np.float32(scale_hu)
    return np.broadcast_to(levels, (levels.shape[0], 1, height, width))
