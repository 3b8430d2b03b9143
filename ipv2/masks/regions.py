"""The purification regions of a uLDCT/NDCT pair and their labelmap."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ipv2.contract import LABEL_BACKGROUND, LABEL_BODY, LABEL_LUNG
from ipv2.errors import InputError

LABEL_NAMES = {LABEL_BODY: "body", LABEL_BACKGROUND: "background", LABEL_LUNG: "lung parenchyma"}


@dataclass
class RegionMasks:
    """Boolean masks indexed like the images, (z, y, x) for volumes.

    `dark` is the union of the two images' dark masks and splits into `background` (connected
    to the image border, or outside the patient) and `lung` (the air-filled lungs inside the
    patient, airways included). `airways` is the part of `lung` found to be trachea and main
    bronchi. `body` is everything that is not dark. `info` records the parameters used.

    The HU method also gives `other_gas`, gas enclosed by the body that is not lung (stomach,
    bowel, oesophagus; part of `body`), and `lung_field`, the lung with the tumours and
    opacities inside it (a superset of `lung`, disjoint from `background`). Methods that do
    not tell them leave them None.
    """

    dark_lq: np.ndarray
    dark_gt: np.ndarray
    dark: np.ndarray
    background: np.ndarray
    lung: np.ndarray
    airways: np.ndarray
    other_gas: np.ndarray | None = None
    lung_field: np.ndarray | None = None
    info: dict = field(default_factory=dict)

    @property
    def body(self) -> np.ndarray:
        return ~(self.background | self.lung)

    @property
    def shape(self):
        return self.dark.shape

    def labelmap(self) -> np.ndarray:
        """uint8 labels: 0 body, 1 background, 2 lung parenchyma (airways included)."""
        labels = np.full(self.dark.shape, LABEL_BODY, dtype=np.uint8)
        labels[self.background] = LABEL_BACKGROUND
        labels[self.lung] = LABEL_LUNG
        return labels

    @property
    def warnings(self) -> list[str]:
        """What the method could not resolve, one sentence each (e.g. lung cut by the field of view)."""
        return list(self.info.get("warnings", [])) if isinstance(self.info, dict) else []

    def volumes_ml(self, spacing: Sequence[float]) -> dict[str, float]:
        """Volume of each region in millilitres, for voxel spacing (sx, sy, sz) in mm:
        body, background, lung, airways, dark, and other_gas and lung_field where known."""
        spacing = tuple(float(s) for s in spacing)
        if len(spacing) != 3 or not all(np.isfinite(s) and s > 0 for s in spacing):
            raise InputError(f"spacing: three positive sizes in mm are needed (sx, sy, sz), got {spacing}")
        voxel_ml = spacing[0] * spacing[1] * spacing[2] / 1000.0
        counts = {
            "body": int(np.count_nonzero(self.body)),
            "background": int(np.count_nonzero(self.background)),
            "lung": int(np.count_nonzero(self.lung)),
            "airways": int(np.count_nonzero(self.airways)),
            "dark": int(np.count_nonzero(self.dark)),
        }
        for name in ("other_gas", "lung_field"):
            mask = getattr(self, name)
            if mask is not None:
                counts[name] = int(np.count_nonzero(mask))
        return {name: count * voxel_ml for name, count in counts.items()}

    def stats(self, spacing: Sequence[float]) -> dict[str, Any]:
        """`{region}_ml` for each of volumes_ml (e.g. lung_ml, other_gas_ml, lung_field_ml),
        the measured air level where known, and the warnings: what a report records."""
        stats: dict[str, Any] = {
            f"{name}_ml": round(float(value), 3) for name, value in self.volumes_ml(spacing).items()
        }
        if isinstance(self.info, dict) and "air_level_hu" in self.info:
            stats["air_level_hu"] = self.info["air_level_hu"]
        stats["warnings"] = self.warnings
        return stats
