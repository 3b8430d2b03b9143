"""Flips and 90-degree rotations: the symmetries a CT slice patch can take without resampling."""

from __future__ import annotations

import numpy as np


def augment_pair(inputs: np.ndarray, target: np.ndarray, rotations: int, flip: bool):
    """The same rotation (in quarter turns) and horizontal flip applied to both (..., y, x) arrays."""

    def transform(array: np.ndarray) -> np.ndarray:
        array = np.rot90(array, k=rotations, axes=(-2, -1))
        if flip:
            array = array[..., ::-1]
        return np.ascontiguousarray(array)

    return transform(inputs), transform(target)
