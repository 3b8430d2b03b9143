"""The fixed map between image intensities and the values a network sees.

Intensities are clipped to a window [low, high] and scaled to [0, 1]. The window is part of
every checkpoint, so a model always sees data scaled the way it was trained. CT volumes use
a window in HU; the authors' 8-bit PNG slices use 0..255.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

HU_WINDOW = (-1024.0, 2048.0)
PNG8_WINDOW = (0.0, 255.0)


@dataclass(frozen=True)
class Normalization:
    kind: str = "hu"  # "hu" (CT volumes in Hounsfield units) or "png8" (8-bit slices)
    low: float = HU_WINDOW[0]
    high: float = HU_WINDOW[1]

    @classmethod
    def for_kind(cls, kind: str) -> Normalization:
        if kind == "hu":
            return cls("hu", *HU_WINDOW)
        if kind == "png8":
            return cls("png8", *PNG8_WINDOW)
        raise ValueError(f"unknown intensity kind '{kind}'")

    @classmethod
    def from_dict(cls, record: dict) -> Normalization:
        kind = str(record["kind"])
        if kind not in ("hu", "png8"):
            raise ValueError(f"unknown intensity kind '{kind}'")
        low, high = float(record["low"]), float(record["high"])
        if not high > low:
            raise ValueError(f"window [{low}, {high}] is empty")
        return cls(kind, low, high)

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def unit(self) -> str:
        return "HU" if self.kind == "hu" else "8-bit levels"

    @property
    def scale(self) -> float:
        return self.high - self.low

    def to_model(self, values: np.ndarray) -> np.ndarray:
        clipped = np.clip(values, self.low, self.high).astype(np.float32, copy=False)
        return (clipped - np.float32(self.low)) / np.float32(self.scale)

    def from_model(self, values: np.ndarray) -> np.ndarray:
        return values * np.float32(self.scale) + np.float32(self.low)

    def outside_window(self, values: np.ndarray) -> np.ndarray:
        """What clipping removed; added back after denoising so padding and metal keep their values."""
        return values - np.clip(values, self.low, self.high)
