"""Conventional denoisers for the evaluation label (IPv2 module 3, Remove noise).

They are deliberately classical: the label must not carry what a learned model would
invent. Each works slice by slice in the image's own units (HU for volumes, gray levels for
the authors' 8-bit slices), with parameters set from the noise level.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ipv2.contract import DEFAULT_WEAK_DENOISER, WEAK_DENOISERS
from ipv2.errors import InputError, require_choice
from ipv2.progress import Monitor
from ipv2.weak.noise_level import estimate_noise_sigma

# The contrast the parameters are tuned against: air to soft tissue, about 1000 HU. For
# 8-bit slices pass 255. Noise is judged relative to it on the 8-bit scale used by the
# published non-local means settings.
HU_CONTRAST = 1000.0
EIGHT_BIT_LEVELS = 255.0

# Non-local means (Buades, Coll and Morel, IPOL 2011): the noisier the image, the larger the
# patch needed to tell structure from noise. Rows: (noise up to this many 8-bit levels,
# patch size, search distance). The search distance stays at 10 because scikit-image's fast
# mode costs in proportion to its square.
NLM_TIERS = ((15.0, 3, 6), (30.0, 5, 8), (45.0, 7, 10), (np.inf, 9, 10))
# scikit-image's advice for its fast mode with the noise variance subtracted.
NLM_H_PER_SIGMA = 0.8
# Total variation weight per unit noise: roughly halves correlated CT noise while keeping
# lung vessels.
TV_WEIGHT_PER_SIGMA = 2.0


@dataclass(frozen=True)
class NlmParameters:
    patch_size: int
    patch_distance: int
    h: float


def nlm_parameters(sigma: float, contrast: float = HU_CONTRAST) -> NlmParameters:
    levels = sigma / contrast * EIGHT_BIT_LEVELS
    for limit, patch_size, patch_distance in NLM_TIERS:
        if levels <= limit:
            return NlmParameters(patch_size, patch_distance, NLM_H_PER_SIGMA * sigma)
    raise AssertionError("the last tier has no limit")


def _nlm(image: np.ndarray, sigma: float, contrast: float) -> np.ndarray:
    from skimage.restoration import denoise_nl_means

    params = nlm_parameters(sigma, contrast)
    return denoise_nl_means(
        image,
        patch_size=params.patch_size,
        patch_distance=params.patch_distance,
        h=params.h,
        sigma=sigma,
        fast_mode=True,
        preserve_range=True,
    )


def _tv(image: np.ndarray, sigma: float, contrast: float) -> np.ndarray:
    from skimage.restoration import denoise_tv_chambolle

    return denoise_tv_chambolle(image, weight=TV_WEIGHT_PER_SIGMA * sigma)


def _bm3d(image: np.ndarray, sigma: float, contrast: float) -> np.ndarray:
    import bm3d

    return bm3d.bm3d(image, sigma_psd=sigma)


_SLICE_DENOISERS: dict[str, Callable[[np.ndarray, float, float], np.ndarray]] = {"nlm": _nlm, "tv": _tv, "bm3d": _bm3d}

# Context each denoiser needs around the region it must get right (search window and patch
# for non-local means, block matching for BM3D, diffusion for total variation).
CROP_MARGIN = 16


def require_weak_denoiser(method: str) -> str:
    name = str(method).lower()
    return require_choice(name, WEAK_DENOISERS, "weak denoiser", shown=method)


def require_sigma(sigma: float) -> float:
    value = float(sigma)
    if not np.isfinite(value) or value <= 0:
        raise InputError(f"noise level {sigma!r} must be a positive number (the noise standard deviation in HU)")
    return value


def _bounding_box(region: np.ndarray, margin: int) -> tuple[slice, slice] | None:
    rows = np.flatnonzero(region.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(region.any(axis=0))
    h, w = region.shape
    return (
        slice(max(rows[0] - margin, 0), min(rows[-1] + margin + 1, h)),
        slice(max(cols[0] - margin, 0), min(cols[-1] + margin + 1, w)),
    )


def weak_denoise(
    hu: np.ndarray,
    method: str = DEFAULT_WEAK_DENOISER,
    *,
    sigma_hu: float | None = None,
    mask: np.ndarray | None = None,
    contrast: float = HU_CONTRAST,
    monitor: Monitor | None = None,
) -> np.ndarray:
    """A denoised float32 copy of a slice (H, W) or volume (z, y, x), slice by slice.

    `sigma_hu` is the noise standard deviation in the image's units; without it the level
    is measured with `estimate_noise_sigma` over the whole image. With `mask`, only the
    bounding box of the mask in each slice (plus a margin of context) is denoised and the
    rest is returned unchanged: the evaluation label needs the denoised image in the lung
    only, and the box is a fraction of the slice. `hu` is never modified.
    """
    method = require_weak_denoiser(method)
    monitor = monitor or Monitor()
    array = np.asarray(hu)
    flat_input = array.ndim == 2
    stack = array[None] if flat_input else array
    if stack.ndim != 3:
        raise InputError(f"image: a 2D slice or 3D volume is needed, got shape {array.shape}")
    region = None
    if mask is not None:
        region = np.asarray(mask, dtype=bool)
        region = region[None] if region.ndim == 2 else region
        if region.shape != stack.shape:
            raise InputError(f"mask: shape {region.shape} differs from the image's {stack.shape}")
    result = stack.astype(np.float32, copy=True)
    if method == "none":
        return result[0] if flat_input else result
    sigma = require_sigma(sigma_hu) if sigma_hu is not None else estimate_noise_sigma(stack)
    denoise_slice = _SLICE_DENOISERS[method]
    stage = f"remove noise ({method})"
    for z in monitor.track(range(stack.shape[0]), stage, total=stack.shape[0]):
        box: tuple[slice, slice] | None = (slice(None), slice(None))
        if region is not None:
            box = _bounding_box(region[z], CROP_MARGIN)
            if box is None:  # nothing of the region in this slice
                continue
        crop = stack[z][box].astype(np.float64)
        result[z][box] = denoise_slice(crop, sigma, contrast).astype(np.float32)
    return result[0] if flat_input else result
