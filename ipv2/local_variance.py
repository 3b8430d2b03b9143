"""Local mean and variance in a square in-plane window, the measure both noise figures use.

For each voxel, over the `window` x `window` neighbourhood in its own slice (n = window^2
voxels, the image mirrored at its borders):

    mean     = (1/n) sum x
    variance = (E[x^2] - mean^2) * n / (n - 1)      (unbiased; clipped at 0 for rounding)

Two box filters give both for the whole volume at once. Used by the evaluation's noise in
flat regions (`ipv2.evaluate.flat_region_noise`) and the noise level that sets the
denoisers' strength (`ipv2.weak.noise_level`).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def local_mean_and_variance(values: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and unbiased variance of each voxel's window x window in-plane neighbourhood (float64).

    `values` is a slice (H, W) or a stack of slices (z, y, x); slices never mix.
    """
    values = np.asarray(values, dtype=np.float64)
    size = (1, window, window) if values.ndim == 3 else (window, window)
    mean = ndimage.uniform_filter(values, size=size, mode="reflect")
    mean_of_squares = ndimage.uniform_filter(values * values, size=size, mode="reflect")
    count = window * window
    return mean, np.maximum(mean_of_squares - mean * mean, 0.0) * count / (count - 1)


def local_variance(values: np.ndarray, window: int) -> np.ndarray:
    """The variance half of `local_mean_and_variance`."""
    return local_mean_and_variance(values, window)[1]
