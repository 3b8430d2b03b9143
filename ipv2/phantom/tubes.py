"""Tapered tubes (vessels, airways, great vessels) rasterised segment by segment.

A tube is a list of straight segments with a radius at each end. Each segment touches only
the voxels of its bounding box, so thousands of small vessels cost little; the occupancy of
overlapping segments is their maximum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ipv2.phantom.grid import PhantomGrid


@dataclass
class Segments:
    """N segments from `start` to `end` (N, 3 mm, x y z) with radii `r_start`, `r_end` (N,)."""

    start: np.ndarray
    end: np.ndarray
    r_start: np.ndarray
    r_end: np.ndarray

    @classmethod
    def empty(cls) -> Segments:
        return cls(np.zeros((0, 3)), np.zeros((0, 3)), np.zeros(0), np.zeros(0))

    @classmethod
    def from_polyline(cls, points, radii) -> Segments:
        points = np.asarray(points, dtype=float)
        radii = np.broadcast_to(np.asarray(radii, dtype=float), (len(points),))
        return cls(points[:-1], points[1:], radii[:-1].copy(), radii[1:].copy())

    def __len__(self) -> int:
        return len(self.start)

    def concat(self, other: Segments) -> Segments:
        return Segments(
            np.concatenate([self.start, other.start]),
            np.concatenate([self.end, other.end]),
            np.concatenate([self.r_start, other.r_start]),
            np.concatenate([self.r_end, other.r_end]),
        )

    def thickened(self, extra_mm) -> Segments:
        """The same tubes with walls: radii grown by `extra_mm` (scalar or per segment end)."""
        extra = np.asarray(extra_mm, dtype=float)
        if extra.ndim == 0:
            return Segments(self.start, self.end, self.r_start + extra, self.r_end + extra)
        return Segments(self.start, self.end, self.r_start + extra[0], self.r_end + extra[1])

    def moved(self, move_points) -> Segments:
        """The segments with their end points carried by a point map (N, 3) -> (N, 3)."""
        if len(self) == 0:
            return self
        moved = move_points(np.concatenate([self.start, self.end]))
        return Segments(moved[: len(self)], moved[len(self) :], self.r_start, self.r_end)


def rasterize(segments: Segments, grid: PhantomGrid, zslice: slice, edge_mm: float) -> np.ndarray:
    """Occupancy in [0, 1] of the tubes over the slices `zslice` of the grid."""
    xs, ys, zs = grid.axis("x"), grid.axis("y"), grid.axis("z")[zslice]
    occupancy = np.zeros((len(zs), len(ys), len(xs)), dtype=np.float32)
    if len(segments) == 0 or len(zs) == 0:
        return occupancy
    reach = np.maximum(segments.r_start, segments.r_end) + edge_mm
    low = np.minimum(segments.start, segments.end) - reach[:, None]
    high = np.maximum(segments.start, segments.end) + reach[:, None]
    all_z = grid.axis("z")
    z_first = np.searchsorted(all_z, low[:, 2])
    z_stop = np.searchsorted(all_z, high[:, 2], side="right")
    # A thin tube lying between two slice centres still shows in the nearest slice, as it
    # would through the slice thickness of a real scan.
    nearest = np.clip(np.rint((0.5 * (low[:, 2] + high[:, 2]) - all_z[0]) / grid.spacing[2]), 0, len(all_z) - 1)
    thin = z_stop <= z_first
    z_first = np.where(thin, nearest, z_first).astype(int)
    z_stop = np.where(thin, nearest + 1, z_stop).astype(int)
    chunk_start = zslice.start or 0
    z_first = np.maximum(z_first, chunk_start) - chunk_start
    z_stop = np.minimum(z_stop, chunk_start + len(zs)) - chunk_start
    inv_edge = np.float32(1.0 / edge_mm)
    for i in np.flatnonzero(z_stop > z_first):
        x0, x1 = np.searchsorted(xs, [low[i, 0], high[i, 0]])
        y0, y1 = np.searchsorted(ys, [low[i, 1], high[i, 1]])
        z0, z1 = z_first[i], z_stop[i]
        if x1 <= x0 or y1 <= y0:
            continue
        p0 = segments.start[i].astype(np.float32)
        direction = (segments.end[i] - segments.start[i]).astype(np.float32)
        length2 = max(float(direction @ direction), 1e-6)
        X = xs[x0:x1][None, None, :] - p0[0]
        Y = ys[y0:y1][None, :, None] - p0[1]
        if thin[i]:
            Z = np.full((1, 1, 1), 0.5 * (low[i, 2] + high[i, 2]) - p0[2], dtype=np.float32)
        else:
            Z = zs[z0:z1][:, None, None] - p0[2]
        t = np.clip((X * direction[0] + Y * direction[1] + Z * direction[2]) * np.float32(1.0 / length2), 0.0, 1.0)
        distance = np.sqrt((X - t * direction[0]) ** 2 + (Y - t * direction[1]) ** 2 + (Z - t * direction[2]) ** 2)
        radius = np.float32(segments.r_start[i]) + t * np.float32(segments.r_end[i] - segments.r_start[i])
        tube = np.clip(np.float32(0.5) + (radius - distance) * inv_edge, 0.0, 1.0)
        block = occupancy[z0:z1, y0:y1, x0:x1]
        np.maximum(block, tube, out=block)
    return occupancy


def split_by_radius(segments: Segments, radius_mm: float):
    """(thin, thick): segments thinner than `radius_mm` at both ends, and the rest."""
    thin = np.maximum(segments.r_start, segments.r_end) < radius_mm

    def pick(which):
        return Segments(segments.start[which], segments.end[which], segments.r_start[which], segments.r_end[which])

    return pick(thin), pick(~thin)


class SplattedTubes:
    """Occupancy of tubes thinner than a voxel, by their volume: partial volume at its
    simplest, so a 0.6 mm vessel in a 0.7 x 0.7 x 2.5 mm voxel is faint but present.

    Each segment is cut into pieces no longer than half a pixel; a piece at point c carries
    the volume pi r^2 ds and spreads it over the 8 voxels around c with trilinear weights,
    and a voxel's occupancy is the volume it received over its own (clipped at 1). The total
    volume is kept exactly wherever the tube lies inside the grid. The spread is computed
    once for the whole grid and read block by block.
    """

    def __init__(self, segments: Segments, grid: PhantomGrid):
        self.grid = grid
        nz, ny, nx = grid.shape
        self.slice_voxels = ny * nx
        if len(segments) == 0:
            self.index, self.volume = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
            return
        step = 0.5 * min(grid.spacing)
        length = np.linalg.norm(segments.end - segments.start, axis=1)
        pieces = np.maximum(1, np.ceil(length / step)).astype(int)
        owner = np.repeat(np.arange(len(segments)), pieces)
        first = np.repeat(np.cumsum(pieces) - pieces, pieces)
        t = (np.arange(len(owner)) - first + 0.5) / pieces[owner]
        centre = segments.start[owner] + t[:, None] * (segments.end[owner] - segments.start[owner])
        radius = segments.r_start[owner] + t * (segments.r_end[owner] - segments.r_start[owner])
        volume = np.pi * radius**2 * (length[owner] / pieces[owner])
        continuous = grid.index_of(centre)  # (x, y, z) indices
        base = np.floor(continuous).astype(np.int64)
        frac = continuous - base
        indices, volumes = [], []
        for corner in range(8):
            offset = np.array([(corner >> 2) & 1, (corner >> 1) & 1, corner & 1])
            weight = np.prod(np.where(offset == 1, frac, 1.0 - frac), axis=1)
            i = base + offset
            inside = np.all((i >= 0) & (i < np.array([nx, ny, nz])), axis=1) & (weight > 0)
            indices.append(i[inside, 2] * self.slice_voxels + i[inside, 1] * nx + i[inside, 0])
            volumes.append(volume[inside] * weight[inside])
        index, volume = np.concatenate(indices), np.concatenate(volumes)
        order = np.argsort(index, kind="stable")
        voxel_volume = float(np.prod(grid.spacing))
        self.index, self.volume = index[order], (volume[order] / voxel_volume).astype(np.float32)

    def block(self, zslice: slice) -> np.ndarray:
        nz, ny, nx = self.grid.shape
        z0, z1 = zslice.start or 0, min(nz, zslice.stop if zslice.stop is not None else nz)
        low, high = np.searchsorted(self.index, [z0 * self.slice_voxels, z1 * self.slice_voxels])
        occupancy = np.bincount(
            self.index[low:high] - z0 * self.slice_voxels,
            weights=self.volume[low:high],
            minlength=(z1 - z0) * self.slice_voxels,
        )
        return np.minimum(occupancy, 1.0).astype(np.float32).reshape(z1 - z0, ny, nx)
