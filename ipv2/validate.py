"""Checks on user inputs, each failing with one message that names the input and the problem."""

from __future__ import annotations

import numpy as np

from ipv2.errors import InputError
from ipv2.volume import Volume

# Scanners pad outside the reconstruction circle with -1024, -2048 or -3024 HU; dense metal
# saturates near 30000. Anything outside that range is not Hounsfield units.
HU_MIN_PLAUSIBLE = -3100.0
HU_MAX_PLAUSIBLE = 32767.0
AIR_BELOW_HU = -500.0
MIN_AIR_FRACTION = 0.001


def require_volume(volume: Volume, name: str) -> None:
    """A 3D, non-empty, finite, non-constant array."""
    array = volume.array
    if array.ndim != 3:
        raise InputError(f"{name}: a 3D volume is needed, but the image is {array.ndim}D with shape {array.shape}")
    if array.size == 0 or min(array.shape) == 0:
        raise InputError(f"{name}: the volume is empty (shape {array.shape})")
    if array.shape[1] < 8 or array.shape[2] < 8:
        raise InputError(f"{name}: slices of {array.shape[1]}x{array.shape[2]} pixels are too small (at least 8x8)")
    if not np.issubdtype(array.dtype, np.number):
        raise InputError(f"{name}: voxel type {array.dtype} is not numeric")
    if np.issubdtype(array.dtype, np.floating):
        bad = np.count_nonzero(~np.isfinite(array))
        if bad:
            raise InputError(f"{name}: {bad} voxels are NaN or infinite")
    spacing = np.asarray(volume.spacing, dtype=float)
    if not np.all(np.isfinite(spacing)) or np.any(spacing <= 0):
        raise InputError(f"{name}: voxel spacing {tuple(spacing)} must be positive")
    lo, hi = float(array.min()), float(array.max())
    if lo == hi:
        raise InputError(f"{name}: every voxel has the same value ({lo:g}); the image is blank")


def require_ct(volume: Volume, name: str) -> None:
    """A volume whose intensities are CT Hounsfield units: some air, nothing out of range."""
    require_volume(volume, name)
    array = volume.array
    lo, hi = float(array.min()), float(array.max())
    if lo < HU_MIN_PLAUSIBLE or hi > HU_MAX_PLAUSIBLE:
        raise InputError(
            f"{name}: intensities {lo:g}..{hi:g} are outside the range of CT Hounsfield units "
            f"({HU_MIN_PLAUSIBLE:g}..{HU_MAX_PLAUSIBLE:g}); is the rescale slope/intercept missing?")
    air_fraction = np.count_nonzero(array < AIR_BELOW_HU) / array.size
    if air_fraction < MIN_AIR_FRACTION:
        raise InputError(
            f"{name}: intensities {lo:g}..{hi:g} do not look like a chest CT in Hounsfield units "
            f"(no air below {AIR_BELOW_HU:g} HU); give a CT scan, not an MR or an 8-bit image")


def require_pair(lq: Volume, gt: Volume, lq_name: str = "uLDCT", gt_name: str = "NDCT") -> None:
    """Both CT volumes, on the same voxel grid (their origins may differ: two scans)."""
    require_ct(lq, lq_name)
    require_ct(gt, gt_name)
    require_same_grid(lq, gt, lq_name, gt_name)


def require_same_grid(volume: Volume, other: Volume, name: str, other_name: str) -> None:
    """Same size, spacing and orientation, so that voxel (k, j, i) of one is voxel (k, j, i) of
    the other; origins may differ (two scans of one patient)."""
    if volume.shape != other.shape:
        raise InputError(f"{name} and {other_name} differ in size: {volume.shape} against {other.shape} (z, y, x); "
                         "resample one onto the other's grid first")
    if not np.allclose(volume.spacing, other.spacing, rtol=1e-3):
        raise InputError(f"{name} and {other_name} differ in voxel spacing: {volume.spacing} against "
                         f"{other.spacing} mm")
    if not np.allclose(volume.direction, other.direction, atol=1e-4):
        raise InputError(f"{name} and {other_name} differ in orientation: direction {volume.direction} against "
                         f"{other.direction}")


def require_dose(dose: float) -> float:
    dose = float(dose)
    if not np.isfinite(dose) or not 0.0 < dose <= 1.0:
        raise InputError(f"dose fraction {dose:g} must be in (0, 1], e.g. 0.02 for 2% of the normal dose")
    return dose
