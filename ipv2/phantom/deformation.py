"""The breathing deformation on disk: an ITK displacement field on a coarser grid of its own.

The field is smooth (`ipv2.phantom.breathing`: its finest features are sigmoids a few mm
wide), so it needs far fewer samples than the scans: at full resolution the default pair's
field is 512 x 512 x 48 x 3 float32, 151 MB, 83 MB compressed. It is stored on nodes about
DEFORMATION_STEP_MM apart along each axis (never denser than the scan), the first and last
node on the scan's first and last voxel centres, so the coarse grid spans exactly the same
box. ITK's DisplacementFieldTransform (and any linear resampling onto the scan's grid,
`read_deformation`) interpolates it trilinearly; the error of linear interpolation over a
step h is at most h^2/8 |D''|. On the default pair (121 x 121 x 41 nodes, 4 MB instead of
83 MB) it is at most 0.032 mm, 0.002 mm on average; the tests hold it below
MAX_INTERPOLATION_ERROR_MM.

Nodes are sampled from the full field by linear interpolation; at the scan's sub-millimetre
spacing that adds an error of (0.7 mm)^2/8 |D''|, negligible next to the coarse step's.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Union

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

from ipv2.volume import Volume

DEFORMATION_STEP_MM = 3.0
MAX_INTERPOLATION_ERROR_MM = 0.05  # what the stored field is checked against (well under 0.1 mm)

PathLike = Union[str, os.PathLike[str]]


def coarse_node_count(count: int, spacing_mm: float, step_mm: float = DEFORMATION_STEP_MM) -> int:
    """Nodes along one axis: about `step_mm` apart over the (count - 1) * spacing span, at
    least 2, at most `count`."""
    if count <= 2:
        return count
    return int(min(count, max(2, math.ceil((count - 1) * spacing_mm / step_mm - 1e-9) + 1)))


def coarse_deformation(field: Volume, step_mm: float = DEFORMATION_STEP_MM) -> Volume:
    """The field (z, y, x, 3) on nodes about `step_mm` apart spanning the same box."""
    array = np.asarray(field.array, dtype=np.float32)
    full = array.shape[:3]  # (z, y, x)
    spacing_zyx = field.spacing[::-1]
    nodes = [coarse_node_count(n, s, step_mm) for n, s in zip(full, spacing_zyx)]
    positions = [np.linspace(0.0, n - 1, c) if c > 1 else np.zeros(1) for n, c in zip(full, nodes)]
    coordinates = np.meshgrid(*positions, indexing="ij")
    coarse = np.stack(
        [ndimage.map_coordinates(array[..., k], coordinates, order=1, mode="nearest") for k in range(3)], axis=-1
    ).astype(np.float32)
    x, y, z = (
        float(s * (n - 1) / (c - 1)) if c > 1 else float(s) for n, c, s in zip(full[::-1], nodes[::-1], field.spacing)
    )
    return Volume(coarse, spacing=(x, y, z), origin=field.origin, direction=field.direction)


def _to_image(field: Volume) -> sitk.Image:
    image = sitk.GetImageFromArray(np.ascontiguousarray(field.array, dtype=np.float32), isVector=True)
    image.SetSpacing(field.spacing)
    image.SetOrigin(field.origin)
    image.SetDirection(field.direction)
    return image


def write_deformation(field: Volume, path: PathLike, step_mm: float = DEFORMATION_STEP_MM) -> Volume:
    """Writes the coarse field as a compressed float32 vector NRRD; returns what it wrote."""
    coarse = coarse_deformation(field, step_mm)
    sitk.WriteImage(_to_image(coarse), str(Path(path)), useCompression=True)
    return coarse


def resample_deformation(coarse: sitk.Image, reference: Volume) -> np.ndarray:
    """The stored field linearly interpolated at the voxel centres of `reference`'s grid,
    (z, y, x, 3) float32 in mm, as ITK's DisplacementFieldTransform would give it."""
    grid = sitk.Image([int(n) for n in reference.shape[:3][::-1]], sitk.sitkUInt8)
    grid.SetSpacing(reference.spacing)
    grid.SetOrigin(reference.origin)
    grid.SetDirection(reference.direction)
    resampled = sitk.Resample(coarse, grid, sitk.Transform(), sitk.sitkLinear, 0.0, coarse.GetPixelID())
    return sitk.GetArrayFromImage(resampled).astype(np.float32, copy=False)


def read_deformation(path: PathLike, reference: Volume | None = None) -> Volume:
    """deformation.nrrd as a Volume (z, y, x, 3): on its own grid, or with `reference` (e.g.
    truth.nrrd) interpolated onto the scan's grid."""
    image = sitk.ReadImage(str(Path(path)))
    if reference is None:
        return Volume(
            sitk.GetArrayFromImage(image).astype(np.float32, copy=False),
            spacing=image.GetSpacing(),
            origin=image.GetOrigin(),
            direction=image.GetDirection(),
        )
    return Volume(
        resample_deformation(image, reference),
        spacing=reference.spacing,
        origin=reference.origin,
        direction=reference.direction,
    )
