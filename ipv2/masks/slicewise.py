"""Connected components within each slice of a (z, y, x) stack.

A 3x3x3 structuring element whose upper and lower planes are empty connects voxels only
within their own slice, so one `scipy.ndimage.label` call labels every slice at once
(`label_slices`). Where each component's area or box is wanted too, OpenCV labels slice by
slice and gives them as it labels (`label_slices_with_stats`, `largest_per_slice`); its
labels come in the same raster order.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage as ndi


def in_plane_structure(connectivity: int = 1) -> np.ndarray:
    """4-connectivity (1) or 8-connectivity (2) within a slice, none across slices."""
    structure = np.zeros((3, 3, 3), dtype=bool)
    structure[1] = ndi.generate_binary_structure(2, connectivity)
    return structure


def in_plane_cross() -> np.ndarray:
    return in_plane_structure(1)


def label_slices(mask: np.ndarray, connectivity: int = 1):
    """Labels (platform integers, ready for bincount and lookups) and count of the in-plane
    components of a boolean (z, y, x) stack."""
    labels = np.empty(mask.shape, dtype=np.intp)
    count = ndi.label(mask, structure=in_plane_structure(connectivity), output=labels)
    return labels, count


def slice_components(image: np.ndarray, connectivity: int = 1):
    """OpenCV's components of one 2D uint8 image (nonzero is set) with their statistics:
    (count including the unset, int32 labels, stats rows as cv2.CC_STAT_*).

    The algorithm is named (Wu's SAUF), so that labels come in raster order like
    `scipy.ndimage.label`'s, whatever OpenCV's default and its number of threads.
    """
    count, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(
        image, 4 if connectivity == 1 else 8, cv2.CV_32S, cv2.CCL_SAUF
    )
    return count, labels, stats


def label_slices_with_stats(mask: np.ndarray, connectivity: int = 1):
    """`label_slices`'s labels and count, with per label 0..count its voxels, its slice (z)
    and its in-plane box as rows top..bottom and columns left..right (stops exclusive).

    Slice by slice with OpenCV, whose component statistics give the areas and boxes while
    labelling; label 0 (the unlabelled) gets their count, slice 0 and the whole image.
    Returns (labels, count, sizes, z, boxes), boxes an (count + 1, 4) array of
    (top, left, bottom, right).
    """
    depth, height, width = mask.shape
    source = np.ascontiguousarray(mask, dtype=bool).view(np.uint8)
    labels = np.empty(mask.shape, dtype=np.intp)
    per_slice, total = [], 0
    for z in range(depth):
        count, slice_labels, stats = slice_components(source[z], connectivity)
        out = labels[z]
        np.multiply(slice_labels > 0, total, out=out)  # the offset where labelled, 0 elsewhere
        out += slice_labels
        per_slice.append(stats[1:])
        total += count - 1
    stats = np.concatenate([np.array([[0, 0, width, height, 0]], dtype=np.int32)] + per_slice).astype(np.intp)
    sizes = stats[:, cv2.CC_STAT_AREA]
    sizes[0] = mask.size - int(sizes[1:].sum())
    counts = [len(s) for s in per_slice]
    slice_of = np.concatenate([[0], np.repeat(np.arange(depth), counts)]).astype(np.intp)
    left, top = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    boxes = np.stack([top, left, top + stats[:, cv2.CC_STAT_HEIGHT], left + stats[:, cv2.CC_STAT_WIDTH]], axis=1)
    return labels, total, sizes, slice_of, boxes


def component_sizes(labels: np.ndarray, count: int) -> np.ndarray:
    return np.bincount(labels.ravel(), minlength=count + 1)


def largest_per_slice(mask: np.ndarray, connectivity: int = 2) -> np.ndarray:
    """The largest in-plane component of each slice of a boolean (z, y, x) stack (the first
    in raster order among equals).

    Slice by slice with OpenCV: one slice's labels stay in the processor's cache from
    labelling to selection, which makes this about four times as fast as labelling the
    whole stack at once.
    """
    source = np.ascontiguousarray(mask, dtype=bool).view(np.uint8)
    largest = np.zeros(mask.shape, dtype=bool)
    for z in range(source.shape[0]):
        count, labels, stats = slice_components(source[z], connectivity)
        if count < 2:
            continue
        np.equal(labels, 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA])), out=largest[z])
    return largest


def slice_of_labels(labels: np.ndarray, count: int) -> np.ndarray:
    """The slice (z) of each in-plane label 0..count (label 0, the unlabelled, gets slice 0).

    `ndi.label` numbers components in raster order, so each slice owns a contiguous run of
    labels ending at its largest one; a search in the running maximum finds the owner.
    """
    last_of_slice = np.maximum.accumulate(labels.reshape(labels.shape[0], -1).max(axis=1))
    return np.searchsorted(last_of_slice, np.arange(count + 1), side="left")


def bounding_box(mask: np.ndarray):
    """Slices of the smallest box holding every set voxel, or None for an empty mask."""
    box = []
    for axis in range(mask.ndim):
        others = tuple(a for a in range(mask.ndim) if a != axis)
        present = np.flatnonzero(mask.any(axis=others))
        if present.size == 0:
            return None
        box.append(slice(int(present[0]), int(present[-1]) + 1))
    return tuple(box)
