"""The upper abdomen under the diaphragm: liver with its veins, stomach with a gas bubble over
its fluid, spleen, kidneys in their fat, and the colon with gas and stool.

Organs are ellipsoids clipped to the abdominal cavity (signed distances in mm, negative
inside), placed relative to the domes so that they follow the diaphragm from seed to seed.
The patient lies supine and gas rises: in the stomach and colon the gas lies anterior
(smaller y, LPS) of a flat air-fluid level. The level is horizontal in the scanner, so it is
evaluated in scanner coordinates and does not tilt with the breathing deformation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ipv2.phantom.anatomy import Anatomy
from ipv2.phantom.grid import z_from_u
from ipv2.phantom.shapes import ellipsoid_distance
from ipv2.phantom.tubes import Segments

STOMACH_WALL_MM = 4.0
COLON_WALL_MM = 2.5
PERIRENAL_FAT_MM = 6.0


@dataclass(frozen=True)
class Ellipsoid:
    centre: tuple  # (x, y, z) mm
    semi_axes: tuple  # (a, b, c) mm

    def distance(self, X, Y, Z, inset=0.0):
        (cx, cy, cz), (a, b, c) = self.centre, self.semi_axes
        return ellipsoid_distance(
            X - np.float32(cx), Y - np.float32(cy), Z - np.float32(cz), a - inset, b - inset, c - inset
        )


@dataclass(frozen=True)
class Abdomen:
    stomach: Ellipsoid
    stomach_level_y: float  # the air-fluid level in the stomach (scanner y, mm)
    spleen: Ellipsoid
    kidneys: tuple  # (right, left) Ellipsoid
    colon: Segments  # lumen; the wall is added by the renderer
    colon_level_y: float
    liver_veins: Segments

    @classmethod
    def draw(cls, rng: np.random.Generator, anatomy: Anatomy) -> Abdomen:
        w = anatomy.width_scale
        left_dome = anatomy.left_dome_u
        stomach_centre = (rng.uniform(44, 56) * w, rng.uniform(-30, -20), float(z_from_u(left_dome + 0.17)))
        stomach = Ellipsoid(stomach_centre, (42.0 * w, rng.uniform(30, 36), rng.uniform(34, 42)))
        # Gas fills the front 8-25 mm of the lumen.
        anterior_lumen = stomach_centre[1] - stomach.semi_axes[1] + STOMACH_WALL_MM
        stomach_level_y = anterior_lumen + rng.uniform(8, 25)
        spleen = Ellipsoid(
            (rng.uniform(78, 88) * w, rng.uniform(25, 40), float(z_from_u(left_dome + 0.22))),
            (24.0, rng.uniform(42, 50), 48.0),
        )
        kidney_top_u = rng.uniform(0.93, 0.99)
        kidneys = tuple(
            Ellipsoid((side * 47.0 * w, 50.0, float(z_from_u(kidney_top_u + drop)) - 52.0), (24.0, 20.0, 52.0))
            for side, drop in ((-1, 0.07), (1, 0.0))
        )  # the right kidney lies lower
        colon = _colon(rng, anatomy)
        colon_level_y = rng.uniform(-50, -25)
        return cls(stomach, stomach_level_y, spleen, kidneys, colon, colon_level_y, _liver_veins(rng, anatomy))


def _jitter(rng, points, mm):
    return np.asarray(points, dtype=float) + rng.uniform(-mm, mm, (len(points), 3))


def _colon(rng, anatomy: Anatomy) -> Segments:
    """Transverse colon across the front, up to the splenic flexure under the left dome and
    down into the descending colon at the back of the left flank."""
    w, top = anatomy.width_scale, anatomy.left_dome_u + 0.10
    path = [
        (-70 * w, -62, top + 0.38),
        (-25 * w, -68, top + 0.30),
        (25 * w, -66, top + 0.20),
        (72 * w, -48, top + 0.06),
        (90 * w, -18, top),
        (94 * w, 15, top + 0.12),
        (90 * w, 22, top + 0.45),
    ]
    points = _jitter(rng, [(x, y, float(z_from_u(u))) for x, y, u in path], 5.0)
    radii = [20, 20, 19, 19, 18, 16, 15]
    return Segments.from_polyline(points, radii)


def _liver_veins(rng, anatomy: Anatomy) -> Segments:
    """The right, middle and left hepatic veins fanning out from the inferior vena cava, and
    the portal vein branching into the liver from below."""
    w, dome = anatomy.width_scale, anatomy.right_dome_u
    confluence = (-18.0, 10.0, float(z_from_u(dome + 0.06)))
    veins = Segments.empty()
    for x, y, du in ((-85, -5, 0.20), (-45, -50, 0.20), (2, -48, 0.22)):
        tip = _jitter(rng, [(x * w, y, float(z_from_u(dome + du)))], 6.0)[0]
        mid = 0.5 * (np.asarray(confluence) + tip) + rng.uniform(-6, 6, 3)
        veins = veins.concat(Segments.from_polyline([confluence, mid, tip], [5.5, 4.0, 2.0]))
    portal = (-30.0, 5.0, float(z_from_u(dome + 0.40)))
    for x, y, du in ((-75, 5, 0.30), (-30, -45, 0.28)):
        tip = _jitter(rng, [(x * w, y, float(z_from_u(dome + du)))], 6.0)[0]
        veins = veins.concat(Segments.from_polyline([portal, tip], [6.5, 3.0]))
    return veins
