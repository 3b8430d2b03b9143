"""Region masks of a uLDCT/NDCT volume pair in Hounsfield units.

Three passes over chunks of slices, run on a few threads (`ipv2.parallel.map_chunks`). The
first (`ipv2.masks.first_pass`) draws each image's dark mask and the background, measures
the outside air and labels the sections, the in-plane components of dark regions that may
be lung. Then, with the scan's air level known (`ipv2.masks.outside_air`), the second tells
each section gas or parenchyma and links the sections across slices; they are grouped in 3D
(`ipv2.masks.enclosed`): lung, airways and lung cut by the field of view on one side, other
gas (body) and pad layers (background) on the other. The third draws the lung, other gas
and lung field of each chunk. Airways are then found in 3D within the lung
(`ipv2.masks.airways`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import partial

import numpy as np

from ipv2.errors import InputError
from ipv2.input_checks import require_image_array, require_same_shape, require_spacing
from ipv2.masks.airways import find_airways
from ipv2.masks.chunk_sections import boundary_slices
from ipv2.masks.enclosed import Classification, classify_sections, regions_of, section_links, section_table
from ipv2.masks.first_pass import MaskChunk, MaskScan, find_sections
from ipv2.masks.lung_field import lung_field_in_box
from ipv2.masks.outside_air import OutsideAir, outside_air
from ipv2.masks.parameters import MaskParameters
from ipv2.masks.regions import RegionMasks
from ipv2.masks.slicewise import bounding_box
from ipv2.parallel import map_chunks
from ipv2.progress import Monitor
from ipv2.volume import Volume

# Raised whenever the masks of the same inputs change, so that stored masks are not reused.
HU_MASKS_REVISION = 3
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
    scan = MaskScan.of(lq, gt, spacing, parameters)

    depth = lq.shape[0]
    step = max(1, int(parameters.chunk_slices))
    workers = max(1, min(int(parameters.workers), os.cpu_count() or 1))
    chunks = map_chunks(
        partial(find_sections, scan=scan),
        [slice(start, min(start + step, depth)) for start in range(0, depth, step)],
        workers=workers,
        monitor=monitor,
        stage="region masks",
    )

    monitor.check()
    air = outside_air([chunk.air_levels for chunk in chunks], [chunk.air_steps for chunk in chunks], parameters)
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


def _number_sections(chunks: list[MaskChunk]) -> None:
    """Labels of a chunk's sections begin after those of the chunks before, so that none is shared."""
    first_label = 0
    for chunk in chunks:
        chunk.first_label = first_label
        first_label += chunk.measures.count


def _tell_sections(chunk: MaskChunk, scan: MaskScan, air: OutsideAir):
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


def _links_between(pair: tuple[MaskChunk, MaskChunk]) -> np.ndarray:
    """The links between the last slice of a chunk and the first of the next (after the
    second pass: the labels must be the volume's)."""
    upper, lower = pair
    return section_links(boundary_slices(upper.sections, lower.sections))


def _draw_regions(chunk: MaskChunk, scan: MaskScan, classification: Classification, levels_hu: list[float]) -> None:
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
