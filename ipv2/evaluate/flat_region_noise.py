"""Noise standard deviation in uniform regions: air outside the body, lung parenchyma, soft tissue.

Noise is the spread of values around the local mean where the anatomy is flat. The flat
voxels are chosen once, on the reference (the label), so that every image of a report is
measured on the same voxels: voxels of a region whose reference value lies in the tissue's
HU range and whose reference neighbourhood is among the calmest of that region (vessels,
fissures and edges are left out). Local variances are then averaged there, which ignores
slow shading across the region.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ipv2.local_variance import local_variance as shared_local_variance

NOISE_WINDOW = 5
EDGE_MARGIN_PIXELS = 2
MIN_UNIFORM_VOXELS = 50
STRUCTURE_SIGMA = 1.5
STRUCTURE_WINDOW = NOISE_WINDOW


@dataclass(frozen=True)
class UniformRegion:
    """Which voxels of a region count as flat tissue for a noise measurement."""

    region: str
    hu_range: tuple[float, float] | None
    calmest_fraction: float | None


UNIFORM_REGIONS = (
    # Background holds more than air (the patient table, clothing, padding outside the field
    # of view at -1024 HU and below): keep air near -1000 HU and its calmest part.
    UniformRegion("background", (-1100.0, -900.0), 0.5),
    UniformRegion("lung", (-1000.0, -600.0), 0.3),
    UniformRegion("soft_tissue", (-100.0, 150.0), 0.3),
)
# Soft tissue lies in the body region (chest wall, mediastinum); the others in their own.
SOURCE_REGION = {"background": "background", "lung": "lung", "soft_tissue": "body"}


def local_variance(volume: np.ndarray, window: int = NOISE_WINDOW) -> np.ndarray:
    """Unbiased variance of each voxel's window x window in-plane neighbourhood (`ipv2.local_variance`)."""
    return shared_local_variance(volume, window)


def structure_variance(reference: np.ndarray) -> np.ndarray:
    """Local variance of the smoothed reference: high at vessels and edges, nearly blind to
    the reference's own noise, so that choosing calm voxels does not favour voxels where
    that noise happens to be low (which would bias the reference's own noise figure)."""
    smoothed = ndimage.gaussian_filter(
        np.asarray(reference, dtype=np.float64), sigma=(0, STRUCTURE_SIGMA, STRUCTURE_SIGMA)
    )
    return local_variance(smoothed, STRUCTURE_WINDOW)


def _erode_in_plane(mask: np.ndarray, pixels: int) -> np.ndarray:
    if pixels <= 0:
        return mask
    # A square element: after n passes every (2n+1)-wide window around a kept voxel is inside.
    structure = np.zeros((3, 3, 3), dtype=bool)
    structure[1] = True
    return ndimage.binary_erosion(mask, structure=structure, iterations=pixels, border_value=0)


def uniform_mask(
    reference: np.ndarray, region_mask: np.ndarray, spec: UniformRegion, reference_variance: np.ndarray | None = None
) -> np.ndarray:
    """The flat voxels of one region, chosen on the reference image."""
    candidate = _erode_in_plane(np.asarray(region_mask, dtype=bool), EDGE_MARGIN_PIXELS)
    if spec.hu_range is not None:
        low, high = spec.hu_range
        candidate &= (reference >= low) & (reference <= high)
    if spec.calmest_fraction is None or not candidate.any():
        return candidate
    variance = structure_variance(reference) if reference_variance is None else reference_variance
    threshold = np.quantile(variance[candidate], spec.calmest_fraction)
    return candidate & (variance <= threshold)


def uniform_masks(reference: np.ndarray, regions: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Flat-tissue masks for background, lung and soft tissue, from region masks by name."""
    reference = np.asarray(reference, dtype=np.float64)
    reference_variance = structure_variance(reference)
    return {
        spec.region: uniform_mask(reference, regions[SOURCE_REGION[spec.region]], spec, reference_variance)
        for spec in UNIFORM_REGIONS
    }


def noise_std(image: np.ndarray, mask: np.ndarray, image_variance: np.ndarray | None = None) -> float:
    """Root of the mean local variance inside the mask; NaN when too few voxels are flat."""
    mask = np.asarray(mask, dtype=bool)
    if np.count_nonzero(mask) < MIN_UNIFORM_VOXELS:
        return float("nan")
    variance = local_variance(image) if image_variance is None else image_variance
    return float(np.sqrt(variance[mask].mean()))
