"""The authors' per-slice simulator on scikit-image, kept as the reference for tests and timing.

One slice at a time: scikit-image's radon and iradon (Hann) with max(H, W) angles and numpy
noise. It is slow (seconds per 512x512 slice) and exists to check and to time the batched
simulator against, not to be used on volumes.
"""

from __future__ import annotations

import numpy as np

from ipv2.contract import DEFAULT_DOSE
from ipv2.simulate.lowdose import (
    SEED_GAUSSIAN_FRACTION,
    SEED_LINE_INTEGRAL_SCALE,
    SEED_REFERENCE_PHOTONS,
    seed_flux_fraction,
)


def authors_angles_deg(image: np.ndarray) -> np.ndarray:
    return np.linspace(0.0, 180.0, max(image.shape), endpoint=False)


def skimage_radon(image: np.ndarray) -> np.ndarray:
    from skimage.transform import radon

    return radon(image, theta=authors_angles_deg(image), circle=True)


def skimage_fbp(sinogram: np.ndarray, output_size: int) -> np.ndarray:
    from skimage.transform import iradon

    theta = np.linspace(0.0, 180.0, sinogram.shape[1], endpoint=False)
    return iradon(sinogram, theta=theta, output_size=output_size, filter_name="hann", circle=True)


def authors_seed_slice(
    image01: np.ndarray, rng: np.random.Generator, dose: float = DEFAULT_DOSE, gaussian: bool = True
) -> np.ndarray:
    """Noisy reconstruction of a slice already min-max normalised to [0, 1]."""
    photons = seed_flux_fraction(dose) * SEED_REFERENCE_PHOTONS
    line_integrals = skimage_radon(image01) / SEED_LINE_INTEGRAL_SCALE
    expected = photons * np.exp(-line_integrals)
    counts = rng.poisson(expected).astype(np.float64)
    if gaussian:
        counts += rng.normal(0.0, SEED_GAUSSIAN_FRACTION * np.sqrt(expected))
    positive = counts > 0
    noisy = np.zeros_like(counts)
    noisy[positive] = -np.log(counts[positive] / photons)
    return skimage_fbp(noisy * SEED_LINE_INTEGRAL_SCALE, image01.shape[0])
