"""Everything about one phantom that the seed decides, drawn once and shared by both
breathing states."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ipv2.phantom.abdomen import Abdomen
from ipv2.phantom.anatomy import Anatomy
from ipv2.phantom.breathing import Breathing
from ipv2.phantom.grid import PhantomGrid
from ipv2.phantom.lungs import Nodules, Tumour, draw_nodules, draw_tumour, lung_distance, nodule_slab
from ipv2.phantom.skeleton import TrabecularPattern
from ipv2.phantom.texture import SEPTA_SCALE, TextureFields
from ipv2.phantom.trees import (
    bronchi_beside,
    central_airways,
    esophagus,
    great_vessels,
    peripheral_twigs,
    pulmonary_vessels,
)
from ipv2.phantom.tubes import Segments

TREE_MARGIN_Z_MM = 20.0  # trees grow a little beyond the scanned slab, no further
TEXTURE_MARGIN_MM = 30.0  # deformed coordinates reach a little outside the grid
TWIG_HALF_WIDTH_MM = 160.0  # the box that holds both lungs of the widest chest
TWIG_Y_RANGE_MM = (-110.0, 80.0)


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
    tumour: Tumour | None
    abdomen: Abdomen
    septa: TextureFields  # one channel, read at the pleura
    trabeculae: TrabecularPattern

    @property
    def edge_mm(self) -> float:
        return self.grid.pixel_mm

    def summary(self) -> dict:
        """What the seed drew, for phantom.json."""
        radii = np.concatenate([self.vessels.r_start, self.vessels.r_end])
        return {
            **self.anatomy.summary(),
            "breathing_mm": round(self.breathing.motion_mm, 3),
            "vessel_segments": len(self.vessels),
            "smallest_vessel_diameter_mm": round(float(2.0 * radii.min()), 3) if len(radii) else None,
            "tumour_diameter_mm": round(self.tumour.diameter_mm, 1) if self.tumour is not None else None,
            "tumour_centre_mm": ([round(float(c), 1) for c in self.tumour.centre] if self.tumour is not None else None),
        }


VESSEL_MIN_RADIUS_MM = 0.3  # 0.6 mm calibre: the smallest vessels seen on thin-section CT


def vessel_min_radius(pixel_mm: float) -> float:
    """Vessels down to 0.6 mm calibre; at coarse pixels, where a vessel of radius r adds
    only about (r / pixel)^2 of its contrast, those under a sixth of a pixel are pruned."""
    return max(VESSEL_MIN_RADIUS_MM, pixel_mm / 6.0)


def airway_min_radius(pixel_mm: float) -> float:
    return max(1.0, 0.6 * pixel_mm)


def build_phantom_model(grid: PhantomGrid, seed: int, motion_mm: float, tumour: bool = True) -> PhantomModel:
    """The seeded model of one phantom; `tumour=False` leaves the tumour out and nothing else."""
    # Independent streams, so that e.g. a change in the vessel tree leaves the nodules alone.
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(9)]
    anatomy = Anatomy.draw(streams[0])
    breathing = Breathing.draw(streams[1], motion_mm)
    motion_mm = breathing.motion_mm
    x, y, z = grid.axis("x"), grid.axis("y"), grid.axis("z")
    low = np.array([x[0], y[0], z[0]], dtype=float) - TEXTURE_MARGIN_MM - motion_mm
    high = np.array([x[-1], y[-1], z[-1]], dtype=float) + TEXTURE_MARGIN_MM + motion_mm
    textures = TextureFields.draw(streams[2], low, high)
    z_low, z_high = float(z[0]) - TREE_MARGIN_Z_MM, float(z[-1]) + TREE_MARGIN_Z_MM

    def depth_inside(points):
        inside = -lung_distance(anatomy, points[:, 0], points[:, 1], points[:, 2])
        return np.minimum(inside, np.minimum(points[:, 2] - z_low, z_high - points[:, 2]))

    arteries, veins = pulmonary_vessels(streams[3], depth_inside, vessel_min_radius(grid.pixel_mm))
    twig_box = ([-TWIG_HALF_WIDTH_MM, TWIG_Y_RANGE_MM[0], z_low], [TWIG_HALF_WIDTH_MM, TWIG_Y_RANGE_MM[1], z_high])
    twigs = peripheral_twigs(streams[3], depth_inside, vessel_min_radius(grid.pixel_mm), *twig_box)
    bronchi = bronchi_beside(arteries, depth_inside, airway_min_radius(grid.pixel_mm))
    abdomen = Abdomen.draw(streams[4], anatomy)
    nodules = draw_nodules(streams[5], anatomy, nodule_slab(z))
    drawn_tumour = draw_tumour(streams[6], anatomy, nodule_slab(z))
    septa = TextureFields.draw(streams[7], low, high, scales=(SEPTA_SCALE,))
    return PhantomModel(
        grid=grid,
        anatomy=anatomy,
        breathing=breathing,
        textures=textures,
        vessels=arteries.segments.concat(veins.segments).concat(twigs),
        bronchi=bronchi,
        central_airways=central_airways(),
        great_vessels=great_vessels(),
        esophagus=esophagus(),
        nodules=nodules,
        tumour=drawn_tumour if tumour else None,
        abdomen=abdomen,
        septa=septa,
        trabeculae=TrabecularPattern.draw(streams[8]),
    )
