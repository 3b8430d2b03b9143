"""Tunable constants of the HU-volume masks, with the reasons for their defaults."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class MaskParameters:
    """Parameters of `compute_region_masks`; lengths in mm, areas in mm^2, HU for levels.

    threshold_hu: dark means below this after smoothing. -500 HU lies halfway between air
        (-1000) and water (0): a voxel half air and half tissue falls on it, so the boundary
        sits where partial volume puts it, fat (about -100) and lung (about -850) are far from
        it on each side, and it needs no per-slice statistics that break on slices with
        little air or on padding.
    clip_hu: HU are clipped to this range before smoothing, so that field-of-view padding
        (-2048, -3024) reads as air and bone does not bleed into its neighbours.
    smooth_mm: in-plane Gaussian sigma applied before thresholding; it divides uLDCT noise
        several-fold while moving a straight edge by nothing.
    min_island_mm2: enclosed dark regions smaller than this in a slice are noise and count
        as body.
    min_wall_mm: an enclosed dark region closer than this to the outside air (in-plane,
        nearly Euclidean) is not inside the patient: the air and foam pockets of the table
        and of cushions have walls of 1 to 2 mm, the chest wall is over 10 mm even in thin
        patients.
    air_hu: the air level used where a scan shows too little outside air to measure its
        own (the median of the smoothed NDCT over the background, padding excluded).
        Scanners differ: air reads from about -1000 up to -950 HU on real scans.
    gas_margin_hu: pure air is below the measured air level plus this margin on the
        smoothed NDCT; aerated lung parenchyma lies 80 to 200 HU above air.
    max_gas_noise_hu: gas is told from lung only when the NDCT's noise in outside air (from
        neighbour differences) is at most this: normal-dose scans have 10 to 30 HU, and
        above about 100 HU the smoothed air spreads over the parenchyma's levels.
    gas_section_share: an enclosed in-plane section at least this share pure air is a gas
        section (stomach, bowel, trachea), otherwise a parenchyma section; well under half,
        since smoothing and partial volume lift the rim of a trachea above the level.
        Airway tubes must be this share pure air as a whole.
    lung_share, max_parenchyma_air_share, min_lung_piece_ml: a 3D group of parenchyma
        sections is lung when its enclosed part holds at least lung_share of the largest
        group's (a lung, or both lungs joined through the airways), or at least
        min_lung_piece_ml with a share of pure-air voxels below max_parenchyma_air_share and
        below twice the largest group's plus 0.5% (lung cut off by the scan's end reads like
        the lung; gas mixed with stool holds pure-air bubbles).
    max_airway_section_mm2: sections not yet lung and at most this large, joined across
        slices, form tubes; a tube that touches the lung, is centred (trachea_offcentre_share)
        and mostly pure air is airway, hence lung. The larynx reaches about 800 mm^2, the
        stomach under the dome thousands.
    min_dark_lung_ml: a gas group ten times as large as the largest parenchyma group and
        at least this large is lung whose parenchyma reads air (severe emphysema); below it,
        gas in a scan without lung (the pelvis) stays gas.
    thin_gas_mm, pad_reach_mm: an enclosed section thinner than thin_gas_mm that comes
        within pad_reach_mm of the outside air is an air layer of a pad or table (which the
        body touches), hence background; the chest wall is over 10 mm thick, and deeper thin
        gas is bowel gas, body.
    min_moved_mm: a part of an enclosed section that only the uLDCT shows dark, at least this
        thick (twice its area over its outline) and of min_island_mm2, is a section of its
        own, told by what it touches across slices: gas that breathing moved beside the
        other scan's lung (the stomach under the dome moves 10 to 20 mm) is thick, the rim
        a shift of 1 to 2 mm leaves along the lungs is not.
    min_enclosed_share, min_cut_lung_mm2: a dark section touching the image border is a lung
        cut by the field of view when at least min_enclosed_share of its outline is body,
        it is parenchyma (not pure air) and it joins the enclosed lung in 3D; such sections
        of at least min_cut_lung_mm2 that join no lung are named in a warning.
    lung_field_hole_mm2, lung_field_closing_mm: the lung field fills holes of the lung of
        up to lung_field_hole_mm2 in each slice (tumours, consolidation; the mediastinum,
        when the lungs ring it, is larger) and closes concavities at the pleura with an
        in-plane closing by a square of this half-width, inside the body.
    airway_margins_hu: air in the trachea and bronchi reads near the air level on the
        smoothed NDCT, lung parenchyma 80 HU or more above it; growth starts at the air
        level plus the first margin and, if it leaks into the parenchyma, is retried at
        each stricter one.
    max_trachea_mm2, min_trachea_mm, trachea_search_mm, trachea_offcentre_share: the
        trachea is sought within trachea_search_mm of each end of the lung as in-plane lung
        components of at most max_trachea_mm2 (an adult trachea is under 500 mm^2) that are
        mostly pure air and whose centre lies within this share of the patient's width from
        its middle; such slices must run unbroken for at least min_trachea_mm. The run need
        not start at the end slice: the larynx above the trachea is wider.
    max_airway_fraction: airways larger than this share of the lung mean a leak.
    chunk_slices, workers: slices per unit of work and threads running them; a chunk of 4
        slices of 512x512 keeps its labels (8 bytes a voxel) within the processor's cache.
    """

    threshold_hu: float = -500.0
    clip_hu: tuple = (-1024.0, 200.0)
    smooth_mm: float = 1.0
    min_island_mm2: float = 15.0
    min_wall_mm: float = 2.5
    air_hu: float = -1000.0
    gas_margin_hu: float = 40.0
    max_gas_noise_hu: float = 100.0
    gas_section_share: float = 0.3
    lung_share: float = 0.05
    max_parenchyma_air_share: float = 0.05
    min_lung_piece_ml: float = 5.0
    max_airway_section_mm2: float = 1000.0
    min_dark_lung_ml: float = 100.0
    thin_gas_mm: float = 3.0
    pad_reach_mm: float = 10.0
    min_moved_mm: float = 4.0
    min_enclosed_share: float = 0.5
    min_cut_lung_mm2: float = 100.0
    lung_field_hole_mm2: float = 4000.0
    lung_field_closing_mm: float = 5.0
    airway_margins_hu: tuple = (50.0, 25.0, 10.0)
    max_trachea_mm2: float = 600.0
    min_trachea_mm: float = 10.0
    trachea_search_mm: float = 80.0
    trachea_offcentre_share: float = 0.15
    max_airway_fraction: float = 0.3
    chunk_slices: int = 4
    workers: int = 2

    def as_dict(self) -> dict:
        return {key: (list(value) if isinstance(value, tuple) else value) for key, value in asdict(self).items()}
