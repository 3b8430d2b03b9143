"""The lungs: their envelope inside the chest, the parenchyma with its texture and gravity
gradient, the fissures between the lobes, and the nodules."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ipv2.phantom.anatomy import (BODY_CENTRE_Y, DIAPHRAGM_MM, PLEURA_MM, Anatomy,
                                  below_diaphragm_distance, cavity_distance, mediastinum_distance)
from ipv2.phantom.grid import REFERENCE_SCAN_MM, u_from_z
from ipv2.phantom.texture import COARSE, FINE
from ipv2.phantom.tubes import Segments

PARENCHYMA_HU = -858.0
GRAVITY_HU = 28.0  # the dependent (posterior) lung is denser when lying supine
FINE_TEXTURE_HU = 22.0
COARSE_TEXTURE_HU = 14.0
FISSURE_LINE_INTEGRAL = 110.0  # HU x mm: a fissure 0.5 mm thick at about 220 HU above lung
GROUND_GLASS_TEXTURE_HU = 35.0


def lung_distance(anatomy: Anatomy, X, Y, Z):
    """Both lungs: the cavity less pleura, mediastinum and diaphragm (negative inside)."""
    cavity = cavity_distance(anatomy, X, Y, Z) + PLEURA_MM
    mediastinum = -mediastinum_distance(anatomy, X, Y, Z)
    floor = -below_diaphragm_distance(anatomy, X, Y, Z) + DIAPHRAGM_MM
    return np.maximum(np.maximum(cavity, mediastinum), floor)


def parenchyma_hu(Y, texture) -> np.ndarray:
    gravity = GRAVITY_HU * np.clip((Y - BODY_CENTRE_Y) / 90.0, -1.0, 1.0)
    return (PARENCHYMA_HU + gravity + FINE_TEXTURE_HU * texture[FINE]
            + COARSE_TEXTURE_HU * texture[COARSE]).astype(np.float32)


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
    sheet = np.exp(-(oblique / width) ** 2)
    horizontal_u = 0.45
    horizontal = (u - horizontal_u) * REFERENCE_SCAN_MM
    in_right_upper_front = (X < anatomy.mediastinum_x) & (oblique_u > horizontal_u)
    sheet = np.maximum(sheet, np.where(in_right_upper_front, np.exp(-(horizontal / width) ** 2), 0.0))
    return (peak * sheet).astype(np.float32)


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
        candidates = np.column_stack([rng.uniform(-140, 140, 256), rng.uniform(-90, 60, 256),
                                      rng.uniform(z_low, z_high, 256)])
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

