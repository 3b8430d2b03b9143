"""A CT volume in Hounsfield units with its physical geometry."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

IDENTITY_DIRECTION = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)


@dataclass(frozen=True)
class Volume:
    """Voxel array indexed (z, y, x) with geometry in SimpleITK's (x, y, z) order.

    `spacing` and `origin` are in millimetres; `direction` is the row-major 3x3 cosine
    matrix. Array and geometry follow SimpleITK so that conversion loses nothing.
    """

    array: np.ndarray
    spacing: tuple[float, float, float] = (1.0, 1.0, 1.0)
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0)
    direction: tuple[float, ...] = IDENTITY_DIRECTION
    metadata: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "spacing", tuple(float(s) for s in self.spacing))
        object.__setattr__(self, "origin", tuple(float(o) for o in self.origin))
        object.__setattr__(self, "direction", tuple(float(d) for d in self.direction))

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.array.shape)

    @property
    def voxel_volume_ml(self) -> float:
        sx, sy, sz = self.spacing
        return sx * sy * sz / 1000.0

    @property
    def pixel_spacing_mm(self) -> float:
        """In-plane pixel size; the simulator needs one number for its line integrals."""
        return float(np.sqrt(self.spacing[0] * self.spacing[1]))

    def with_array(self, array: np.ndarray) -> Volume:
        """The same geometry around new voxels (for results derived from this volume)."""
        if tuple(array.shape) != self.shape:
            raise ValueError(f"array shape {array.shape} differs from the volume's {self.shape}")
        return replace(self, array=array, metadata=dict(self.metadata))

    def same_geometry(self, other: Volume, rtol: float = 1e-4) -> bool:
        return (
            self.shape == other.shape
            and np.allclose(self.spacing, other.spacing, rtol=rtol)
            and np.allclose(self.origin, other.origin, atol=1e-3)
            and np.allclose(self.direction, other.direction, atol=1e-5)
        )
