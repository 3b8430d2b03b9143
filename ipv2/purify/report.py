"""report.json of a purification, one schema for volume pairs and PNG datasets.

| key | content |
|---|---|
| `ipv2_version`, `mode`, `parameters` | package version and the options actually used |
| `source`, `dataset`, `slices` | `volumes` or `png dataset`, the dataset folder (or null), slice count |
| `region` | the name of `R`, the region of Add noise and Remove noise |
| `grid` | shape, spacing, origin and direction of volume outputs (null for datasets) |
| `masks` | fraction of all pixels in each region (`*_fraction`) |
| `volumes_ml` | region volumes in mL (null for datasets, whose pixels have no size) |
| `noise` | noise levels in `noise.units`, and where the denoiser's came from |
| `timings_s` | seconds per stage and `total` |
| `cached_stages` | stages loaded from a resumed run |
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from ipv2 import __version__
from ipv2.purify.core import Purified, StageTimes, Units, region_name
from ipv2.purify.options import PurifyOptions

if TYPE_CHECKING:
    from ipv2.masks.regions import RegionMasks

MASK_REGIONS = ("body", "background", "lung", "airways", "dark", "region", "label_region", "band")
NOISE_FIGURES = ("lq_sigma", "gt_sigma", "lq_lung_sigma", "label_lung_sigma", "sim_gt_lung_sigma", "weak_sigma")


def region_counts(masks: RegionMasks, purified: Purified) -> dict[str, int]:
    """Pixels in each of `MASK_REGIONS`, and `pixels` in all."""
    arrays = {
        "body": masks.body,
        "background": masks.background,
        "lung": masks.lung,
        "airways": masks.airways,
        "dark": masks.dark,
        "region": purified.region,
        "label_region": purified.label_region,
        "band": purified.band,
    }
    counts = {name: int(np.count_nonzero(arrays[name])) for name in MASK_REGIONS}
    counts["pixels"] = int(np.size(masks.dark))
    return counts


def add_counts(total: dict[str, int], counts: dict[str, int]) -> dict[str, int]:
    return {name: total.get(name, 0) + value for name, value in counts.items()}


def median_noise(figures: Iterable[dict[str, float | None]]) -> dict[str, float | None]:
    """Each noise figure's median over chunks, leaving out chunks where it could not be measured."""
    figures = list(figures)
    medians = {}
    for name in NOISE_FIGURES:
        values = [value for f in figures if (value := f.get(name)) is not None]
        medians[name] = round(float(np.median(values)), 3) if values else None
    return medians


def purify_report(
    options: PurifyOptions,
    *,
    source: str,
    slices: int,
    counts: dict[str, int],
    noise: dict[str, float | None],
    units: Units,
    times: StageTimes,
    total_seconds: float,
    dataset: str | None = None,
    grid: dict[str, Any] | None = None,
    volumes_ml: dict[str, float] | None = None,
    mask_stats: dict[str, Any] | None = None,
) -> dict[str, Any]:
    pixels = max(counts.get("pixels", 0), 1)
    source_of_sigma = None
    if noise.get("weak_sigma") is not None:
        source_of_sigma = "given" if options.sigma_hu is not None else "measured"
    cached: list[str] = sorted(times.cached)
    return {
        "ipv2_version": __version__,
        "mode": options.mode,
        "source": source,
        "dataset": dataset,
        "slices": int(slices),
        "parameters": options.as_dict(),
        "region": region_name(options),
        "grid": grid,
        "masks": {f"{name}_fraction": round(counts.get(name, 0) / pixels, 6) for name in MASK_REGIONS},
        "volumes_ml": volumes_ml,
        # Volumes in mL, other gas and airways, the measured air level and the masks' warnings.
        "mask_stats": mask_stats,
        "noise": {
            "units": units.name,
            **{name: noise.get(name) for name in NOISE_FIGURES},
            "weak_sigma_source": source_of_sigma,
        },
        "timings_s": {
            **{name: round(seconds, 3) for name, seconds in times.seconds.items()},
            "total": round(total_seconds, 3),
        },
        "cached_stages": cached,
    }
