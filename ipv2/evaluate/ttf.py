"""The task transfer function (TTF) from a disc, by the circular-edge method of AAPM TG-233.

A denoiser's sharpness depends on the contrast and the noise it works at, so the TTF is
measured on a disc of the contrast of interest in noisy images, averaged over many copies
(realisations and places):

1. ESF: every pixel within `band` of the disc's edge gives a sample (distance from the
   disc's centre, value); samples of all copies are averaged in bins of `bin_px` pixels,
   an oversampled radial edge spread function;
2. LSF: its derivative (central differences), times a Tukey window over the band (flat over
   its middle half, cosine tapers outside), which tames the noise far from the edge without
   narrowing the LSF itself as a Hann window over the whole band would;
3. TTF: |Fourier transform| of the LSF (zero-padded), divided by its value at zero
   frequency (the contrast), on frequencies in cycles/mm;
4. f50 and f10: where the TTF first falls to 0.5 and 0.1 (linear interpolation).

For an edge blurred by a Gaussian of standard deviation σ mm, TTF(f) = exp(-2 π^2 σ^2 f^2)
and f50 = sqrt(ln 2 / 2) / (π σ). The radial profile of a disc approaches that of a straight
edge when its radius is many times the blur.

TG-233 asks for a contrast-to-noise ratio of the whole measurement, the disc's contrast over
the pixel noise times the square root of the copies, of at least 15 (Chen et al. 2014);
`cnr_total` reports it and `reliable` says whether it is met.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.signal.windows import tukey

from ipv2.errors import InputError

DEFAULT_BIN_PX = 0.1
MIN_CNR_TOTAL = 15.0
ZERO_PADDED_SAMPLES = 4096
TAPERED_SHARE = 0.5  # of the LSF's window, in cosine tapers at its two ends
MIN_FILLED_BINS = 0.5  # the share of ESF bins that must hold a pixel
BAND_PER_RADIUS = 0.9  # the ESF runs this many radii either side of the edge


def _threshold_crossing(frequencies: np.ndarray, ttf: np.ndarray, level: float) -> float | None:
    below = np.flatnonzero(ttf <= level)
    if below.size == 0 or below[0] == 0:
        return None
    k = below[0]
    f0, f1, t0, t1 = frequencies[k - 1], frequencies[k], ttf[k - 1], ttf[k]
    return float(f0 + (t0 - level) * (f1 - f0) / (t0 - t1)) if t0 != t1 else float(f1)


def disc_ttf(
    images: np.ndarray,
    centres_px: Sequence[Sequence[float]],
    radius_px: float,
    pixel_mm: float,
    bin_px: float = DEFAULT_BIN_PX,
    band_px: float | None = None,
    noise_hu: float | None = None,
) -> dict:
    """The TTF of discs of `radius_px` centred at `centres_px` (row, column) in every image.

    `images`: (n, H, W) or (H, W). Each centre is used in every image; copies = n times the
    centres. `noise_hu`: the images' pixel noise, for `cnr_total` (None: not reported).
    Returns frequencies_cycles_per_mm, ttf (lists), f50_cycles_per_mm, f10_cycles_per_mm
    (None where the TTF does not fall that low), contrast_hu (the ESF's step), copies,
    cnr_total and reliable.
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim == 2:
        images = images[None]
    if images.ndim != 3 or not np.all(np.isfinite(images)):
        raise InputError(f"TTF: finite images (n, H, W) are needed, got shape {images.shape}")
    centres = np.asarray(centres_px, dtype=np.float64).reshape(-1, 2)
    if not (radius_px > 0 and pixel_mm > 0 and bin_px > 0):
        raise InputError(f"TTF: radius {radius_px:g} px, pixel {pixel_mm:g} mm and bin {bin_px:g} px must be positive")
    band = BAND_PER_RADIUS * radius_px if band_px is None else float(band_px)
    reach = int(np.ceil(radius_px + band)) + 1
    height, width = images.shape[1:]
    bins = int(np.ceil(2.0 * band / bin_px))
    sums = np.zeros(bins)
    counts = np.zeros(bins)
    for row, column in centres:
        top, left = int(np.floor(row)) - reach, int(np.floor(column)) - reach
        bottom, right = int(np.floor(row)) + reach + 1, int(np.floor(column)) + reach + 1
        if top < 0 or left < 0 or bottom > height or right > width:
            raise InputError(f"TTF: the disc at ({row:g}, {column:g}) and its band reach outside the image")
        y, x = np.mgrid[top:bottom, left:right]
        offset = np.hypot(y - row, x - column) - (radius_px - band)
        index = np.floor(offset / bin_px).astype(int)
        inside = (index >= 0) & (index < bins)
        patch_sum = images[:, top:bottom, left:right].sum(axis=0)
        sums += np.bincount(index[inside], weights=patch_sum[inside], minlength=bins)
        counts += np.bincount(index[inside], minlength=bins) * images.shape[0]
    filled = counts > 0
    if filled.sum() < MIN_FILLED_BINS * bins:
        raise InputError(
            f"TTF: bins of {bin_px:g} px leave most distances without a pixel; use wider bins or a larger disc"
        )
    # Near the disc's centre few pixels fall in a ring; its empty bins take their neighbours' level.
    esf = np.interp(np.arange(bins), np.flatnonzero(filled), sums[filled] / counts[filled])
    lsf = np.gradient(esf, bin_px * pixel_mm)
    lsf *= tukey(bins, TAPERED_SHARE)
    spectrum = np.abs(np.fft.rfft(lsf, n=max(ZERO_PADDED_SAMPLES, bins)))
    frequencies = np.fft.rfftfreq(max(ZERO_PADDED_SAMPLES, bins), d=bin_px * pixel_mm)
    nyquist = 1.0 / (2.0 * pixel_mm)
    keep = frequencies <= nyquist
    frequencies, spectrum = frequencies[keep], spectrum[keep]
    ttf = spectrum / spectrum[0] if spectrum[0] > 0 else np.full_like(spectrum, np.nan)
    # The ESF's ends, a fifth of the band each, give the contrast of the step.
    end = max(1, bins // 5)
    contrast = float(esf[:end].mean() - esf[-end:].mean())
    copies = images.shape[0] * len(centres)
    cnr = None if noise_hu is None or noise_hu <= 0 else float(abs(contrast) / noise_hu * np.sqrt(copies))
    return {
        "frequencies_cycles_per_mm": frequencies.tolist(),
        "ttf": ttf.tolist(),
        "f50_cycles_per_mm": _threshold_crossing(frequencies, ttf, 0.5),
        "f10_cycles_per_mm": _threshold_crossing(frequencies, ttf, 0.1),
        "contrast_hu": contrast,
        "copies": int(copies),
        "cnr_total": cnr,
        "reliable": None if cnr is None else bool(cnr >= MIN_CNR_TOTAL),
    }
