"""Everything about one phantom that the seed decides, drawn once and shared by both
breathing states."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ipv2.phantom.anatomy import Anatomy
from ipv2.phantom.breathing import Breathing
from ipv2.phantom.grid import PhantomGrid
from ipv2.phantom.lungs import Nodules, draw_nodules, lung_distance, nodule_slab
from ipv2.phantom.texture import TextureFields
from ipv2.phantom.trees import bronchial_tree, central_airways, esophagus, great_vessels, pulmonary_vessels
from ipv2.phantom.tubes import Segments

TREE_MARGIN_Z_MM = 20.0  # trees grow a little beyond the scanned slab, no further
TEXTURE_MARGIN_MM = 30.0  # deformed coordinates reach a little outside the grid


@dataclass
class PhantomModel:
    grid: PhantomGrid
    anatomy: Anatomy
    breathing: Breathing
    textures: TextureFields
    vessels: Segments
    bronchi: Segments
    central_airways: Segments
    great_vessels: Segments
    esophagus: Segments
    nodules: Nodules

    @property
    def edge_mm(self) -> float:
        return self.grid.pixel_mm


def vessel_min_radius(pixel_mm: float) -> float:
    """Vessels much thinner than a pixel add only cost, not visible structure."""
    return max(0.6, 0.35 * pixel_mm)


def airway_min_radius(pixel_mm: float) -> float:
    return max(1.0, 0.6 * pixel_mm)


def build_model(grid: PhantomGrid, seed: int, motion_mm: float) -> PhantomModel:
    # Independent streams, so that e.g. a change in the vessel tree leaves the nodules alone.
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6)]
    anatomy = Anatomy.draw(streams[0])
    breathing = Breathing.draw(streams[1], motion_mm)
    x, y, z = grid.axis("x"), grid.axis("y"), grid.axis("z")
    low = np.array([x[0], y[0], z[0]], dtype=float) - TEXTURE_MARGIN_MM - motion_mm
    high = np.array([x[-1], y[-1], z[-1]], dtype=float) + TEXTURE_MARGIN_MM + motion_mm
    textures = TextureFields.draw(streams[2], low, high)
    z_low, z_high = float(z[0]) - TREE_MARGIN_Z_MM, float(z[-1]) + TREE_MARGIN_Z_MM

    def depth_inside(points):
        inside = -lung_distance(anatomy, points[:, 0], points[:, 1], points[:, 2])
        return np.minimum(inside, np.minimum(points[:, 2] - z_low, z_high - points[:, 2]))

    vessels = pulmonary_vessels(streams[3], depth_inside, vessel_min_radius(grid.pixel_mm))
    bronchi = bronchial_tree(streams[4], depth_inside, airway_min_radius(grid.pixel_mm))
    nodules = draw_nodules(streams[5], anatomy, nodule_slab(z))
    return PhantomModel(grid=grid, anatomy=anatomy, breathing=breathing, textures=textures, vessels=vessels,
                        bronchi=bronchi, central_airways=central_airways(), great_vessels=great_vessels(),
                        esophagus=esophagus(), nodules=nodules)
