"""The strength control: how much of the input's noise the denoised scan keeps.

A strength names the dose the output should look like, as a multiple of the input's:
`low` a scan at 2x the dose, `medium` at 8x, `high` at 32x, or a number from 1 (the input
unchanged) to 100: each level halves the noise the one below leaves. Quantum noise falls as
the square root of the dose, so a scan at N times
the dose keeps `1 / sqrt(N)` of the input's noise: that fraction of what the network removed
above the restored band (below) is put back. Because the kept part is the input's own noise,
the texture stays that of the scan's kernel whatever the level, and the output noise falls
monotonically with the level at every dose. (Scaling the noise level the network is told, as
FFDNet does, saturates: above a modest noise level every setting gave the same maximal
smoothing.)

What the network removed at scales above `RESTORED_SCALE_MM` (a Gaussian's standard
deviation) is put back in full. Noise has little power there, but what a network removes
there is mostly not noise: the regional mean (at ultra-low dose the lung came out 10-26 HU
too dark, enough to move emphysema scores) and most of the contrast of faint lesions of
several millimetres, which no estimator can tell from the noise when the noise is many
times their contrast and which a denoiser should therefore leave as the input has them.
A 2.5D model has more to go on: its neighbouring slices carry the same lesion under noise
of their own. Its band is put back from the slab where the anatomy continues across it
(`slab_restore_source`), as far as the dose multiple asks (`slab_share`), so that the noise
at a lesion's scale falls while the lesion and the regional mean stay as the input has them.

Region-aware strength (`regional_kept_fraction`): one level in the lung field and another
in the body, as the Lung and Body variants of commercial reconstructions but on one series.
The kept fraction goes from one to the other over a Gaussian of `BOUNDARY_BLEND_MM` across
the lung field's border, so the noise changes smoothly there and the mean not at all.

Values outside the network's window are not its business: scanner padding (a constant
below the window) keeps its value, and what lies above the window (metal, dense bone) is
added back to the recombined result. Noise that dips below the window in the lung or in
air is part of the noise, kept or removed with the rest.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage as ndi

from ipv2.contract import DEFAULT_STRENGTH, STRENGTH_RANGE
from ipv2.contract import STRENGTH_DOSE_MULTIPLES as STRENGTHS
from ipv2.errors import InputError, require_choice
from ipv2.models.normalization import Normalization

__all__ = [
    "BOUNDARY_BLEND_MM",
    "DEFAULT_STRENGTH",
    "RESTORED_SCALE_MM",
    "STRENGTHS",
    "STRENGTH_RANGE",
    "dose_multiple",
    "kept_noise_fraction",
    "recombine",
    "region_strengths",
    "regional_kept_fraction",
    "slab_restore_source",
    "slab_share",
]

# The levels' dose multiples, the default and the range are ipv2.contract's, which the panels read.
RESTORED_SCALE_MM = 3.0
# A neighbour's difference in the restored band beyond this many of its own standard deviations
# (over the slice) is anatomy changing along z, not noise.
Z_AGREEMENT = 3.0
MAD_TO_SD = 1.4826  # a normal distribution's standard deviation over its median absolute deviation
BOUNDARY_BLEND_MM = 3.0


def dose_multiple(strength: str | float | None) -> float:
    """`low`, `medium`, `high` or a number in STRENGTH_RANGE, as the dose multiple it aims at."""
    if strength is None:
        return STRENGTHS[DEFAULT_STRENGTH]
    if isinstance(strength, str):
        key = strength.strip().lower()
        if key in STRENGTHS:
            return STRENGTHS[key]
        try:
            strength = float(key)
        except ValueError:
            besides = f"a dose multiple from {STRENGTH_RANGE[0]:g} to {STRENGTH_RANGE[1]:g}"
            require_choice(key, STRENGTHS, "strength", shown=strength, besides=besides)
    value = float(strength)
    if not (STRENGTH_RANGE[0] <= value <= STRENGTH_RANGE[1]):
        raise InputError(
            f"strength {value:g} is outside {STRENGTH_RANGE[0]:g}..{STRENGTH_RANGE[1]:g} "
            "(a dose multiple: 1 leaves the scan unchanged)"
        )
    return value


def kept_noise_fraction(strength: str | float | None) -> float:
    """The share of the input's noise a scan at the strength's dose multiple still has."""
    return 1.0 / math.sqrt(dose_multiple(strength))


def region_strengths(strength, lung_strength, body_strength) -> tuple | None:
    """(lung, body) strengths where either region has its own (the other takes `strength`);
    None where the whole scan takes `strength`."""
    if lung_strength is None and body_strength is None:
        return None
    return (strength if lung_strength is None else lung_strength, strength if body_strength is None else body_strength)


def _sigma_px(scale_mm: float, pixel_spacing_mm: float, ndim: int):
    if not (np.isfinite(pixel_spacing_mm) and pixel_spacing_mm > 0):
        raise InputError(f"pixel spacing {pixel_spacing_mm!r} mm must be a positive size")
    sigma = scale_mm / float(pixel_spacing_mm)
    return (0.0, sigma, sigma) if ndim == 3 else sigma


def regional_kept_fraction(lung_field: np.ndarray, lung_strength, body_strength, pixel_spacing_mm: float) -> np.ndarray:
    """The kept noise fraction per voxel (float32, the mask's shape): the lung strength's in
    the lung field, the body strength's elsewhere, blended across the field's border."""
    lung_kept, body_kept = kept_noise_fraction(lung_strength), kept_noise_fraction(body_strength)
    field = np.asarray(lung_field, dtype=np.float32)
    weight = ndi.gaussian_filter(
        field, sigma=_sigma_px(BOUNDARY_BLEND_MM, pixel_spacing_mm, field.ndim), mode="nearest"
    )
    return (np.float32(body_kept) + np.float32(lung_kept - body_kept) * weight).astype(np.float32)


def _padding(noisy: np.ndarray, normalization: Normalization) -> np.ndarray:
    """Pixels below the window holding a value that fills a whole 3x3 neighbourhood somewhere:
    a scanner's fill (its border included), not noise, which never repeats a value so."""
    below = noisy < normalization.low
    if not below.any():
        return below
    size = (1, 3, 3) if noisy.ndim == 3 else (3, 3)
    constant = below & (ndi.minimum_filter(noisy, size=size) == ndi.maximum_filter(noisy, size=size))
    return below & np.isin(noisy, np.unique(noisy[constant]))


def slab_share(kept, slab_depth: int):
    """How much of the way from the centre slice to the slab's mean the restored band goes, so
    that its noise is what a scan at the kept fraction's dose multiple N has (1 / sqrt(N) of
    the input's, `kept`), as far as the slab allows: 0 at N = 1 (the input unchanged), 1 from
    N = slab_depth on. For a share a of slices with independent noise of equal level the
    band keeps sqrt(1 - 2aq + a^2 q) of the noise, q = (slab_depth - 1) / slab_depth."""
    kept = np.asarray(kept, dtype=np.float32)
    q = np.float32((slab_depth - 1) / slab_depth)
    return (1.0 - np.sqrt(np.clip(1.0 - (1.0 - kept**2) / q, 0.0, 1.0))).astype(np.float32)


def slab_restore_source(centre: np.ndarray, neighbours: np.ndarray, pixel_spacing_mm: float, kept=0.0) -> np.ndarray:
    """What a 2.5D model's restored band is taken from: the centre slices (m, y, x) HU with
    `slab_share(kept)` of the mean of each neighbour's difference from them (neighbours
    (2k, m, y, x)) added where that difference, in the restored band, is within Z_AGREEMENT
    times its own spread over the slice, fading out beyond. `kept`: the kept noise fraction,
    a number or an array of the centre's shape.

    Where the anatomy continues across the slab (most of it, and lesions the slab holds) the
    band becomes the slab's mean, whose noise the slices' independent noise averages down;
    where it changes from slice to slice (a vessel leaving the slice, the diaphragm's dome)
    the difference is far beyond the noise's spread and the centre's own band is kept, so
    nothing is blurred along z.
    """
    centre = np.asarray(centre, dtype=np.float32)
    sigma = _sigma_px(RESTORED_SCALE_MM, pixel_spacing_mm, centre.ndim)
    total = np.zeros_like(centre)
    for neighbour in np.asarray(neighbours, dtype=np.float32):
        difference = neighbour - centre
        band = ndi.gaussian_filter(difference, sigma=sigma, mode="nearest")
        axes = tuple(range(1, band.ndim)) if band.ndim == 3 else None
        median = np.median(band, axis=axes, keepdims=True)
        spread = np.float32(MAD_TO_SD) * np.median(np.abs(band - median), axis=axes, keepdims=True)
        scale = np.maximum(np.float32(Z_AGREEMENT) * spread, np.float32(1e-3))
        total += np.exp(-0.5 * (band / scale) ** 2) * difference
    depth = len(neighbours) + 1
    return centre + slab_share(kept, depth) * total / np.float32(depth)


def recombine(
    noisy: np.ndarray,
    estimate: np.ndarray,
    normalization: Normalization,
    kept,
    pixel_spacing_mm: float,
    restored_from: np.ndarray | None = None,
) -> np.ndarray:
    """The output from the input slices and the network's estimate, both (z, y, x) HU.

    estimate + G(s - estimate) + k (r - G(r)), with r = input - estimate, s = `restored_from`
    (default the input; both clipped at the window's top), G a Gaussian of RESTORED_SCALE_MM
    in-plane and k the kept noise fraction: a number, or an array of the slices' shape
    (`regional_kept_fraction`); then what lies above the window is added back and padding
    keeps its value.

    A 2.5D model gives as `restored_from` the slab it read, combined by `slab_restore_source`.
    """
    noisy = np.asarray(noisy, dtype=np.float32)
    sigma = _sigma_px(RESTORED_SCALE_MM, pixel_spacing_mm, noisy.ndim)
    kept = np.asarray(kept, dtype=np.float32)
    if kept.ndim and kept.shape != noisy.shape:
        raise InputError(f"kept noise fractions of shape {kept.shape} do not match the slices' {noisy.shape}")
    if restored_from is not None and np.shape(restored_from) != noisy.shape:
        raise InputError(
            f"the restored band's source {np.shape(restored_from)} does not match the slices' {noisy.shape}"
        )
    padding = _padding(noisy, normalization)
    top = np.float32(normalization.high)
    top_clipped = np.minimum(noisy, top)
    removed = np.where(padding, np.float32(0.0), top_clipped - estimate).astype(np.float32)
    removed_low = ndi.gaussian_filter(removed, sigma=sigma, mode="nearest")
    restored = removed_low
    if restored_from is not None:
        source = np.minimum(np.asarray(restored_from, dtype=np.float32), top) - estimate
        restored = ndi.gaussian_filter(np.where(padding, np.float32(0.0), source), sigma=sigma, mode="nearest")
    result = estimate + restored + kept * (removed - removed_low) + (noisy - top_clipped)
    result[padding] = noisy[padding]
    return result.astype(np.float32, copy=False)
