"""Region masks of a uLDCT/NDCT volume pair in Hounsfield units.

First pass, in chunks of slices on a few threads: each image is clipped, smoothed in-plane
and thresholded into a dark mask; the union is cut into in-plane components (sections,
4-connectivity), with their areas and boxes. A section that touches any border pixel
of its slice is background (padding outside a circular field of view included, since it
reads as air after clipping), unless body makes up most of its outline: it may then be lung
cut by the field of view. Enclosed sections are noise islands when small, background when
they lie within a few mm of the outside air (table and cushion pockets) or outside the
largest object of the slice (the patient), and candidates for lung otherwise. The outside
air's level and noise are measured on the way. Each chunk keeps its sections within the
in-plane box around them (`ipv2.masks.chunk_sections`).

Then, with the scan's air level known, each candidate section is gas or parenchyma and the
sections are grouped in 3D (`ipv2.masks.enclosed`): lung, airways and lung cut by the field
of view on one side, other gas (body) and pad layers (background) on the other. Airways are
then found in 3D within the lung, and the lung field drawn around it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial

import numpy as np

from ipv2.errors import InputError
from ipv2.input_checks import require_image_array, require_same_shape, require_spacing
from ipv2.masks import inplane_filters
from ipv2.masks.airways import AIRWAY_LEVELS_DTYPE, find_airways
from ipv2.masks.chunk_sections import EMPTY_BOX, ChunkSections, SectionMeasures, boundary_slices
from ipv2.masks.enclosed import (
    SECTION_DTYPE,
    Classification,
    classify_sections,
    regions_of,
    section_links,
    section_table,
    tells_gas,
)
from ipv2.masks.lung_field import lung_field_in_box
from ipv2.masks.parameters import MaskParameters
from ipv2.masks.regions import RegionMasks
from ipv2.masks.slicewise import (
    bounding_box,
    component_sizes,
    label_slices,
    label_slices_with_stats,
    largest_per_slice,
    slice_of_labels,
)
from ipv2.parallel import map_chunks
from ipv2.progress import Monitor
from ipv2.volume import Volume

# Raised whenever the masks of the same inputs change, so that stored masks are not reused.
HU_MASKS_REVISION = 3
GAUSSIAN_TRUNCATE = 2.0
# Square half-width over reach for an octagon whose axis and diagonal extents are equal.
OCTAGON_SQUARE_SHARE = float(np.sqrt(2.0) - 1.0)
# The smoothed NDCT is kept for the 3D rules in whole HU: it lies within clip_hu.
SMOOTH_DTYPE = np.int16
# Fewer outside-air voxels than this (a body filling the image) give no air level to trust.
MIN_AIR_VOXELS = 1000
AIR_SAMPLE_EVERY = 4
NOISE_BINS = 2048
NORMAL_QUARTILE_Z = 0.674
NOISY_AIR_WARNING = (
    "the NDCT's outside air is too noisy, or too little of it is seen, to tell gas in the body "
    "from lung: all gas enclosed by the body is counted as lung"
)


def compute_region_masks(
    lq_hu,
    gt_hu,
    *,
    spacing: Sequence[float] | None = None,
    monitor: Monitor | None = None,
    parameters: MaskParameters | None = None,
) -> RegionMasks:
    """Masks of a uLDCT (`lq_hu`) and NDCT (`gt_hu`) pair of (z, y, x) HU volumes.

    Either argument may be a `Volume`; `spacing` (sx, sy, sz) in mm is then taken from it
    when not given. The inputs are only read.
    """
    parameters = parameters or MaskParameters()
    monitor = monitor or Monitor()
    lq, lq_spacing = _as_array(lq_hu, "uLDCT")
    gt, gt_spacing = _as_array(gt_hu, "NDCT")
    if spacing is None:
        spacing = lq_spacing or gt_spacing
    if spacing is None:
        raise InputError("spacing: the voxel spacing (sx, sy, sz) in mm is needed with plain arrays")
    spacing = require_spacing(spacing)
    require_same_shape(lq.shape, gt.shape, "uLDCT", "NDCT")
    scan = _Scan.of(lq, gt, spacing, parameters)

    depth = lq.shape[0]
    step = max(1, int(parameters.chunk_slices))
    workers = max(1, min(int(parameters.workers), os.cpu_count() or 1))
    chunks = map_chunks(
        partial(_find_sections, scan=scan),
        [slice(start, min(start + step, depth)) for start in range(0, depth, step)],
        workers=workers,
        monitor=monitor,
        stage="region masks",
    )

    monitor.check()
    air = _outside_air(chunks, parameters)
    _number_sections(chunks)
    tables_and_links = map_chunks(partial(_tell_sections, scan=scan, air=air), chunks, workers=workers, monitor=monitor)
    links_across = map_chunks(_links_between, zip(chunks, chunks[1:]), workers=workers, monitor=monitor)
    monitor.check()
    tables = [table for table, _ in tables_and_links]
    links = [chunk_links for _, chunk_links in tables_and_links] + links_across
    classification = classify_sections(tables, links, scan.patient_span, air.gas_told, scan.spacing, parameters)
    levels_hu = [air.level + margin for margin in parameters.airway_margins_hu]
    map_chunks(
        partial(_draw_regions, scan=scan, classification=classification, levels_hu=levels_hu),
        chunks,
        workers=workers,
        monitor=monitor,
    )
    warnings = ([] if air.gas_told else [NOISY_AIR_WARNING]) + classification.warnings

    monitor.step("airways", 0, 1)
    airways, airway_info = find_airways(
        scan.lung, scan.airway_levels, scan.spacing, parameters, levels_hu, scan.background
    )
    monitor.step("airways", 1, 1)

    info = {
        "method": "hu",
        "spacing_mm": list(scan.spacing),
        "parameters": parameters.as_dict(),
        "air_level_hu": round(float(air.level), 1),
        "air_level_source": air.source,
        "air_noise_hu": None if air.noise is None else round(float(air.noise), 1),
        "gas_told": air.gas_told,
        "enclosed": classification.info,
        "airways": airway_info,
        "warnings": warnings,
    }
    return RegionMasks(
        dark_lq=scan.dark_lq,
        dark_gt=scan.dark_gt,
        dark=scan.background | scan.lung,
        background=scan.background,
        lung=scan.lung,
        airways=airways,
        other_gas=scan.other_gas,
        lung_field=scan.lung_field,
        info=info,
    )


@dataclass
class _Scan:
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
    def of(cls, lq: np.ndarray, gt: np.ndarray, spacing, parameters: MaskParameters) -> _Scan:
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
class _Chunk:
    """A run of slices of the scan and what the first pass found in it: its sections and their
    measures, and the histograms of the outside air's level and noise (`_air_histograms`).
    `first_label` is where the chunk's section labels begin in the volume."""

    slices: slice
    sections: ChunkSections
    measures: SectionMeasures
    air_levels: np.ndarray
    air_steps: np.ndarray
    first_label: int = 0


@dataclass(frozen=True)
class _OutsideAir:
    """The scan's outside air: median level (HU), the NDCT's noise there (HU, or None), where
    the level comes from, and whether gas can be told from parenchyma at that noise."""

    level: float
    noise: float | None
    source: str
    gas_told: bool


def _find_sections(slices: slice, scan: _Scan) -> _Chunk:
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
    air_levels, air_steps = _air_histograms(
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
    return _Chunk(slices, sections, measures, air_levels, air_steps)


def _outside_air(chunks: list[_Chunk], parameters: MaskParameters) -> _OutsideAir:
    """The outside air of the scan, from the histograms of its chunks."""
    level_histogram = np.zeros(_air_bins(parameters), dtype=np.int64)
    step_histogram = np.zeros(NOISE_BINS, dtype=np.int64)
    for chunk in chunks:
        level_histogram += chunk.air_levels
        step_histogram += chunk.air_steps
    level, noise, source = _air_level(level_histogram, step_histogram, parameters)
    return _OutsideAir(level, noise, source, tells_gas(noise, parameters))


def _number_sections(chunks: list[_Chunk]) -> None:
    """Labels of a chunk's sections begin after those of the chunks before, so that none is shared."""
    first_label = 0
    for chunk in chunks:
        chunk.first_label = first_label
        first_label += chunk.measures.count


def _tell_sections(chunk: _Chunk, scan: _Scan, air: _OutsideAir):
    """The second pass: the table of the chunk's sections, relabelled to be unique in the
    volume (`section_table`), and the links between them across the chunk's slices."""
    sections = chunk.sections
    table = section_table(
        sections.labels,
        chunk.measures,
        sections.smooth,
        sections.window(scan.dark_gt[chunk.slices]),
        sections.window(scan.lq[chunk.slices]),
        chunk.slices.start,
        chunk.first_label,
        air.level,
        air.gas_told,
        scan.spacing,
        scan.parameters,
    )
    return table, section_links(sections.labels)


def _links_between(pair: tuple[_Chunk, _Chunk]) -> np.ndarray:
    """The links between the last slice of a chunk and the first of the next (after the
    second pass: the labels must be the volume's)."""
    upper, lower = pair
    return section_links(boundary_slices(upper.sections, lower.sections))


def _draw_regions(chunk: _Chunk, scan: _Scan, classification: Classification, levels_hu: list[float]) -> None:
    """The third pass: the lung, other gas, airway levels and lung field of the chunk, from the
    classification of its sections, written into `scan`; thin gas joins the background, cut
    lung leaves it, and other gas is no longer dark."""
    sections = chunk.sections
    window = (chunk.slices,) + sections.box
    thin, cut_lung = regions_of(sections.labels, classification, scan.lung[window], scan.other_gas[window])
    scan.background[window] &= ~cut_lung
    scan.background[window] |= thin
    scan.dark_lq[window] &= ~scan.other_gas[window]
    scan.dark_gt[window] &= ~scan.other_gas[window]
    _airway_levels(sections.smooth, scan.lung[window], levels_hu, scan.airway_levels[window])
    # The lung field is drawn in-plane, so each chunk's is its own.
    found = lung_field_in_box(scan.lung[chunk.slices], scan.background[chunk.slices], scan.spacing, scan.parameters)
    if found is not None:
        field_box, values = found
        scan.lung_field[chunk.slices][field_box] = values


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
    columns = patient.any(axis=1)
    width = patient.shape[2]
    present = columns.any(axis=1)
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


def _airway_levels(smooth_gt: np.ndarray, lung: np.ndarray, levels_hu, levels: np.ndarray) -> None:
    """Adds to `levels` (zeros), within the lung, how many of the air levels (loosest first)
    the voxel is below."""
    box = bounding_box(lung)
    if box is None:
        return
    smooth = smooth_gt[box]
    inside = lung[box]
    for level_hu in levels_hu:
        levels[box] += inside & (smooth < level_hu)


def _air_bins(parameters: MaskParameters) -> int:
    low, _ = parameters.clip_hu
    return int(np.floor(parameters.threshold_hu - low)) + 1


def _air_histograms(smooth: np.ndarray, gt: np.ndarray, outside: np.ndarray, parameters: MaskParameters):
    """Counts, in 1 HU bins, of the smoothed HU of outside air (clip_hu[0] up to
    threshold_hu) and of the absolute difference of raw NDCT neighbours in it (x direction)."""
    low, _ = parameters.clip_hu
    levels = smooth[outside & (smooth < parameters.threshold_hu)]
    level_bins = np.clip(np.floor(levels - low).astype(np.intp), 0, _air_bins(parameters) - 1)
    pairs = outside[:, :, 1:] & outside[:, :, :-1]
    steps = np.abs(gt[:, :, 1:][pairs].astype(np.float32) - gt[:, :, :-1][pairs])
    step_bins = np.minimum(steps.astype(np.intp), NOISE_BINS - 1)
    return (np.bincount(level_bins, minlength=_air_bins(parameters)), np.bincount(step_bins, minlength=NOISE_BINS))


def _air_level(level_histogram: np.ndarray, step_histogram: np.ndarray, parameters: MaskParameters):
    """Median HU of the outside air, the NDCT's noise there (HU, or None) and the source.

    The noise comes from neighbour differences, which no slow change of the air level
    (scatter, the edge of the field of view) affects: for a normal law,
    sigma = median |difference| / (0.674 * sqrt 2).
    """
    total = int(level_histogram.sum())
    if total < MIN_AIR_VOXELS:
        return float(parameters.air_hu), None, "default"
    median_bin = int(np.searchsorted(np.cumsum(level_histogram), total / 2.0))
    steps = int(step_histogram.sum())
    noise = None
    if steps >= MIN_AIR_VOXELS:
        median_step = int(np.searchsorted(np.cumsum(step_histogram), steps / 2.0)) + 0.5
        noise = median_step / (NORMAL_QUARTILE_Z * np.sqrt(2.0))
    return float(parameters.clip_hu[0] + median_bin + 0.5), noise, "measured"


def _as_array(image, name: str):
    """The array of `image` (a numpy array or a `Volume`, checked) and its spacing, None for an array."""
    spacing = None
    if isinstance(image, Volume):
        spacing = image.spacing
        image = image.array
    if not isinstance(image, np.ndarray):
        raise InputError(f"{name}: a numpy array or Volume is needed, got {type(image).__name__}")
    require_image_array(image, name)
    return image, spacing
