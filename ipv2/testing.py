"""Tiny synthetic CT volumes for unit tests and examples (the full phantom is `ipv2.phantom`)."""

from __future__ import annotations

import numpy as np


def chest_like(shape=(4, 64, 64), seed=0) -> np.ndarray:
    """A body-in-air volume in HU: a soft-tissue ellipse with two dark lungs and mild noise."""
    rng = np.random.default_rng(seed)
    depth, height, width = shape
    yy, xx = np.mgrid[0:height, 0:width]
    cy, cx = height / 2, width / 2
    body = ((yy - cy) / (0.38 * height)) ** 2 + ((xx - cx) / (0.45 * width)) ** 2 <= 1
    lungs = ((yy - cy) / (0.25 * height)) ** 2 + ((np.abs(xx - cx) - 0.2 * width) / (0.14 * width)) ** 2 <= 1
    image = np.full((height, width), -1000.0)
    image[body] = 40.0
    image[lungs] = -850.0
    volume = np.repeat(image[None], depth, axis=0)
    return (volume + rng.normal(0, 5, volume.shape)).astype(np.float32)
