"""The scan's outside air: its level and the NDCT's noise there, which tell gas from parenchyma.

Each chunk of the first pass adds its histograms (`air_histograms`), in 1 HU bins, of the
smoothed NDCT in the outside air and of the differences of raw neighbours there; the scan's
air is read from their sums (`outside_air`) once every chunk is done.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ipv2.masks.enclosed import tells_gas
from ipv2.masks.parameters import MaskParameters

# Fewer outside-air voxels than this (a body filling the image) give no air level to trust.
MIN_AIR_VOXELS = 1000
AIR_SAMPLE_EVERY = 4
NOISE_BINS = 2048
NORMAL_QUARTILE_Z = 0.674


@dataclass(frozen=True)
class OutsideAir:
    """The scan's outside air: median level (HU), the NDCT's noise there (HU, or None), where
    the level comes from, and whether gas can be told from parenchyma at that noise."""

    level: float
    noise: float | None
    source: str
    gas_told: bool


def outside_air(
    level_histograms: Iterable[np.ndarray], step_histograms: Iterable[np.ndarray], parameters: MaskParameters
) -> OutsideAir:
    """The outside air of the scan, from the histograms of its chunks (`air_histograms`)."""
    level_histogram = np.zeros(_air_bins(parameters), dtype=np.int64)
    step_histogram = np.zeros(NOISE_BINS, dtype=np.int64)
    for levels in level_histograms:
        level_histogram += levels
    for steps in step_histograms:
        step_histogram += steps
    level, noise, source = _air_level(level_histogram, step_histogram, parameters)
    return OutsideAir(level, noise, source, tells_gas(noise, parameters))


def air_histograms(smooth: np.ndarray, gt: np.ndarray, outside: np.ndarray, parameters: MaskParameters):
    """Counts, in 1 HU bins, of the smoothed HU of outside air (clip_hu[0] up to
    threshold_hu) and of the absolute difference of raw NDCT neighbours in it (x direction)."""
    low, _ = parameters.clip_hu
    levels = smooth[outside & (smooth < parameters.threshold_hu)]
    level_bins = np.clip(np.floor(levels - low).astype(np.intp), 0, _air_bins(parameters) - 1)
    pairs = outside[:, :, 1:] & outside[:, :, :-1]
    steps = np.abs(gt[:, :, 1:][pairs].astype(np.float32) - gt[:, :, :-1][pairs])
    step_bins = np.minimum(steps.astype(np.intp), NOISE_BINS - 1)
    return (np.bincount(level_bins, minlength=_air_bins(parameters)), np.bincount(step_bins, minlength=NOISE_BINS))


def _air_bins(parameters: MaskParameters) -> int:
    low, _ = parameters.clip_hu
    return int(np.floor(parameters.threshold_hu - low)) + 1


def _air_level(level_histogram: np.ndarray, step_histogram: np.ndarray, parameters: MaskParameters):
    """Median HU of the outside air, the NDCT's noise there (HU, or None) and the source.

    The noise comes from neighbour differences, which no slow change of the air level
    (scatter, the edge of the field of view) affects: for a normal law,
    sigma = median |difference| / (0.674 * sqrt 2).
    """
    total = int(level_histogram.sum())
    if total < MIN_AIR_VOXELS:
        return float(parameters.air_hu), None, "default"
    median_bin = int(np.searchsorted(np.cumsum(level_histogram), total / 2.0))
    steps = int(step_histogram.sum())
    noise = None
    if steps >= MIN_AIR_VOXELS:
        median_step = int(np.searchsorted(np.cumsum(step_histogram), steps / 2.0)) + 0.5
        noise = median_step / (NORMAL_QUARTILE_Z * np.sqrt(2.0))
    return float(parameters.clip_hu[0] + median_bin + 0.5), noise, "measured"
