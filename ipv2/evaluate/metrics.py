"""Fidelity metrics in Hounsfield units, over a whole volume or inside a region mask.

RMSE and PSNR use only the voxels inside the mask. SSIM is local: its map is computed on
each axial slice over the whole image (so windows near a region's edge see their true
neighbourhood) and then averaged inside the mask. Slices, not 3D windows, because CT
slices are usually much thicker than their pixels are wide, and because the method and its
published figures work slice by slice.
"""

from __future__ import annotations

import numpy as np
from skimage.metrics import structural_similarity

# The span from air (-1000 HU) to dense bone (+1000 HU): a range that does not depend on
# the label, so figures from different scans and different labels can be compared.
FIXED_DATA_RANGE_HU = 2000.0

# Wang et al. (2004): an 11x11 Gaussian window (sigma 1.5) with population statistics.
SSIM_SETTINGS = {"gaussian_weights": True, "sigma": 1.5, "use_sample_covariance": False}
SSIM_MIN_SIDE = 11


def _selected(array: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    values = np.asarray(array, dtype=np.float64)
    return values.ravel() if mask is None else values[np.asarray(mask, dtype=bool)]


def rmse(prediction: np.ndarray, reference: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Root mean squared error in the units of the inputs (HU); NaN for an empty mask."""
    difference = _selected(prediction, mask) - _selected(reference, mask)
    if difference.size == 0:
        return float("nan")
    return float(np.sqrt(np.mean(difference**2)))


def mae(prediction: np.ndarray, reference: np.ndarray, mask: np.ndarray | None = None) -> float:
    difference = _selected(prediction, mask) - _selected(reference, mask)
    if difference.size == 0:
        return float("nan")
    return float(np.mean(np.abs(difference)))


def psnr_from_rmse(error: float, data_range: float) -> float:
    """20 log10(range / RMSE) in dB; infinite for a perfect match."""
    if not np.isfinite(error):
        return float("nan")
    if error == 0:
        return float("inf")
    return float(20.0 * np.log10(data_range / error))


def psnr(
    prediction: np.ndarray,
    reference: np.ndarray,
    data_range: float = FIXED_DATA_RANGE_HU,
    mask: np.ndarray | None = None,
) -> float:
    return psnr_from_rmse(rmse(prediction, reference, mask), data_range)


def ssim_map(prediction: np.ndarray, reference: np.ndarray, data_range: float = FIXED_DATA_RANGE_HU) -> np.ndarray:
    """The SSIM map of each axial slice of (z, y, x) volumes (or of one (y, x) slice)."""
    prediction = np.asarray(prediction, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    if prediction.shape != reference.shape:
        raise ValueError(f"shapes differ: {prediction.shape} against {reference.shape}")
    if prediction.ndim == 2:
        return ssim_map(prediction[None], reference[None], data_range)[0]
    if min(prediction.shape[1:]) < SSIM_MIN_SIDE:
        raise ValueError(
            f"slices of {prediction.shape[1:]} pixels are smaller than the SSIM window "
            f"({SSIM_MIN_SIDE}x{SSIM_MIN_SIDE})"
        )
    maps = np.empty(prediction.shape, dtype=np.float64)
    for index in range(prediction.shape[0]):
        _, maps[index] = structural_similarity(
            prediction[index], reference[index], data_range=data_range, full=True, **SSIM_SETTINGS
        )
    return maps


def masked_mean(values: np.ndarray, mask: np.ndarray | None = None) -> float:
    selected = _selected(values, mask)
    return float(selected.mean()) if selected.size else float("nan")


def ssim(
    prediction: np.ndarray,
    reference: np.ndarray,
    data_range: float = FIXED_DATA_RANGE_HU,
    mask: np.ndarray | None = None,
) -> float:
    """Mean slice-wise SSIM inside the mask (over every voxel without one)."""
    return masked_mean(ssim_map(prediction, reference, data_range), mask)
