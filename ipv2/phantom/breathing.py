"""The breathing difference between the NDCT and the uLDCT scans.

The uLDCT is taken at a shallower inspiration: the diaphragm and the lower lungs sit higher,
the chest is a little narrower, and the patient lies shifted by a millimetre or two. The
deformation is an analytic, smooth displacement field in the ITK convention: a point p of the
uLDCT state shows the tissue found at p + D(p) in the NDCT state. Motion is largest at the
lung bases, fades towards the apex and is small at the chest wall and spine; the table does
not move.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ipv2.phantom.anatomy import BODY_CENTRE_Y, VERTEBRA_CENTRE_Y
from ipv2.phantom.grid import u_from_z
from ipv2.phantom.shapes import sigmoid, smoothstep

# Size of the thorax interior used to weight the motion (mm); motion fades across its edge.
INTERIOR_HALF_WIDTH = 140.0
INTERIOR_HALF_DEPTH = 95.0
MAX_RIGID_SHIFT_MM = (1.5, 0.0, 2.0)  # at 8 mm of breathing motion; none in y: the table holds
BREATHING_SPREAD = 0.25


@dataclass(frozen=True)
class Breathing:
    motion_mm: float
    shift_mm: tuple = (0.0, 0.0, 0.0)

    @classmethod
    def draw(cls, rng: np.random.Generator, motion_mm: float) -> Breathing:
        """The breath differs from patient to patient: the motion is drawn within
        `motion_mm` x (1 +- BREATHING_SPREAD), so 0 still means no motion at all."""
        scale = motion_mm / 8.0
        shift = tuple(float(rng.uniform(-m, m) * scale) for m in MAX_RIGID_SHIFT_MM)
        amplitude = motion_mm * rng.uniform(1.0 - BREATHING_SPREAD, 1.0 + BREATHING_SPREAD)
        return cls(float(amplitude), shift)

    @property
    def is_identity(self) -> bool:
        return self.motion_mm == 0.0 and not any(self.shift_mm)

    def displacement(self, X, Y, Z):
        """(dx, dy, dz) in mm at uLDCT-state points; arrays broadcast together."""
        m = np.float32(self.motion_mm)
        u = u_from_z(Z)
        dy0 = Y - BODY_CENTRE_Y
        radius = np.sqrt((X / INTERIOR_HALF_WIDTH) ** 2 + (dy0 / INTERIOR_HALF_DEPTH) ** 2)
        interior = sigmoid((0.75 - radius) / 0.06)
        spine = 1.0 - 0.8 * np.exp(-((X / 30.0) ** 2 + ((Y - VERTEBRA_CENTRE_Y - 10.0) / 30.0) ** 2))
        towards_base = 0.25 + 0.75 * smoothstep(u)
        # Tissue now higher came from lower down (z points to the head).
        dz = -m * towards_base * interior * spine
        dx = 0.1 * m * (X / INTERIOR_HALF_WIDTH) * interior * towards_base
        anterior = sigmoid(-dy0 / 25.0) * np.clip(radius, 0.0, 1.2)
        dy = -0.15 * m * anterior * towards_base * sigmoid((1.25 - radius) / 0.05)
        sx, sy, sz = (np.float32(s) for s in self.shift_mm)
        return ((dx + sx).astype(np.float32), (dy + sy).astype(np.float32), (dz + sz).astype(np.float32))

    def to_ndct(self, X, Y, Z):
        """NDCT-state coordinates of uLDCT-state points."""
        dx, dy, dz = self.displacement(X, Y, Z)
        return X + dx, Y + dy, Z + dz

    def to_uldct(self, points: np.ndarray, iterations: int = 12) -> np.ndarray:
        """Where NDCT-state points (N, 3) lie in the uLDCT state: the inverse map, by
        fixed-point iteration p = q - D(p), which converges because D is smooth and small."""
        q = np.asarray(points, dtype=np.float64)
        p = q.copy()
        for _ in range(iterations):
            d = np.stack(self.displacement(p[:, 0], p[:, 1], p[:, 2]), axis=-1)
            p = q - d
        return p
