"""Smooth random fields attached to the anatomy: tissue texture and lung parenchyma.

Each field is white noise on a coarse lattice, smoothed and normalised to unit standard
deviation, then sampled trilinearly at the anatomical coordinates of each voxel. Sampling at
deformed coordinates makes the texture move with the tissue between breathing states.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy import ndimage

# (lattice spacing mm, smoothing in lattice cells) of each channel
TEXTURE_SCALES: tuple[tuple[float, float], ...] = (
    (1.6, 0.8),  # fine lung texture: secondary lobules and small vessels below resolution
    (6.0, 1.2),  # coarse lung density variation
    (3.0, 1.0),  # soft tissue and bone texture
    (7.0, 1.0),  # fat strands between muscle bundles (its zero set)
)
FINE, COARSE, TISSUE, STRANDS = 0, 1, 2, 3
SEPTA_SCALE = (9.0, 1.0)  # interlobular septa: secondary lobules are 1-2.5 cm across


@dataclass
class TextureFields:
    lattices: Sequence[np.ndarray]  # per channel (z, y, x) lattice values
    low_mm: np.ndarray  # (x, y, z) corner of the box the lattices cover
    high_mm: np.ndarray

    @classmethod
    def draw(
        cls, rng: np.random.Generator, low_mm, high_mm, scales: Sequence[tuple[float, float]] = TEXTURE_SCALES
    ) -> TextureFields:
        low_mm, high_mm = np.asarray(low_mm, float), np.asarray(high_mm, float)
        lattices = []
        for spacing, sigma in scales:
            counts = np.maximum(np.ceil((high_mm - low_mm) / spacing).astype(int) + 1, 2)
            noise = rng.standard_normal((counts[2], counts[1], counts[0]))
            field = ndimage.gaussian_filter(noise, sigma, mode="wrap")
            field = (field - field.mean()) / (field.std() + 1e-12)
            lattices.append(field.astype(np.float32))
        return cls(lattices, low_mm, high_mm)

    def sample(self, X, Y, Z) -> np.ndarray:
        """(channels, *shape) field values at the points; coordinates broadcast together."""
        X, Y, Z = np.broadcast_arrays(X, Y, Z)
        shape = X.shape
        points = np.stack([X.ravel(), Y.ravel(), Z.ravel()], axis=-1).astype(np.float32)
        normalised = (
            2.0 * (points - self.low_mm.astype(np.float32)) / (self.high_mm - self.low_mm).astype(np.float32) - 1.0
        )
        grid = torch.from_numpy(np.ascontiguousarray(normalised)).view(1, 1, 1, -1, 3)
        out = []
        for lattice in self.lattices:
            volume = torch.from_numpy(lattice)[None, None]
            values = torch.nn.functional.grid_sample(
                volume, grid, mode="bilinear", padding_mode="border", align_corners=True
            )
            out.append(values.view(shape).numpy())
        return np.stack(out)
