"""Ribs, spine, sternum, scapulae and humeri, painted as a cortical shell around cancellous
bone with a trabecular texture."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ipv2.phantom.anatomy import (
    ARM_CENTRE_Y,
    BODY_CENTRE_Y,
    CANAL_CENTRE_Y,
    RIB_CAGE_HALF_DEPTH_POSTERIOR,
    VERTEBRA_CENTRE_Y,
    Anatomy,
    arm_centres_x,
    rib_cage_distance,
)
from ipv2.phantom.grid import REFERENCE_SCAN_MM, u_from_z
from ipv2.phantom.shapes import ellipse_distance, smoothstep, soft
from ipv2.phantom.tissues import Canvas

RIB_PITCH_MM = 24.0  # one rib and one intercostal space along z
RIB_HALF_HEIGHT_MM = 5.5
RIB_HALF_THICKNESS_MM = 3.8
RIB_DEPTH_MM = 4.5  # centre of the rib below the outer surface of the rib cage
RIB_ANTERIOR_DROP_MM = 85.0  # ribs slope down from the spine to the sternum
VERTEBRA_PITCH_MM = 30.0
DISC_HEIGHT_MM = 6.0
HUMERUS_RADIUS_MM = 11.0
TRABECULAR_WAVELENGTH_MM = 3.0  # the grain of cancellous bone as a 0.7 mm pixel shows it
TRABECULAR_WAVES = 6
TRABECULAR_HU = 380.0  # contrast of the trabecular network over the marrow between it
TRABECULAR_WIDTH = 0.35  # of the network's strands, in units of the field's deviation


@dataclass(frozen=True)
class TrabecularPattern:
    """A network of thin struts: the ridge exp(-(T / w)^2) of a random wave field T, the
    normalised sum of plane waves with random directions and phases,
    T(p) = sqrt(2 / n) sum_i cos(k_i . p + phi_i), |k_i| = 2 pi / wavelength (unit variance).
    Its HU offset has zero mean: for T ~ N(0, 1), E[exp(-(T / w)^2)] = w / sqrt(w^2 + 2)."""

    wave_vectors: np.ndarray  # (n, 3) rad/mm
    phases: np.ndarray

    @classmethod
    def draw(cls, rng: np.random.Generator) -> TrabecularPattern:
        directions = rng.standard_normal((TRABECULAR_WAVES, 3))
        directions /= np.linalg.norm(directions, axis=1, keepdims=True)
        wavenumbers = 2.0 * np.pi / (TRABECULAR_WAVELENGTH_MM * rng.uniform(0.8, 1.25, TRABECULAR_WAVES))
        return cls(directions * wavenumbers[:, None], rng.uniform(0, 2 * np.pi, TRABECULAR_WAVES))

    def hu_offset(self, x, y, z) -> np.ndarray:
        """HU to add to cancellous bone at points given as flat arrays (mm)."""
        field = np.zeros(np.shape(x), dtype=np.float32)
        for (kx, ky, kz), phase in zip(self.wave_vectors.astype(np.float32), self.phases.astype(np.float32)):
            field += np.cos(kx * x + ky * y + kz * z + phase)
        field *= np.float32(np.sqrt(2.0 / len(self.phases)))
        w = TRABECULAR_WIDTH
        mean = w / np.sqrt(w * w + 2.0)
        return (TRABECULAR_HU * (np.exp(-((field / np.float32(w)) ** 2)) - mean)).astype(np.float32)


def cortex_mm(pixel_mm: float) -> float:
    """Cortical bone is 1-2 mm thick; at coarse pixels keep it one pixel so it stays visible."""
    return max(1.3, 0.6 * pixel_mm)


def _paint_bone(canvas: Canvas, distance, edge: float, cortex: float) -> None:
    canvas.paint(soft(distance, edge), "cortical bone")
    canvas.paint(soft(distance + cortex, edge), "cancellous bone")


def _angle_from_back(anatomy: Anatomy, X, Y, Z):
    """0 at the spine, 1 at the sternum, along the rib cage on either side."""
    u = u_from_z(Z)
    dy = Y - BODY_CENTRE_Y
    half_depth = np.where(dy < 0, anatomy.rib_cage_half_depth_anterior(u), RIB_CAGE_HALF_DEPTH_POSTERIOR)
    return np.arctan2(np.abs(X) / anatomy.rib_cage_half_width(u), dy / half_depth) * np.float32(1.0 / np.pi)


def paint_ribs(canvas: Canvas, anatomy: Anatomy, X, Y, Z, edge: float, cortex: float) -> None:
    depth = -rib_cage_distance(anatomy, X, Y, Z)
    angle = _angle_from_back(anatomy, X, Y, Z)
    drop = RIB_ANTERIOR_DROP_MM * angle
    along = np.mod(Z + drop - anatomy.rib_phase_mm, RIB_PITCH_MM) - RIB_PITCH_MM / 2.0
    radial = (depth - RIB_DEPTH_MM) / RIB_HALF_THICKNESS_MM
    rib = (np.sqrt(radial * radial + (along / RIB_HALF_HEIGHT_MM) ** 2) - 1.0) * RIB_HALF_THICKNESS_MM
    # Ribs run from the transverse processes to the costal cartilages beside the sternum.
    extent = np.maximum((0.1 - angle) * 300.0, 20.0 - np.abs(X))
    bony = np.maximum(rib, np.maximum(extent, (angle - 0.74) * 300.0))
    _paint_bone(canvas, bony, edge, cortex)
    cartilage = np.maximum(rib, np.maximum(extent, (0.74 - angle) * 300.0))
    canvas.paint(soft(cartilage, edge), "cartilage")


def paint_scapulae(canvas: Canvas, anatomy: Anatomy, X, Y, Z, edge: float) -> None:
    """Thin curved plates behind the upper ribs, shrinking towards their lower tips."""
    u = u_from_z(Z)
    plate = np.abs(rib_cage_distance(anatomy, X, Y, Z, inset=-9.0)) - 2.5
    angle = _angle_from_back(anatomy, X, Y, Z)
    widest = 0.42 - 0.22 * smoothstep((u - 0.15) / 0.4)
    window = np.maximum(0.16 - angle, angle - widest) * 300.0
    lower_tip = (u - 0.6) * REFERENCE_SCAN_MM
    canvas.paint(soft(np.maximum(np.maximum(plate, window), lower_tip), edge), "cortical bone")


def paint_sternum(canvas: Canvas, anatomy: Anatomy, X, Y, Z, edge: float, cortex: float) -> None:
    u = u_from_z(Z)
    front = BODY_CENTRE_Y - anatomy.rib_cage_half_depth_anterior(u) + 1.0
    half_width = 14.0 + 10.0 * (1.0 - smoothstep(u / 0.3))  # the manubrium is wider
    box = np.maximum(np.abs(X) - half_width, np.abs(Y - (front + 5.5)) - 5.5)
    xiphoid = (u - 0.92) * REFERENCE_SCAN_MM
    _paint_bone(canvas, np.maximum(box, xiphoid), edge, cortex)


def paint_spine(canvas: Canvas, anatomy: Anatomy, X, Y, Z, edge: float, cortex: float) -> None:
    body = ellipse_distance(X, Y - VERTEBRA_CENTRE_Y, 17.0, 14.0)
    arch = np.maximum(ellipse_distance(X, Y - CANAL_CENTRE_Y, 14.0, 13.0), 50.0 - Y)
    spinous = np.maximum(np.abs(X) - 4.0, np.abs(Y - 72.0) - 12.0)
    position = np.mod(Z - anatomy.disc_phase_mm, VERTEBRA_PITCH_MM)
    # transverse processes stand out from the middle of each vertebra
    transverse = np.maximum(np.maximum(np.abs(X) - 28.0, np.abs(Y - 57.0) - 4.0), np.abs(position - 16.0) - 6.0)
    canvas.paint(soft(np.minimum(np.minimum(arch, spinous), transverse), edge), "cortical bone")
    _paint_bone(canvas, body, edge, cortex)
    disc = np.maximum(body, np.abs(position - DISC_HEIGHT_MM / 2.0) - DISC_HEIGHT_MM / 2.0)
    canvas.paint(soft(disc, edge), "intervertebral disc")
    canvas.paint(soft(ellipse_distance(X, Y - CANAL_CENTRE_Y, 8.0, 8.0), edge), "cerebrospinal fluid")


def paint_humeri(canvas: Canvas, anatomy: Anatomy, X, Y, edge: float, cortex: float) -> None:
    """The shafts of the upper arm bones, in the middle of each arm."""
    distance = None
    for centre_x in arm_centres_x(anatomy):
        shaft = ellipse_distance(
            X - np.float32(centre_x), Y - np.float32(ARM_CENTRE_Y + 4.0), HUMERUS_RADIUS_MM, HUMERUS_RADIUS_MM
        )
        distance = shaft if distance is None else np.minimum(distance, shaft)
    _paint_bone(canvas, distance, edge, cortex)
