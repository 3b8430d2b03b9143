"""A chunk's sections kept within their in-plane box, with the smoothed NDCT the gas tests read.

Sections (the enclosed dark regions and those cut by the field of view) lie inside the
patient, a fraction of each slice: keeping only their box, for all slices of the chunk,
keeps the volume-wide label and HU arrays that the later passes read to that fraction, and
so the memory they take and the time spent reading them. Their measures, one value per
label of the chunk, are what the 3D rules read of them besides.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EMPTY_BOX = (slice(0, 0), slice(0, 0))


@dataclass
class ChunkSections:
    """`labels` (z, rows, columns) of the sections (0 elsewhere) and `smooth` (the NDCT as
    the gas tests read it) within the in-plane `box` (rows, columns) of the chunk."""

    box: tuple
    labels: np.ndarray
    smooth: np.ndarray

    def window(self, stack: np.ndarray) -> np.ndarray:
        """The view of a chunk-sized (z, y, x) array within the box."""
        return stack[(slice(None),) + self.box]


@dataclass
class SectionMeasures:
    """Per label of a chunk's sections, label 0 (no section) included: `voxels`, slice in the
    chunk (`z`), whether the label is `kept` as a section, `cut` by the field of view, or an air
    layer of a `pad`, and its mean column (`x`: measured for the narrow kept sections only,
    which the airway test reads; 0 for the others)."""

    voxels: np.ndarray
    z: np.ndarray
    kept: np.ndarray
    cut: np.ndarray
    pad: np.ndarray
    x: np.ndarray

    @property
    def count(self) -> int:
        """The highest label."""
        return self.voxels.size - 1

    def with_new_sections(self, voxels: np.ndarray, z: np.ndarray) -> SectionMeasures:
        """These measures followed by those of new kept sections (neither cut nor pad), labelled
        count + 1 onwards."""
        added = voxels.size

        def extend(values: np.ndarray, fill) -> np.ndarray:
            return np.concatenate([values, np.full(added, fill, dtype=values.dtype)])

        return SectionMeasures(
            voxels=np.concatenate([self.voxels, voxels]),
            z=np.concatenate([self.z, z]),
            kept=extend(self.kept, True),
            cut=extend(self.cut, False),
            pad=extend(self.pad, False),
            x=extend(self.x, 0.0),
        )


def boundary_slices(upper: ChunkSections, lower: ChunkSections) -> np.ndarray:
    """The last slice of `upper` and the first of `lower`, as a (2, rows, columns) stack of
    labels over the part of the plane both boxes cover (sections share pixels there only)."""
    rows = _overlap(upper.box[0], lower.box[0])
    columns = _overlap(upper.box[1], lower.box[1])
    if rows is None or columns is None or upper.labels.shape[0] == 0 or lower.labels.shape[0] == 0:
        return np.zeros((2, 0, 0), dtype=upper.labels.dtype)

    def part(sections: ChunkSections, z: int) -> np.ndarray:
        top, left = sections.box[0].start, sections.box[1].start
        return sections.labels[z, rows.start - top : rows.stop - top, columns.start - left : columns.stop - left]

    return np.stack([part(upper, -1), part(lower, 0)])


def _overlap(first: slice, second: slice):
    start, stop = max(first.start, second.start), min(first.stop, second.stop)
    return slice(start, stop) if stop > start else None
