"""Checks on user inputs, each failing with one message that names the input and the problem."""

from __future__ import annotations

import json

import numpy as np

from ipv2.contract import NETWORKS
from ipv2.errors import InputError, require_choice
from ipv2.volume import Volume

# Scanners pad outside the reconstruction circle with -1024, -2048 or -3024 HU; dense metal
# saturates near 30000. Anything outside that range is not Hounsfield units.
HU_MIN_PLAUSIBLE = -3100.0
HU_MAX_PLAUSIBLE = 32767.0
AIR_BELOW_HU = -500.0
MIN_AIR_FRACTION = 0.001


def require_image_array(array: np.ndarray, name: str) -> None:
    """A 3D, non-empty, finite array of integers or floats whose slices are at least 8x8."""
    if array.ndim != 3:
        raise InputError(f"{name}: a 3D volume is needed, but the image is {array.ndim}D with shape {array.shape}")
    if array.size == 0 or min(array.shape) == 0:
        raise InputError(f"{name}: the volume is empty (shape {array.shape})")
    if array.shape[1] < 8 or array.shape[2] < 8:
        raise InputError(f"{name}: slices of {array.shape[1]}x{array.shape[2]} pixels are too small (at least 8x8)")
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise InputError(f"{name}: voxel type {array.dtype} is not numeric")
    if np.issubdtype(array.dtype, np.floating):
        bad = np.count_nonzero(~np.isfinite(array))
        if bad:
            raise InputError(f"{name}: {bad} voxels are NaN or infinite")


def require_spacing(spacing, name: str = "spacing") -> tuple[float, float, float]:
    """Three positive, finite voxel sizes in mm, (sx, sy, sz)."""
    try:
        values = tuple(float(s) for s in spacing)
    except (TypeError, ValueError):
        raise InputError(f"{name}: three sizes in mm are needed (sx, sy, sz), got {spacing!r}") from None
    if len(values) != 3 or not all(np.isfinite(v) and v > 0 for v in values):
        raise InputError(f"{name}: three positive sizes in mm are needed (sx, sy, sz), got {spacing!r}")
    return values


def require_volume(volume: Volume, name: str) -> None:
    """A 3D, non-empty, finite, non-constant array."""
    array = volume.array
    require_image_array(array, name)
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
            f"({HU_MIN_PLAUSIBLE:g}..{HU_MAX_PLAUSIBLE:g}); is the rescale slope/intercept missing?"
        )
    air_fraction = np.count_nonzero(array < AIR_BELOW_HU) / array.size
    if air_fraction < MIN_AIR_FRACTION:
        raise InputError(
            f"{name}: intensities {lo:g}..{hi:g} do not look like a chest CT in Hounsfield units "
            f"(no air below {AIR_BELOW_HU:g} HU); give a CT scan, not an MR or an 8-bit image"
        )


def require_soft_tissue(volume: Volume, name: str) -> None:
    """Soft tissue to measure the noise level in (`ipv2.weak.noise_level`), where a radiologist
    judges it: an all-air crop has none, and its air, clipped at one value, shows no noise."""
    from ipv2.weak.noise_level import SOFT_TISSUE_HU

    array = volume.array
    if not np.any((array > SOFT_TISSUE_HU[0]) & (array < SOFT_TISSUE_HU[1])):
        raise InputError(
            f"{name}: no soft tissue ({SOFT_TISSUE_HU[0]:g}..{SOFT_TISSUE_HU[1]:g} HU) to measure the "
            "noise level in (an all-air crop?); give it with --sigma"
        )


def require_pair(lq: Volume, gt: Volume, lq_name: str = "uLDCT", gt_name: str = "NDCT") -> None:
    """Both CT volumes, on the same voxel grid (their origins may differ: two scans)."""
    require_ct(lq, lq_name)
    require_ct(gt, gt_name)
    require_same_grid(lq, gt, lq_name, gt_name)


def require_same_grid(volume: Volume, other: Volume, name: str, other_name: str) -> None:
    """Same size, spacing and orientation, so that voxel (k, j, i) of one is voxel (k, j, i) of
    the other; origins may differ (two scans of one patient)."""
    require_same_shape(volume.shape, other.shape, name, other_name)
    if not np.allclose(volume.spacing, other.spacing, rtol=1e-3):
        raise InputError(
            f"{name} and {other_name} differ in voxel spacing: {volume.spacing} against {other.spacing} mm"
        )
    if not np.allclose(volume.direction, other.direction, atol=1e-4):
        raise InputError(
            f"{name} and {other_name} differ in orientation: direction {volume.direction} against {other.direction}"
        )


def require_same_shape(shape: tuple, other_shape: tuple, name: str, other_name: str) -> None:
    """Arrays of one size (z, y, x), voxel for voxel."""
    if tuple(shape) != tuple(other_shape):
        raise InputError(
            f"{name} and {other_name} differ in size: {tuple(shape)} against {tuple(other_shape)} (z, y, x); "
            "resample one onto the other's grid first"
        )


def require_dose(dose: float, name: str = "dose fraction") -> float:
    """A dose as a fraction of the normal dose, in (0, 1]; `name` is how the message calls it."""
    dose = float(dose)
    if not np.isfinite(dose) or not 0.0 < dose <= 1.0:
        raise InputError(f"{name} {dose:g} must be in (0, 1], e.g. 0.02 for 2% of the normal dose")
    return dose


# The arguments each architecture of ipv2.contract.NETWORKS takes, and the values a user or a checkpoint may give them:
# (type, lowest, highest) and for lists their length range. The bounds keep a network within a
# few hundred million parameters whatever a file claims; a checkpoint must also match its tensors.
MAX_WIDTH = 1024
ARCH_ARGS = {
    "unet": ("widths",),
    "redcnn": ("width", "kernel_size"),
    "dncnn": ("depth", "width", "batch_norm"),
    "restormer": ("width", "blocks", "heads", "refinement_blocks", "expansion"),
}
ARG_RULES = {
    "widths": ("ints", 1, MAX_WIDTH, (2, 6)),
    "width": ("int", 1, MAX_WIDTH, None),
    "depth": ("int", 3, 100, None),
    "kernel_size": ("int", 1, 15, None),
    "batch_norm": ("bool", None, None, None),
    "blocks": ("ints", 1, 32, (2, 6)),
    "heads": ("ints", 1, 64, (2, 6)),
    "refinement_blocks": ("int", 0, 32, None),
    "expansion": ("number", 0.25, 8.0, None),
}
MAX_CONTEXT_SLICES = 16


def _brief(value) -> str:
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _require_arg(name: str, key: str, value, what: str) -> None:
    kind, low, high, lengths = ARG_RULES[key]
    shown = _brief(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise InputError(f"{what}: {key}={shown} for {name} must be true or false")
        return
    if kind == "ints":
        if not isinstance(value, (list, tuple)) or not all(_is_int(v) for v in value):
            raise InputError(f"{what}: {key}={shown} for {name} must be a list of integers, e.g. [8,16,32]")
        assert lengths is not None  # every "ints" rule gives its range of lengths
        if not lengths[0] <= len(value) <= lengths[1]:
            raise InputError(f"{what}: {key} for {name} lists {len(value)} values; give {lengths[0]} to {lengths[1]}")
        items = value
    elif kind == "int":
        if not _is_int(value):
            raise InputError(f"{what}: {key}={shown} for {name} must be an integer")
        items = [value]
    else:
        if not (isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)):
            raise InputError(f"{what}: {key}={shown} for {name} must be a number")
        items = [value]
    if any(not low <= v <= high for v in items):
        raise InputError(f"{what}: {key}={shown} for {name} must be from {low:g} to {high:g}")


def require_arch_args(name: str, arch_args, what: str = "--model-arg") -> dict:
    """Architecture arguments of known names, types and ranges (ARG_RULES), checked before
    any network is built: a huge width would allocate gigabytes."""
    if not isinstance(arch_args, dict):
        raise InputError(f"{what}: the arguments of {name} must be an object of KEY: VALUE")
    accepted = ARCH_ARGS[require_choice(name, NETWORKS, "model")]
    for key, value in arch_args.items():
        if key not in accepted:
            raise InputError(
                f"{what}: {name} takes no argument '{str(key)[:40]}'; it takes {', '.join(accepted) or 'none'}"
            )
        _require_arg(name, key, value, what)
    return dict(arch_args)


def require_context_slices(value, what: str = "--context-slices") -> int:
    if not _is_int(value) or not 0 <= value <= MAX_CONTEXT_SLICES:
        raise InputError(f"{what} {_brief(value)} must be an integer from 0 to {MAX_CONTEXT_SLICES}")
    return value
