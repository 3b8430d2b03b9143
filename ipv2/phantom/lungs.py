"""The lungs: their envelope inside the chest, the parenchyma with its texture and gravity
gradient, the fissures between the lobes, and the nodules."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ipv2.phantom.anatomy import (
    BODY_CENTRE_Y,
    DIAPHRAGM_MM,
    PLEURA_MM,
    Anatomy,
    below_diaphragm_distance,
    cavity_distance,
    mediastinum_distance,
)
from ipv2.phantom.grid import REFERENCE_SCAN_MM, u_from_z
from ipv2.phantom.texture import COARSE, FINE
from ipv2.phantom.tubes import Segments

PARENCHYMA_HU = -858.0
GRAVITY_HU = 28.0  # the dependent (posterior) lung is denser when lying supine
FINE_TEXTURE_HU = 22.0
COARSE_TEXTURE_HU = 14.0
FISSURE_LINE_INTEGRAL = 110.0  # HU x mm: a fissure 0.5 mm thick at about 220 HU above lung
GROUND_GLASS_TEXTURE_HU = 35.0
SEPTA_DEPTH_MM = 15.0  # interlobular septa show within this depth of the pleura
SEPTA_LINE_INTEGRAL = 45.0  # HU x mm: a septum 0.1-0.2 mm thick
SEPTA_FIELD_MM = 5.0  # distance to the zero set of the septa field per unit of its value
TUMOUR_HALO_MM = 5.0  # ground glass around the solid mass
TUMOUR_HALO_EDGE_MM = 3.0  # the halo fades into the lung rather than ending sharply


def lung_distance(anatomy: Anatomy, X, Y, Z):
    """Both lungs: the cavity less pleura, mediastinum and diaphragm (negative inside)."""
    cavity = cavity_distance(anatomy, X, Y, Z) + PLEURA_MM
    mediastinum = -mediastinum_distance(anatomy, X, Y, Z)
    floor = -below_diaphragm_distance(anatomy, X, Y, Z) + DIAPHRAGM_MM
    return np.maximum(np.maximum(cavity, mediastinum), floor)


def parenchyma_hu(Y, texture) -> np.ndarray:
    gravity = GRAVITY_HU * np.clip((Y - BODY_CENTRE_Y) / 90.0, -1.0, 1.0)
    return (PARENCHYMA_HU + gravity + FINE_TEXTURE_HU * texture[FINE] + COARSE_TEXTURE_HU * texture[COARSE]).astype(
        np.float32
    )


def _oblique_fissure_u(X, Y):
    """The oblique fissure runs from high behind to low in front, curving laterally."""
    return 0.15 + 0.8 * (50.0 - Y) / 110.0 + 0.05 * ((np.abs(X) - 70.0) / 50.0) ** 2


def fissure_hu(anatomy: Anatomy, X, Y, Z, pixel_mm: float) -> np.ndarray:
    """Extra density of the fissures: thin sheets, widened to the pixel size at coarse grids
    with the same line integral so that they fade rather than vanish."""
    width = max(0.5, 0.45 * pixel_mm)
    peak = FISSURE_LINE_INTEGRAL / (np.sqrt(np.pi) * width)
    u = u_from_z(Z)
    oblique_u = _oblique_fissure_u(X, Y)
    # slope of the oblique fissure: 0.8 u over 110 mm of y; distance measured across it
    cos_slope = 1.0 / np.sqrt(1.0 + (0.8 * REFERENCE_SCAN_MM / 110.0) ** 2)
    oblique = (u - oblique_u) * REFERENCE_SCAN_MM * cos_slope
    sheet = np.exp(-((oblique / width) ** 2))
    horizontal_u = 0.45
    horizontal = (u - horizontal_u) * REFERENCE_SCAN_MM
    in_right_upper_front = (X < anatomy.mediastinum_x) & (oblique_u > horizontal_u)
    sheet = np.maximum(sheet, np.where(in_right_upper_front, np.exp(-((horizontal / width) ** 2)), 0.0))
    return (peak * sheet).astype(np.float32)


def septa_hu(anatomy: Anatomy, X, Y, Z, depth_mm, sample_septa, pixel_mm: float) -> np.ndarray:
    """Interlobular septa near the pleura: thin sheets perpendicular to it.

    `depth_mm` is the depth inside the lung (-lung_distance). A smooth random field F is read
    at the pleural foot point q = p + depth * n of each voxel (n the outward normal, from the
    gradient of the lung distance), so F is constant along n and its zero set is a network
    of sheets that meet the pleura at right angles; the sheets fade out over SEPTA_DEPTH_MM.
    `sample_septa(x, y, z)` returns F at points. Same line-integral rule as the fissures.
    Only voxels within SEPTA_DEPTH_MM of the pleura are evaluated.
    """
    X, Y, Z, depth = np.broadcast_arrays(X, Y, Z, depth_mm)
    out = np.zeros(X.shape, dtype=np.float32)
    near = (depth > 0.0) & (depth < SEPTA_DEPTH_MM)
    if not near.any():
        return out
    x, y, z, d = X[near], Y[near], Z[near], depth[near]
    step = np.float32(0.5)
    base = lung_distance(anatomy, x, y, z)
    normal = [
        (lung_distance(anatomy, x + step, y, z) - base) / step,
        (lung_distance(anatomy, x, y + step, z) - base) / step,
        (lung_distance(anatomy, x, y, z + step) - base) / step,
    ]
    norm = np.sqrt(normal[0] ** 2 + normal[1] ** 2 + normal[2] ** 2) + np.float32(1e-6)
    unit = [n / norm for n in normal]
    foot = [c + d * n for c, n in zip((x, y, z), unit)]
    # The distance is first order away from the surface: one Newton step onto it.
    miss = lung_distance(anatomy, *foot)
    foot = [f - miss * n for f, n in zip(foot, unit)]
    field = sample_septa(*foot)
    width = max(0.4, 0.45 * pixel_mm)
    peak = SEPTA_LINE_INTEGRAL / (np.sqrt(np.pi) * width)
    fade = 1.0 - d / np.float32(SEPTA_DEPTH_MM)
    out[near] = peak * fade * np.exp(-((field * np.float32(SEPTA_FIELD_MM / width)) ** 2))
    return out


@dataclass
class Tumour:
    """A solid, lobulated mass (overlapping spheres) in a ground-glass halo."""

    lobes: Segments  # spheres as zero-length tubes, NDCT state
    halo_mm: float = TUMOUR_HALO_MM

    @property
    def centre(self) -> np.ndarray:
        return self.lobes.start[0]

    @property
    def diameter_mm(self) -> float:
        reach = np.linalg.norm(self.lobes.start - self.centre, axis=1) + self.lobes.r_start
        return float(2.0 * reach.max())


def draw_tumour(rng: np.random.Generator, anatomy: Anatomy, z_range) -> Tumour | None:
    """A 2-4 cm mass well inside a lung within the scanned slab, or None where none fits."""
    radius = 0.5 * rng.uniform(20.0, 40.0)
    core = 0.65 * radius
    count = int(rng.integers(4, 7))
    directions = rng.standard_normal((count, 3))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    lobe_radii = rng.uniform(0.35, 0.5, count) * radius
    offsets = directions * (radius - lobe_radii)[:, None]
    clearance_needed = radius + TUMOUR_HALO_MM + TUMOUR_HALO_EDGE_MM
    z_low, z_high = z_range
    for _ in range(100):
        candidates = np.column_stack(
            [rng.uniform(-140, 140, 256), rng.uniform(-90, 60, 256), rng.uniform(z_low, z_high, 256)]
        )
        clearance = -lung_distance(anatomy, candidates[:, 0], candidates[:, 1], candidates[:, 2])
        good = np.flatnonzero(clearance > clearance_needed)
        if len(good):
            centre = candidates[good[0]]
            points = np.vstack([centre, centre + offsets])
            radii = np.concatenate([[core], lobe_radii])
            return Tumour(Segments(points, points.copy(), radii, radii.copy()))
    return None


@dataclass
class Nodules:
    centres: np.ndarray  # (N, 3) mm in the NDCT state
    radii: np.ndarray
    ground_glass: np.ndarray  # bool

    def segments(self, which: np.ndarray) -> Segments:
        """Spheres as zero-length tubes, for the tube rasteriser."""
        c, r = self.centres[which], self.radii[which]
        return Segments(c.copy(), c.copy(), r.copy(), r.copy())


def draw_nodules(rng: np.random.Generator, anatomy: Anatomy, z_range, solid=3, ground_glass=2) -> Nodules:
    """Nodules at random places well inside the lungs within the scanned slab."""
    radii = np.concatenate([rng.uniform(2.5, 6.0, solid), rng.uniform(4.0, 9.0, ground_glass)])
    kinds = np.concatenate([np.zeros(solid, bool), np.ones(ground_glass, bool)])
    z_low, z_high = z_range
    centres = np.zeros((len(radii), 3))
    placed = 0
    for _ in range(200):
        if placed == len(radii):
            break
        candidates = np.column_stack(
            [rng.uniform(-140, 140, 256), rng.uniform(-90, 60, 256), rng.uniform(z_low, z_high, 256)]
        )
        r = radii[placed]
        clearance = -lung_distance(anatomy, candidates[:, 0], candidates[:, 1], candidates[:, 2])
        good = np.flatnonzero(clearance > r + 4.0)
        if len(good):
            centres[placed] = candidates[good[0]]
            placed += 1
    return Nodules(centres[:placed], radii[:placed], kinds[:placed])


def nodule_slab(grid_z_axis) -> tuple:
    """The z range nodules are placed in: inside the scan, away from its first and last slice."""
    low, high = float(grid_z_axis.min()), float(grid_z_axis.max())
    margin = min(8.0, 0.2 * (high - low))
    return (low + margin, max(low + margin, high - margin))
