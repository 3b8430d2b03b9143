"""The voxel grid of the phantom and the anatomical axis along it.

Physical coordinates follow DICOM/ITK LPS with an identity direction: x runs from the
patient's right to left, y from anterior to posterior, z from feet to head. The grid is
centred on the origin in-plane, so the anatomy is described in millimetres independent of
the matrix size.

The anatomy is laid out over a reference scan range of 120 mm from just above the carina
(u = 0) to below the diaphragm dome (u = 1); `u` is that normalised craniocaudal position.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

DEFAULT_FOV_MM = 358.4  # 512 pixels of 0.7 mm
REFERENCE_SCAN_MM = 120.0  # 48 slices of 2.5 mm
REFERENCE_TOP_Z_MM = REFERENCE_SCAN_MM / 2.0


def u_from_z(z):
    """Craniocaudal position: 0 at the top of the reference scan, 1 at its bottom."""
    return (REFERENCE_TOP_Z_MM - z) * (1.0 / REFERENCE_SCAN_MM)


def z_from_u(u):
    return REFERENCE_TOP_Z_MM - np.asarray(u, dtype=float) * REFERENCE_SCAN_MM


@dataclass(frozen=True)
class PhantomGrid:
    """`shape` is (z, y, x); `spacing` is (x, y, z) in mm, as in `Volume`. `z_offset_mm`
    moves every slice along z: the planes of a thick slice's profile lie at its centre plus
    an offset (`ipv2.phantom.thickness`)."""

    shape: tuple[int, int, int]
    spacing: tuple[float, float, float]
    z_offset_mm: float = 0.0

    @classmethod
    def create(cls, size: int, slices: int, pixel_mm=None, slice_mm=None) -> PhantomGrid:
        pixel = float(pixel_mm) if pixel_mm is not None else DEFAULT_FOV_MM / size
        thickness = float(slice_mm) if slice_mm is not None else REFERENCE_SCAN_MM / slices
        return cls(shape=(int(slices), int(size), int(size)), spacing=(pixel, pixel, thickness))

    @property
    def origin(self) -> tuple[float, float, float]:
        nz, ny, nx = self.shape
        sx, sy, sz = self.spacing
        return (-(nx - 1) / 2.0 * sx, -(ny - 1) / 2.0 * sy, -(nz - 1) / 2.0 * sz + self.z_offset_mm)

    def shifted(self, z_offset_mm: float) -> PhantomGrid:
        """The same grid with every slice `z_offset_mm` further towards the head."""
        return PhantomGrid(self.shape, self.spacing, self.z_offset_mm + float(z_offset_mm))

    def cropped(self, size: int) -> PhantomGrid:
        """The central `size` x `size` pixels of each slice (same centre, same spacing);
        `size` has the parity of the matrix, so the centre stays on the grid's axis."""
        nz, ny, nx = self.shape
        if (nx - size) % 2 or (ny - size) % 2 or not 0 < size <= min(nx, ny):
            raise ValueError(f"a central crop of {size} pixels does not fit {nx} x {ny} symmetrically")
        return PhantomGrid((nz, size, size), self.spacing, self.z_offset_mm)

    def central_window(self, size: int) -> tuple[slice, slice]:
        """(y, x) slices of the pixels that `cropped(size)` keeps."""
        nz, ny, nx = self.shape
        top, left = (ny - size) // 2, (nx - size) // 2
        return slice(top, top + size), slice(left, left + size)

    @property
    def pixel_mm(self) -> float:
        return float(np.sqrt(self.spacing[0] * self.spacing[1]))

    def axis(self, dim: str) -> np.ndarray:
        """Physical coordinates (mm, float32) of the voxel centres along 'x', 'y' or 'z'."""
        index = "xyz".index(dim)
        count = self.shape[2 - index]
        return (self.origin[index] + self.spacing[index] * np.arange(count)).astype(np.float32)

    def chunks(self, slices_per_chunk: int) -> Iterator[slice]:
        nz = self.shape[0]
        for start in range(0, nz, slices_per_chunk):
            yield slice(start, min(nz, start + slices_per_chunk))

    def regular_coordinates(self, zslice: slice):
        """Broadcastable (X, Y, Z) of a block of slices: shapes (1,1,nx), (1,ny,1), (nz,1,1)."""
        return (self.axis("x")[None, None, :], self.axis("y")[None, :, None], self.axis("z")[zslice][:, None, None])

    def index_of(self, position_mm: np.ndarray) -> np.ndarray:
        """Continuous (x, y, z) voxel indices of physical points (..., 3)."""
        return (np.asarray(position_mm) - np.asarray(self.origin)) / np.asarray(self.spacing)
