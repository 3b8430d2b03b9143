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
    airway_hu, airway_steps_hu: air in the trachea and bronchi reads near -1000 HU on the
        smoothed NDCT, lung parenchyma near -850; growth starts at airway_hu and, if it
        leaks into the parenchyma, is retried at each stricter level.
    max_trachea_mm2, min_trachea_mm, trachea_search_mm, trachea_offcentre_share: the
        trachea is sought within trachea_search_mm of each end of the lung as in-plane lung
        components of at most max_trachea_mm2 (an adult trachea is under 500 mm^2) that are
        mostly pure air and whose centre lies within this share of the patient's width from
        its middle; such slices must run unbroken for at least min_trachea_mm.
    max_airway_fraction: airways larger than this share of the lung mean a leak.
    chunk_slices, workers: slices per unit of work and threads running them.
    """

    threshold_hu: float = -500.0
    clip_hu: tuple = (-1024.0, 200.0)
    smooth_mm: float = 1.0
    min_island_mm2: float = 15.0
    min_wall_mm: float = 2.5
    airway_hu: float = -950.0
    airway_steps_hu: tuple = (-975.0, -990.0)
    max_trachea_mm2: float = 600.0
    min_trachea_mm: float = 10.0
    trachea_search_mm: float = 80.0
    trachea_offcentre_share: float = 0.15
    max_airway_fraction: float = 0.3
    chunk_slices: int = 16
    workers: int = 2

    def as_dict(self) -> dict:
        return {key: (list(value) if isinstance(value, tuple) else value) for key, value in asdict(self).items()}
