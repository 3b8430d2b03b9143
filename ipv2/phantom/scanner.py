"""What the scanner adds around the patient: the table and the reconstruction circle."""

from __future__ import annotations

import numpy as np

from ipv2.phantom.anatomy import BACK_Y
from ipv2.phantom.grid import PhantomGrid
from ipv2.phantom.shapes import soft
from ipv2.phantom.tissues import PADDING_HU, Canvas

TABLE_GAP_MM = 2.0
TABLE_CURVE_PER_MM2 = 0.0006  # the couch top is a shallow trough
TABLE_SHELL_MM = 1.5
TABLE_CORE_MM = 30.0
TABLE_HALF_WIDTH_MM = 165.0


def paint_table(canvas: Canvas, X, Y, edge: float) -> None:
    """A carbon-fibre couch: two thin dense shells around a foam core, in scanner
    coordinates (it does not move with the patient)."""
    top = BACK_Y + TABLE_GAP_MM - TABLE_CURVE_PER_MM2 * X * X
    depth = Y - top
    ends = np.abs(X) - TABLE_HALF_WIDTH_MM
    thickness = 2 * TABLE_SHELL_MM + TABLE_CORE_MM
    whole = np.maximum(np.abs(depth - thickness / 2.0) - thickness / 2.0, ends)
    core = np.maximum(np.abs(depth - thickness / 2.0) - TABLE_CORE_MM / 2.0, ends + TABLE_SHELL_MM)
    canvas.paint(soft(whole, edge), "table shell")
    canvas.paint(soft(core, edge), "table foam")


def outside_fov(grid: PhantomGrid) -> np.ndarray:
    """(y, x) mask of pixels outside the largest circle the reconstruction covers."""
    X = grid.axis("x")[None, :]
    Y = grid.axis("y")[:, None]
    nz, ny, nx = grid.shape
    radius = min(nx * grid.spacing[0], ny * grid.spacing[1]) / 2.0
    return X * X + Y * Y > radius * radius


def pad_outside_fov(volume: np.ndarray, outside: np.ndarray, value: float = PADDING_HU) -> np.ndarray:
    padded = volume.copy()
    padded[:, outside] = value
    return padded
