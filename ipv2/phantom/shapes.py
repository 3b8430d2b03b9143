"""Implicit shapes evaluated on arrays of coordinates, with anti-aliased (soft) edges.

Every shape returns an approximate signed distance in mm (negative inside); `soft` turns it
into a partial-volume occupancy in [0, 1] whose transition is one pixel wide, so edges look
like those of a reconstructed image and move continuously under a deformation.
"""

from __future__ import annotations

import numpy as np

_TINY = np.float32(1e-6)


def soft(signed_distance, edge_mm: float):
    """Occupancy: 1 deep inside, 0 outside, linear across one edge width at the boundary."""
    return np.clip(np.float32(0.5) - signed_distance * np.float32(1.0 / edge_mm), 0.0, 1.0).astype(
        np.float32, copy=False
    )


def ellipse_distance(dx, dy, a, b):
    """Signed distance (first order, exact on the boundary) to the ellipse with semi-axes a, b."""
    ex, ey = dx / (a * a), dy / (b * b)
    level = dx * ex + dy * ey - 1.0
    gradient = 2.0 * np.sqrt(ex * ex + ey * ey) + _TINY
    return level / gradient


def ellipsoid_distance(dx, dy, dz, a, b, c):
    ex, ey, ez = dx / (a * a), dy / (b * b), dz / (c * c)
    level = dx * ex + dy * ey + dz * ez - 1.0
    gradient = 2.0 * np.sqrt(ex * ex + ey * ey + ez * ez) + _TINY
    return level / gradient


def smoothstep(t):
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def sigmoid(t):
    return 1.0 / (1.0 + np.exp(-t))


def intersect(*occupancies):
    result = occupancies[0]
    for occupancy in occupancies[1:]:
        result = np.minimum(result, occupancy)
    return result


def union(*occupancies):
    result = occupancies[0]
    for occupancy in occupancies[1:]:
        result = np.maximum(result, occupancy)
    return result


def subtract(occupancy, removed):
    return np.minimum(occupancy, 1.0 - removed)
