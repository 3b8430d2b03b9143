"""Display windows for CT in HU, shared by every figure and 8-bit export."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Window:
    """A grey-level window: HU from `level - width/2` (black) to `level + width/2` (white)."""

    name: str
    level: float
    width: float

    @property
    def low(self) -> float:
        return self.level - self.width / 2.0

    @property
    def high(self) -> float:
        return self.level + self.width / 2.0

    @property
    def label(self) -> str:
        return f"{self.name} W{self.width:g} L{self.level:g}"

    def normalised(self, hu: np.ndarray) -> np.ndarray:
        """HU mapped into [0, 1] through the window, float32."""
        return np.clip((np.asarray(hu, dtype=np.float32) - self.low) / self.width, 0.0, 1.0)


LUNG_WINDOW = Window("lung", -600.0, 1500.0)
MEDIASTINAL_WINDOW = Window("mediastinal", 40.0, 400.0)
