"""SSIM as a reader sees the images: inside a display window.

Both images are mapped through the window (HU clipped to [level - width/2, level + width/2]
and scaled to [0, 1], black to white, as the figures show them), and the slice-wise SSIM
map of `metrics.ssim_map` is computed with data range 1, which is the window's width in HU.
The grey levels start at the window's black end, not at 0 HU, because SSIM's luminance term
depends on where zero lies: this is the SSIM of the images a reader looks at.
Differences outside the window (bone in the lung window, air in the soft-tissue window) do
not count, and a difference of a few HU weighs as much as it shows. The map is averaged
inside the region: the lung for the lung window, the body for the soft-tissue window.
"""

from __future__ import annotations

import numpy as np

from ipv2.display import LUNG_WINDOW, MEDIASTINAL_WINDOW, Window
from ipv2.errors import InputError
from ipv2.evaluate import metrics

SSIM_WINDOWS = {"lung": LUNG_WINDOW, "soft": MEDIASTINAL_WINDOW}


def ssim_window(window: str) -> Window:
    if window not in SSIM_WINDOWS:
        raise InputError(f"SSIM window: '{window}' is not one of {', '.join(SSIM_WINDOWS)}")
    return SSIM_WINDOWS[window]


def windowed_ssim_map(prediction: np.ndarray, reference: np.ndarray, window: str) -> np.ndarray:
    """The slice-wise SSIM map of the two images seen through the named window."""
    display = ssim_window(window)
    return metrics.ssim_map(display.normalised(prediction), display.normalised(reference), data_range=1.0)


def windowed_ssim(
    prediction: np.ndarray, reference: np.ndarray, region: np.ndarray | None, window: str
) -> float | None:
    """Mean windowed SSIM inside `region` ((z, y, x) HU arrays, a boolean mask or None for
    every voxel); window is "lung" or "soft". None when the region is empty."""
    ssim_window(window)
    if np.shape(prediction) != np.shape(reference):
        raise InputError(f"windowed SSIM: shapes differ: {np.shape(prediction)} against {np.shape(reference)}")
    if region is not None and np.shape(region) != np.shape(reference):
        raise InputError(
            f"windowed SSIM: the region's shape {np.shape(region)} differs from the images' {np.shape(reference)}"
        )
    if np.ndim(reference) not in (2, 3) or min(np.shape(reference)[-2:]) < metrics.SSIM_MIN_SIDE:
        raise InputError(
            f"windowed SSIM: (z, y, x) volumes with slices of at least {metrics.SSIM_MIN_SIDE}x"
            f"{metrics.SSIM_MIN_SIDE} pixels are needed, got shape {np.shape(reference)}"
        )
    for name, image in (("prediction", prediction), ("reference", reference)):
        if not np.all(np.isfinite(image)):
            raise InputError(f"windowed SSIM: the {name} holds NaN or infinite values")
    if region is not None and not np.any(region):
        return None
    return metrics.masked_mean(windowed_ssim_map(prediction, reference, window), region)
