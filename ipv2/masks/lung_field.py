"""The lung field: the lung with what lies within it, whatever its density.

Tumours, ground-glass, consolidation and dependent opacities read above -500 HU, so the dark
lung mask has holes or bites where they are. The lung field is, in each slice,

    field = (lung ∪ small holes of lung ∪ closing(lung)) \\ background,

- small holes: the in-plane holes of the lung of at most lung_field_hole_mm2 (the
  mediastinum, when the lungs ring it, is larger and stays out);
- closing: dilation then erosion by a square of half-width lung_field_closing_mm, which
  fills bites narrower than about twice that at the pleura and between lobes;
- background removed, so that the field stays inside the patient.

It contains the lung and is written beside it; the labelmap itself is unchanged.
"""

from __future__ import annotations

import cv2
import numpy as np

from ipv2.masks import inplane_filters
from ipv2.masks.parameters import MaskParameters
from ipv2.masks.slicewise import bounding_box, slice_components


def lung_field_in_box(lung: np.ndarray, background: np.ndarray, spacing, parameters: MaskParameters):
    """The box (z, y, x slices) outside which the lung field of `lung` is empty, and the
    field within it (a superset of the lung there, disjoint from `background`); None
    without lung."""
    box = bounding_box(lung)
    if box is None:
        return None
    sx, sy, _ = spacing
    half_y = max(0, int(round(parameters.lung_field_closing_mm / sy)))
    half_x = max(0, int(round(parameters.lung_field_closing_mm / sx)))
    # A margin keeps the closing and the holes independent of the box edge.
    box = (box[0], _grown(box[1], half_y + 1, lung.shape[1]), _grown(box[2], half_x + 1, lung.shape[2]))
    inner = lung[box]

    grown = inner | small_holes(inner, parameters.lung_field_hole_mm2 / (sx * sy))

    if half_y or half_x:
        grown |= inplane_filters.shrink(inplane_filters.grow(inner, half_y, half_x), half_y, half_x, outside_set=True)
    return box, (grown & ~background[box]) | inner


def small_holes(mask: np.ndarray, max_pixels: float) -> np.ndarray:
    """In-plane holes of a boolean (z, y, x) mask of at most max_pixels: components of what
    is not mask (4-connected) that do not reach the edge of their slice.

    Slice by slice with OpenCV, whose component statistics give each one's area and box at
    once, so that one slice's labels stay in the processor's cache."""
    outside = np.ascontiguousarray(~mask).view(np.uint8)
    holes = np.zeros(mask.shape, dtype=bool)
    height, width = mask.shape[1:]
    for z in range(mask.shape[0]):
        count, labels, stats = slice_components(outside[z], connectivity=1)
        left, top = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
        right = left + stats[:, cv2.CC_STAT_WIDTH]
        bottom = top + stats[:, cv2.CC_STAT_HEIGHT]
        inside = (left > 0) & (top > 0) & (right < width) & (bottom < height)
        is_hole = inside & (stats[:, cv2.CC_STAT_AREA] <= max_pixels)
        is_hole[0] = False
        if is_hole.any():
            holes[z] = is_hole[labels]
    return holes


def _grown(span: slice, margin: int, length: int) -> slice:
    return slice(max(span.start - margin, 0), min(span.stop + margin, length))
