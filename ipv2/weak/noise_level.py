"""Measuring the noise level of a CT image where the image is flat.

Filtered back-projection leaves noise that is correlated over a few pixels. Estimators that
look only at the finest scale (wavelet detail coefficients with a median absolute deviation,
as in scikit-image's `estimate_sigma`) see only the small high-frequency part of such noise
and report a fraction of its true level. Here the standard deviation is measured directly:
the local standard deviation in windows much wider than the noise correlation length, over
the windows where the image has the least structure.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from ipv2.errors import InputError
from ipv2.local_variance import local_mean_and_variance
from ipv2.progress import Monitor

# Tried from the largest down: a wide window averages over the noise correlation, so the
# spread inside it is close to the full noise level; small windows serve small regions.
# A window wider than a fifth of the slice spans the anatomy rather than a flat part of it.
WINDOW_SIZES = (21, 15, 11, 7, 5)
MAX_WINDOW_FRACTION_OF_SLICE = 5
# A window size is used when at least this many independent windows' worth of centres fit.
MIN_INDEPENDENT_WINDOWS = 4
# The fraction of candidate windows, ranked by how much the local mean changes across them,
# taken as flat. Edges and gradients raise the local spread; the flattest windows do not.
FLAT_FRACTION = 0.1
# Enough slices for a stable figure; a whole scan would only cost time.
MAX_SLICES = 16
# Soft tissue: where a radiologist judges noise, and where the body's photon statistics set it
# (outside the body the rays cross little but air and the noise is a fraction of the body's).
SOFT_TISSUE_HU = (-150.0, 250.0)
SMOOTHING_PIXELS = 2.0
NOISE_STAGE = "measure noise"


def _as_stack(image: np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(image)
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3 or min(array.shape) == 0:
        raise InputError(f"{name}: a 2D slice or 3D volume is needed, got shape {array.shape}")
    return array


def _sampled_slices(region: np.ndarray) -> np.ndarray:
    occupied = np.flatnonzero(region.reshape(region.shape[0], -1).any(axis=1))
    if occupied.size > MAX_SLICES:
        occupied = occupied[np.linspace(0, occupied.size - 1, MAX_SLICES).round().astype(int)]
    return occupied


def _measure(image: np.ndarray, usable: np.ndarray, window: int) -> float | None:
    size = (1, window, window)
    inside = ndi.uniform_filter(usable.astype(np.float32), size=size, mode="constant")
    centres = inside > 1.0 - 0.5 / (window * window)
    if np.count_nonzero(centres) < MIN_INDEPENDENT_WINDOWS * window * window:
        return None
    local_mean, local_var = local_mean_and_variance(image, window)
    slope_y, slope_x = np.gradient(local_mean, axis=(1, 2))
    structure = np.hypot(slope_y, slope_x)[centres]
    flat = structure <= np.quantile(structure, FLAT_FRACTION)
    return float(np.sqrt(np.median(local_var[centres][flat])))


def estimate_noise_sigma(hu: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Standard deviation of the noise, in the image's units, measured in flat windows.

    `hu` is a slice (H, W) or a volume (z, y, x). With `mask`, only windows that lie wholly
    inside it count (e.g. the lung, to measure what a denoiser left there); without, the
    whole image does. Values at the image's extremes are left out: scanners pad outside
    the reconstruction circle and clip air at one constant value, which has no noise.
    Raises `InputError` if no region is wide enough to measure in.
    """
    image = _as_stack(hu, "image")
    if mask is None:
        region = np.ones(image.shape, dtype=bool)
    else:
        region = _as_stack(mask, "mask").astype(bool, copy=False)
        if region.shape != image.shape:
            raise InputError(f"mask: shape {region.shape} differs from the image's {image.shape}")
    if not np.issubdtype(image.dtype, np.number):
        raise InputError(f"image: voxel type {image.dtype} is not numeric")
    slices = _sampled_slices(region)
    if slices.size == 0:
        raise InputError("mask: it is empty, so there is nowhere to measure the noise")
    sample = image[slices].astype(np.float64)
    if not np.all(np.isfinite(sample)):
        raise InputError("image: NaN or infinite values; the noise level cannot be measured")
    low, high = sample.min(), sample.max()
    usable = region[slices] & (sample > low) & (sample < high)
    for window in WINDOW_SIZES:
        if window > min(sample.shape[1:]) // MAX_WINDOW_FRACTION_OF_SLICE:
            continue
        sigma = _measure(sample, usable, window)
        if sigma is not None:
            return sigma
    raise InputError(
        "no flat region is large enough to measure the noise level "
        f"(at least {MIN_INDEPENDENT_WINDOWS} windows of {WINDOW_SIZES[-1]}x{WINDOW_SIZES[-1]} "
        "pixels); give the noise level explicitly"
    )


def _one_slice_noise(image: np.ndarray) -> float | None:
    smooth = ndi.gaussian_filter(image, SMOOTHING_PIXELS)
    soft = (smooth > SOFT_TISSUE_HU[0]) & (smooth < SOFT_TISSUE_HU[1])
    for region in (soft, None) if soft.any() else (None,):
        try:
            return estimate_noise_sigma(image, mask=region)
        except InputError:
            continue
    return None


def slice_noise_levels(
    array: np.ndarray, max_measured: int | None = None, monitor: Monitor | None = None
) -> np.ndarray:
    """Noise standard deviation (HU) of each slice of a (z, y, x) array, float32.

    Measured in flat soft tissue, else in the flattest part of the slice; a slice with no
    measurable region takes the median of the others (0 if none has one). With
    `max_measured`, at most that many evenly spaced slices are measured and the others
    interpolated linearly along z: the noise follows the tube current, which scanners
    modulate smoothly along the patient, and a slice costs about 0.1 s to measure.
    `monitor` gets ("measure noise", done, total) per measured slice, and can cancel.
    """
    depth = len(array)
    measured = np.arange(depth)
    if max_measured is not None and depth > max_measured:
        measured = np.unique(np.linspace(0, depth - 1, max(2, int(max_measured))).round().astype(int))
    monitor = monitor or Monitor()
    values = np.full(measured.size, np.nan, dtype=np.float32)
    for done, z in enumerate(measured):
        monitor.step(NOISE_STAGE, done, measured.size)
        level = _one_slice_noise(np.asarray(array[z], dtype=np.float32))
        if level is not None:
            values[done] = level
    monitor.step(NOISE_STAGE, measured.size, measured.size)
    known = np.isfinite(values)
    values[~known] = float(np.median(values[known])) if known.any() else 0.0
    if measured.size == depth:
        return values
    return np.interp(np.arange(depth), measured, values).astype(np.float32)
