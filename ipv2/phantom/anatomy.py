"""The seeded proportions of one phantom and the shapes of its chest wall, mediastinum,
heart, diaphragm and upper abdomen, as signed distances (mm, negative inside).

All functions take broadcastable coordinate arrays X, Y, Z in mm (LPS) so that the same
anatomy is evaluated on the regular grid (NDCT state) and at deformed coordinates (uLDCT
state).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ipv2.phantom.grid import REFERENCE_SCAN_MM, u_from_z
from ipv2.phantom.shapes import ellipse_distance, ellipsoid_distance, sigmoid, smoothstep

BODY_CENTRE_Y = -5.0
BACK_Y = 95.0  # the patient's back rests on the table here
BODY_HALF_DEPTH_POSTERIOR = 112.0
RIB_CAGE_HALF_DEPTH_POSTERIOR = 74.0
RIB_BAND_MM = 9.0  # ribs and intercostal muscle
PLEURA_MM = 2.0
DIAPHRAGM_MM = 4.0
VERTEBRA_CENTRE_Y = 36.0
CANAL_CENTRE_Y = 60.0


@dataclass(frozen=True)
class Anatomy:
    """Per-patient proportions drawn from the seed."""

    width_scale: float = 1.0
    depth_scale: float = 1.0
    fat_scale: float = 1.0
    heart_shift_x: float = 0.0
    heart_shift_y: float = 0.0
    heart_scale: float = 1.0
    mediastinum_x: float = 5.0
    right_dome_u: float = 0.80
    left_dome_u: float = 0.87
    rib_phase_mm: float = 0.0
    disc_phase_mm: float = 0.0
    arms_down: bool = False  # arms beside the chest (else raised above the head, out of the scan)
    arm_gap_mm: float = 6.0

    @classmethod
    def draw(cls, rng: np.random.Generator) -> Anatomy:
        # Slim to broad chests; width and depth independently, so the shape varies too. The
        # depth range is narrower: the heart and sternum leave less room front to back.
        right_dome = rng.uniform(0.72, 0.80)
        return cls(
            width_scale=rng.uniform(0.86, 1.10),
            depth_scale=rng.uniform(0.93, 1.12),
            fat_scale=rng.uniform(0.6, 1.6),
            heart_shift_x=rng.uniform(-5, 5),
            heart_shift_y=rng.uniform(-4, 4),
            heart_scale=rng.uniform(0.94, 1.06),
            mediastinum_x=rng.uniform(2, 8),
            right_dome_u=right_dome,
            left_dome_u=right_dome + rng.uniform(0.05, 0.09),
            rib_phase_mm=rng.uniform(0, 24),
            disc_phase_mm=rng.uniform(0, 30),
            arms_down=bool(rng.uniform() < 0.5),
            arm_gap_mm=rng.uniform(0.0, 12.0),
        )

    def summary(self) -> dict:
        """The drawn proportions a user may want to know (phantom.json)."""
        return {
            "width_scale": round(self.width_scale, 4),
            "depth_scale": round(self.depth_scale, 4),
            "fat_scale": round(self.fat_scale, 4),
            "arms_down": self.arms_down,
        }

    # -- proportions along the body ------------------------------------------------------
    def body_half_width(self, u):
        return self.width_scale * (146.0 + 14.0 * smoothstep(u))

    def body_half_depth_anterior(self, u):
        return self.depth_scale * (96.0 + 10.0 * smoothstep(u))

    def rib_cage_half_width(self, u):
        return self.body_half_width(u) - 24.0 - 4.0 * (1.0 - smoothstep(u))

    def rib_cage_half_depth_anterior(self, u):
        return self.body_half_depth_anterior(u) - 24.0

    def heart_centre(self):
        return (18.0 + self.heart_shift_x, -20.0 + self.heart_shift_y)


def body_distance(anatomy: Anatomy, X, Y, Z, lateral=0.0, anterior=0.0, posterior=0.0):
    """The skin surface moved inwards by the given thicknesses (the layers of the wall)."""
    u = u_from_z(Z)
    dy = Y - BODY_CENTRE_Y
    half_depth = np.where(dy < 0, anatomy.body_half_depth_anterior(u) - anterior, BODY_HALF_DEPTH_POSTERIOR - posterior)
    ellipse = ellipse_distance(X, dy, anatomy.body_half_width(u) - lateral, half_depth)
    return np.maximum(ellipse, Y - (BACK_Y - posterior))


def subcutaneous_fat_inner_distance(anatomy: Anatomy, X, Y, Z):
    f = anatomy.fat_scale
    return body_distance(anatomy, X, Y, Z, lateral=2 + 10 * f, anterior=2 + 9 * f, posterior=2 + 8 * f)


def rib_cage_distance(anatomy: Anatomy, X, Y, Z, inset=0.0):
    """Outer surface of the rib cage, moved inwards by `inset` mm (negative: outwards)."""
    u = u_from_z(Z)
    dy = Y - BODY_CENTRE_Y
    half_depth = np.where(dy < 0, anatomy.rib_cage_half_depth_anterior(u), RIB_CAGE_HALF_DEPTH_POSTERIOR) - inset
    return ellipse_distance(X, dy, anatomy.rib_cage_half_width(u) - inset, half_depth)


def spine_region_distance(X, Y):
    """Vertebral column with its muscles: no lung or mediastinal fat reaches inside."""
    around_body = ellipse_distance(X, Y - VERTEBRA_CENTRE_Y, 23.0, 20.0)
    behind = np.maximum(np.abs(X) - 20.0, VERTEBRA_CENTRE_Y - Y)
    return np.minimum(around_body, behind)


def cavity_distance(anatomy: Anatomy, X, Y, Z):
    """The thoracic cavity inside the ribs, less the spine."""
    inside_ribs = rib_cage_distance(anatomy, X, Y, Z, inset=RIB_BAND_MM + PLEURA_MM)
    return np.maximum(inside_ribs, -spine_region_distance(X, Y))


def heart_distance(anatomy: Anatomy, X, Y, Z):
    """The heart: an ellipsoid whose long axis points left, anterior and down."""
    cx, cy = anatomy.heart_centre()
    cz = 60.0 - 0.74 * REFERENCE_SCAN_MM
    dx, dy, dz = X - cx, Y - cy, Z - cz
    cos_a, sin_a = np.float32(0.866), np.float32(0.5)
    along = dx * cos_a - dy * sin_a
    across = dx * sin_a + dy * cos_a
    s = anatomy.heart_scale
    return ellipsoid_distance(along, across, dz, 54.0 * s, 41.0 * s, 46.0 * s)


def mediastinum_distance(anatomy: Anatomy, X, Y, Z):
    """The space between the lungs: a central band, wide behind and at the great vessels,
    narrow at the anterior junction, plus the heart in its fat. The great vessels are
    tubes; the renderer keeps the lungs off them."""
    u = u_from_z(Z)
    half_width = 6.0 + 14.0 * smoothstep((Y + 45.0) / 45.0) + 4.0 * (1.0 - smoothstep((u - 0.05) / 0.25))
    band = np.abs(X - anatomy.mediastinum_x) - half_width
    return np.minimum(band, heart_distance(anatomy, X, Y, Z) - 7.0)


def dome_u(anatomy: Anatomy, X, Y):
    """Craniocaudal position of the diaphragm under each point; the right dome is higher and
    the posterior recesses reach lowest."""
    recess = 0.10 * smoothstep((Y - 10.0) / 60.0)
    spread = (0.8 * (Y - 5.0)) ** 2
    right = anatomy.right_dome_u + 0.16 * ((X + 65.0) ** 2 + spread) / 3600.0 + recess
    left = anatomy.left_dome_u + 0.16 * ((X - 65.0) ** 2 + spread) / 3600.0 + recess
    side = sigmoid((X - anatomy.mediastinum_x) / 12.0)
    return right + side * (left - right)


def below_diaphragm_distance(anatomy: Anatomy, X, Y, Z):
    """Negative below the dome (the abdomen), in mm along z."""
    return (dome_u(anatomy, X, Y) - u_from_z(Z)) * REFERENCE_SCAN_MM


def abdomen_distance(anatomy: Anatomy, X, Y, Z):
    """The abdominal cavity under the diaphragm (negative inside)."""
    return np.maximum(cavity_distance(anatomy, X, Y, Z), below_diaphragm_distance(anatomy, X, Y, Z))


ARM_HALF_WIDTH_MM = 42.0
ARM_HALF_DEPTH_MM = 48.0
ARM_CENTRE_Y = 0.0


def arm_centres_x(anatomy: Anatomy):
    """Centres of the upper arms beside the widest part of the chest (right, left)."""
    x = anatomy.body_half_width(1.0) + anatomy.arm_gap_mm + ARM_HALF_WIDTH_MM
    return -x, x


def arm_distance(anatomy: Anatomy, X, Y, inset=0.0):
    """Both upper arms, straight along z, moved inwards by `inset` mm."""
    right, left = arm_centres_x(anatomy)
    a, b = ARM_HALF_WIDTH_MM - inset, ARM_HALF_DEPTH_MM - inset
    return np.minimum(
        ellipse_distance(X - right, Y - ARM_CENTRE_Y, a, b), ellipse_distance(X - left, Y - ARM_CENTRE_Y, a, b)
    )


def liver_side_distance(anatomy: Anatomy, X, Y):
    """The liver fills the right upper abdomen and reaches left in front."""
    return X - (anatomy.mediastinum_x + 10.0 - 0.4 * (Y + 20.0))
