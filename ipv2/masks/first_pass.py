"""The first pass of the HU masks over a chunk of slices: dark masks, background and sections.

Each image is clipped, smoothed in-plane and thresholded into a dark mask; the union is cut
into in-plane components (sections, 4-connectivity), with their areas and boxes. A section
that touches any border pixel of its slice is background (padding outside a circular field
of view included, since it reads as air after clipping), unless body makes up most of its
outline: it may then be lung cut by the field of view. Enclosed sections are noise islands
when small, background when they lie within a few mm of the outside air (table and cushion
pockets) or outside the largest object of the slice (the patient), and candidates for lung
otherwise. The outside air's histograms are taken on the way (`ipv2.masks.outside_air`).
Each chunk keeps its sections within the in-plane box around them
(`ipv2.masks.chunk_sections`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ipv2.masks import inplane_filters
from ipv2.masks.airways import AIRWAY_LEVELS_DTYPE
from ipv2.masks.chunk_sections import EMPTY_BOX, ChunkSections, SectionMeasures
from ipv2.masks.enclosed import SECTION_DTYPE
from ipv2.masks.outside_air import AIR_SAMPLE_EVERY, air_histograms
from ipv2.masks.parameters import MaskParameters
from ipv2.masks.slicewise import (
    bounding_box,
    component_sizes,
    label_slices,
    label_slices_with_stats,
    largest_per_slice,
    slice_of_labels,
)

GAUSSIAN_TRUNCATE = 2.0
# Square half-width over reach for an octagon whose axis and diagonal extents are equal.
OCTAGON_SQUARE_SHARE = float(np.sqrt(2.0) - 1.0)
# The smoothed NDCT is kept for the 3D rules in whole HU: it lies within clip_hu.
SMOOTH_DTYPE = np.int16


@dataclass
class MaskScan:
    """The pair, read only, and the volume-sized masks that the passes write, each chunk into
    its own slices: the first pass the dark masks, the background and the patient's span per
    slice (`_patient_span`); the third the lung, other gas, airway levels and lung field."""

    lq: np.ndarray
    gt: np.ndarray
    spacing: tuple[float, float, float]
    parameters: MaskParameters
    dark_lq: np.ndarray
    dark_gt: np.ndarray
    background: np.ndarray
    patient_span: np.ndarray
    lung: np.ndarray
    other_gas: np.ndarray
    airway_levels: np.ndarray
    lung_field: np.ndarray

    @classmethod
    def of(cls, lq: np.ndarray, gt: np.ndarray, spacing, parameters: MaskParameters) -> MaskScan:
        shape = lq.shape
        return cls(
            lq=lq,
            gt=gt,
            spacing=spacing,
            parameters=parameters,
            dark_lq=np.empty(shape, dtype=bool),
            dark_gt=np.empty(shape, dtype=bool),
            background=np.empty(shape, dtype=bool),
            patient_span=np.empty((shape[0], 2), dtype=np.float64),
            # Zeros, written within the sections' boxes only: the pages of the rest are never touched.
            lung=np.zeros(shape, dtype=bool),
            other_gas=np.zeros(shape, dtype=bool),
            airway_levels=np.zeros(shape, dtype=AIRWAY_LEVELS_DTYPE),
            lung_field=np.zeros(shape, dtype=bool),
        )


@dataclass
class MaskChunk:
    """A run of slices of the scan and what the first pass found in it: its sections and their
    measures, and the histograms of the outside air's level and noise (`_air_histograms`).
    `first_label` is where the chunk's section labels begin in the volume."""

    slices: slice
    sections: ChunkSections
    measures: SectionMeasures
    air_levels: np.ndarray
    air_steps: np.ndarray
    first_label: int = 0


def find_sections(slices: slice, scan: MaskScan) -> MaskChunk:
    """The first pass over a chunk of slices. Writes the chunk's dark uLDCT and NDCT,
    background and patient's span into `scan`; returns the chunk's sections."""
    lq, gt, spacing, parameters = scan.lq[slices], scan.gt[slices], scan.spacing, scan.parameters
    background = scan.background[slices]
    sx, sy, _ = spacing
    raw_lq, _ = _dark_mask(lq, spacing, parameters)
    raw_gt, smooth_gt = _dark_mask(gt, spacing, parameters)
    union = raw_lq | raw_gt

    labels, count, sizes, z, boxes = label_slices_with_stats(union, connectivity=1)
    touches_border = (
        (boxes[:, 0] == 0) | (boxes[:, 1] == 0) | (boxes[:, 2] == union.shape[1]) | (boxes[:, 3] == union.shape[2])
    )
    touches_border[0] = False
    is_island = (sizes < parameters.min_island_mm2 / (sx * sy)) & ~touches_border

    outside_patient = _components_near_outside(
        labels, boxes, touches_border, ~touches_border & ~is_island, parameters.min_wall_mm, spacing
    )

    is_background = touches_border | (outside_patient & ~is_island)
    is_lung = ~touches_border & ~outside_patient & ~is_island
    is_background[0] = is_lung[0] = False
    is_island[0] = False
    body_contact, border_contact = _outline_counts(union, labels, count)
    is_cut = (
        touches_border
        & ~is_island
        & (body_contact >= parameters.min_enclosed_share * np.maximum(body_contact + border_contact, 1))
    )
    is_cut[0] = False
    if is_cut.any():
        # Air is never read below clip_hu[0], so whatever is gas at that air level is gas at
        # the scan's own: outside air of such scans is dropped here rather than carried on.
        # Counted as what is not surely air: the outside air, the largest cut section, has next to none.
        not_air = is_cut[labels] & (smooth_gt >= parameters.clip_hu[0] + parameters.gas_margin_hu)
        surely_air = sizes - np.bincount(labels[not_air], minlength=count + 1)
        is_cut &= surely_air < parameters.gas_section_share * np.maximum(sizes, 1)

    # One lookup for the three flags: each lookup reads the whole label array.
    flags = (is_island.astype(np.uint8) | (is_background.astype(np.uint8) << 1) | (is_lung.astype(np.uint8) << 2))[
        labels
    ]
    island, lung = (flags & 1).view(bool), (flags & 4) > 0
    np.not_equal(flags & 2, 0, out=background)
    # Lungs lie inside the patient, the largest object of the slice; air enclosed by anything
    # else (a table or cushion standing apart from the body, whatever its wall) is outside.
    patient = largest_per_slice(~background)
    background |= lung & ~patient
    lung &= patient
    is_enclosed = np.zeros(count + 1, dtype=bool)
    is_enclosed[labels[lung]] = True
    is_enclosed[0] = False
    # A layer t pixels thick has about 2 outline pixels per t of area: thin below thin_gas_mm.
    pixel_mm = float(np.sqrt(sx * sy))
    is_thin = is_enclosed & (sizes * 2.0 * pixel_mm < parameters.thin_gas_mm * np.maximum(body_contact, 1))
    is_pad = _components_near_outside(labels, boxes, touches_border, is_thin, parameters.pad_reach_mm, spacing)

    measures = _split_moved(
        labels,
        SectionMeasures(voxels=sizes, z=z, kept=is_enclosed | is_cut, cut=is_cut, pad=is_pad, x=np.zeros(count + 1)),
        lung & ~raw_gt,
        spacing,
        parameters,
    )
    kept = measures.kept[labels]
    found = bounding_box(kept)
    window = (slice(None),) + (EMPTY_BOX if found is None else found[1:])
    measures = replace(
        measures, x=_mean_columns(labels, measures, measures.voxels * sx * sy <= parameters.max_airway_section_mm2)
    )
    # The outside air is measured on every AIR_SAMPLE_EVERY-th slice of the volume: the level
    # and noise of air do not need every slice.
    sampled = slice((-slices.start) % AIR_SAMPLE_EVERY, None, AIR_SAMPLE_EVERY)
    air_levels, air_steps = air_histograms(
        smooth_gt[sampled], gt[sampled], background[sampled] & (gt[sampled] > parameters.clip_hu[0]), parameters
    )
    sections = ChunkSections(
        box=window[1:],
        labels=np.where(kept[window], labels[window], 0).astype(SECTION_DTYPE),
        smooth=_gas_reading(smooth_gt, gt, window, parameters).astype(SMOOTH_DTYPE),
    )
    np.logical_and(raw_lq, ~island, out=scan.dark_lq[slices])
    np.logical_and(raw_gt, ~island, out=scan.dark_gt[slices])
    scan.patient_span[slices] = _patient_span(patient)
    return MaskChunk(slices, sections, measures, air_levels, air_steps)


def _split_moved(
    labels: np.ndarray, measures: SectionMeasures, moved: np.ndarray, spacing, parameters: MaskParameters
) -> SectionMeasures:
    """Gives the thick parts of enclosed sections that only the uLDCT shows dark labels of
    their own (count + 1 onwards), so that they are told apart from the NDCT's part.

    Breathing moves the stomach under the dome of one scan into the place of the other's
    lung base: in the union the two touch in-plane, and the NDCT's lung would carry the
    uLDCT's gas with it. A part at least min_moved_mm thick (2 x area / outline) and of
    min_island_mm2 becomes a section of its own; the thin rims that a shift of a millimetre
    or two leaves along every lung stay with their section. `moved` holds the voxels of
    enclosed sections that the NDCT does not show dark. Relabels `labels` in place (the
    caller's array is the chunk's own) and returns the measures of the labels, extended.
    """
    sx, sy, _ = spacing
    box = bounding_box(moved)
    if box is None:
        return measures
    moved = moved[box]
    pieces, found = label_slices(moved, connectivity=1)
    areas = component_sizes(pieces, found)
    rim = moved & ~inplane_filters.shrink_cross(moved)
    outline = np.bincount(pieces[rim], minlength=found + 1)
    pixel_mm = float(np.sqrt(sx * sy))
    thick = (2.0 * areas * pixel_mm >= parameters.min_moved_mm * np.maximum(outline, 1)) & (
        areas * sx * sy >= parameters.min_island_mm2
    )
    thick[0] = False
    added = int(np.count_nonzero(thick))
    if added == 0:
        return measures
    count = measures.count
    new_label = np.zeros(found + 1, dtype=np.intp)
    new_label[thick] = count + 1 + np.arange(added)
    split = new_label[pieces] > 0
    window = labels[box]
    voxels = measures.voxels - np.bincount(window[split], minlength=count + 1)
    window[split] = new_label[pieces[split]]
    piece_z = slice_of_labels(pieces, found)[thick] + box[0].start
    return replace(measures, voxels=voxels).with_new_sections(areas[thick], piece_z)


def _mean_columns(labels: np.ndarray, measures: SectionMeasures, narrow: np.ndarray) -> np.ndarray:
    """Per label of the chunk, the mean column of the narrow kept sections (0 for the others:
    the airway test reads no other)."""
    count = measures.count
    x = np.zeros(count + 1, dtype=np.float64)
    small = measures.kept & narrow
    small[0] = False
    if small.any():
        voxels = np.flatnonzero(small[labels])
        owners = labels.ravel()[voxels]
        x = np.bincount(owners, weights=voxels % labels.shape[2], minlength=count + 1) / np.maximum(measures.voxels, 1)
    return x


def _outline_counts(union: np.ndarray, labels: np.ndarray, count: int):
    """Per label: outline pixels next to body (a non-dark 4-neighbour in the slice), and
    pixels on the image border."""
    body = ~union
    next_to_body = np.zeros(union.shape, dtype=bool)
    next_to_body[:, 1:, :] |= body[:, :-1, :]
    next_to_body[:, :-1, :] |= body[:, 1:, :]
    next_to_body[:, :, 1:] |= body[:, :, :-1]
    next_to_body[:, :, :-1] |= body[:, :, 1:]
    body_contact = np.bincount(labels[union & next_to_body], minlength=count + 1)
    edges = np.concatenate(
        [labels[:, 0, :].ravel(), labels[:, -1, :].ravel(), labels[:, :, 0].ravel(), labels[:, :, -1].ravel()]
    )
    return body_contact, np.bincount(edges, minlength=count + 1)


def _patient_span(patient: np.ndarray) -> np.ndarray:
    """Per slice, the patient's left-right middle and width in pixels (the image's if none)."""
    columns = np.any(patient, axis=1)
    width = patient.shape[2]
    present = np.any(columns, axis=1)
    left = np.where(present, np.argmax(columns, axis=1), 0)
    right = np.where(present, width - 1 - np.argmax(columns[:, ::-1], axis=1), width - 1)
    return np.stack([(left + right) / 2.0, (right - left + 1).astype(np.float64)], axis=1)


def _dark_mask(hu: np.ndarray, spacing, parameters: MaskParameters):
    sx, sy, _ = spacing
    low, high = parameters.clip_hu
    clipped = np.array(hu, dtype=np.float32)
    np.clip(clipped, low, high, out=clipped)
    if parameters.smooth_mm > 0:
        smooth = inplane_filters.gaussian(
            clipped, parameters.smooth_mm / sy, parameters.smooth_mm / sx, GAUSSIAN_TRUNCATE
        )
    else:
        smooth = clipped
    return smooth < parameters.threshold_hu, smooth


def _gas_reading(smooth: np.ndarray, gt: np.ndarray, window, parameters: MaskParameters) -> np.ndarray:
    """What the gas and airway tests read within `window` (all slices, an in-plane box): the
    lower of the Gaussian-smoothed NDCT (`smooth`) and its 3x3 in-plane mean. The outside
    air's level is measured on the Gaussian alone.

    The Gaussian (sigma = smooth_mm) lifts the core of a gas layer 3 mm thick (bowel gas
    over stool, a colon flexure under the wall) to about -870 HU, a lung's level, so such a
    layer would read as parenchyma; the 3x3 mean keeps it at air while still dividing the
    NDCT's noise by 3 (at the highest noise the masks accept, 100 HU, parenchyma at -850
    stays 4 of its standard deviations above the pure-air level).
    """
    _, rows, columns = window
    # One pixel beyond the box, so that the mean at its rim sees real neighbours.
    ny, nx = gt.shape[1:]
    top, left = max(rows.start - 1, 0), max(columns.start - 1, 0)
    wider = (slice(None), slice(top, min(rows.stop + 1, ny)), slice(left, min(columns.stop + 1, nx)))
    low, high = parameters.clip_hu
    mean = inplane_filters.mean_3x3(np.clip(np.asarray(gt[wider], dtype=np.float32), low, high))
    inner = (slice(None), slice(rows.start - top, rows.stop - top), slice(columns.start - left, columns.stop - left))
    return np.minimum(smooth[window], mean[inner])


def _components_near_outside(labels, boxes, is_outside, is_candidate, distance_mm, spacing) -> np.ndarray:
    """Per label: whether a candidate component comes within distance_mm of an outside one.

    Only the in-plane box around the candidates (from their `boxes`, as
    `label_slices_with_stats` gives them, plus the reach) is searched.
    """
    near = np.zeros(len(boxes), dtype=bool)
    is_candidate = is_candidate.copy()
    is_candidate[0] = False
    if not is_candidate.any():
        return near
    sx, sy, _ = spacing
    margin_y = int(np.ceil(distance_mm / sy)) + 2
    margin_x = int(np.ceil(distance_mm / sx)) + 2
    top, left = boxes[is_candidate, :2].min(axis=0)
    bottom, right = boxes[is_candidate, 2:].max(axis=0)
    box = (
        slice(None),
        slice(max(top - margin_y, 0), bottom + margin_y),
        slice(max(left - margin_x, 0), right + margin_x),
    )
    window = labels[box]
    near[window[_near(is_outside[window], distance_mm, spacing)]] = True
    return near & is_candidate


def _near(mask: np.ndarray, distance_mm: float, spacing) -> np.ndarray:
    """Pixels within about distance_mm of the mask in the same slice, mask excluded.

    The reach is an octagon (a square, then a diamond), within 8% of the Euclidean disc and
    far cheaper to compute on a whole stack than a distance transform.
    """
    sx, sy, _ = spacing
    reach_y, reach_x = distance_mm / sy, distance_mm / sx
    square_y = int(round(OCTAGON_SQUARE_SHARE * reach_y))
    square_x = int(round(OCTAGON_SQUARE_SHARE * reach_x))
    diamond = int(round((1.0 - OCTAGON_SQUARE_SHARE) * min(reach_y, reach_x)))
    grown = mask
    if square_x or square_y:
        grown = inplane_filters.grow(mask, square_y, square_x)
    if diamond:
        grown = inplane_filters.grow_cross(grown, diamond)
    return grown & ~mask
