"""A low-contrast detectability phantom in the layout of the MITA CCT189 phantom.

A water cylinder (0 HU) of 200 mm diameter in air holds discs of 3, 5, 7 and 10 mm diameter
at +14, +7, +5 and +3 HU: small and faint lesions a reader must still see. Discs are drawn
with their partial volume (each pixel the mean of SUPERSAMPLING x SUPERSAMPLING samples).

So that each image gives many near-independent observations, one slice holds three copies
of every disc and six signal-absent sites, all at least 35 mm apart (FBP noise is correlated
over a few pixels and a ROI of three diameters never reaches another disc):

- inner ring, 35 mm from the centre, 6 sites 60° apart: 3, 5, absent, 7, 10, absent mm;
- outer ring, 70 mm from the centre, 12 sites 30° apart (offset 15°): the same six twice.

Signal-absent ROIs come from the disc-free sites of the same slice, at the same two radii
in the same proportions (one third inner, two thirds outer) as each disc's copies, so
that both classes see the same noise: in a cylinder the noise depends on the distance from
the centre, and the rotationally symmetric channels of `ipv2.evaluate.observer` read a ROI
alike at every angle. Every absent site serves every disc size.

A separate slice (`render_ttf_slice`) holds four 25 mm rods at +15 and +120 HU (two of
each) for the contrast-dependent task transfer function of `ipv2.evaluate.ttf`.

Noisy realisations come from the project's physical simulator (`simulate_low_dose`, a full
reconstruction of the phantom at the dose, no input dose); each realisation is a pure
function of the seed, the dose and its index (`simulate_realisations`). Dose 1 here is
FULL_DOSE_FLUX of the simulator's own full dose: about 19 HU of pixel noise at the
cylinder's centre (15 HU on the outer ring) with the standard kernel, as a routine scan of
a 20 cm body gives (the simulator's 10^6 photons per ray give 5.6 HU, quieter than any
clinical scan); 10% then reads about 70 HU, 2% about 230 HU and 1%, starved of photons
along the longest rays, about 580 HU.
Benchmark only: these images must stay out of every training set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ipv2.contract import DEFAULT_KERNEL
from ipv2.errors import InputError

WATER_DIAMETER_MM = 200.0
WATER_HU = 0.0
AIR_HU = -1000.0
DEFAULT_PIXEL_MM = 0.7
DEFAULT_SIZE = 320  # 224 mm field of view at 0.7 mm
SUPERSAMPLING = 8
MIN_MARGIN_MM = 4.0  # air between the cylinder and the field of view's edge

# (diameter mm, contrast HU), as the CCT189 phantom's low-contrast module.
INSERTS: tuple[tuple[float, float], ...] = ((3.0, 14.0), (5.0, 7.0), (7.0, 5.0), (10.0, 3.0))
ABSENT = None
RING_PATTERN = (3.0, 5.0, ABSENT, 7.0, 10.0, ABSENT)
INNER_RING_MM, INNER_SITES, INNER_OFFSET_DEG = 35.0, 6, 0.0
OUTER_RING_MM, OUTER_SITES, OUTER_OFFSET_DEG = 70.0, 12, 15.0
ROI_PER_DIAMETER = 3.0
MIN_ROI_PX = 16
REALISATIONS_PER_BLOCK = 32  # simulated together under one seed
REALISATIONS_STAGE = "low-contrast realisations"
FULL_DOSE_FLUX = 1.0 / 8.0  # of the simulator's full-dose photons: 100% dose for this phantom

TTF_ROD_DIAMETER_MM = 25.0
TTF_ROD_CONTRASTS_HU = (15.0, 120.0, 15.0, 120.0)
TTF_RING_MM = 50.0


@dataclass(frozen=True)
class Site:
    """A place in the slice: a disc (`diameter_mm`, `contrast_hu`) or a disc-free site (both None)."""

    centre_mm: tuple[float, float]  # (y, x) from the cylinder's centre
    ring_mm: float
    diameter_mm: float | None = None
    contrast_hu: float | None = None

    @property
    def absent(self) -> bool:
        return self.diameter_mm is None


def _ring(radius_mm: float, sites: int, offset_deg: float):
    contrast = dict(INSERTS)
    for k in range(sites):
        angle = np.deg2rad(offset_deg + 360.0 * k / sites)
        centre = (float(-radius_mm * np.cos(angle)), float(radius_mm * np.sin(angle)))  # 0° at the top
        diameter = RING_PATTERN[k % len(RING_PATTERN)]
        yield Site(centre, radius_mm, diameter, None if diameter is None else contrast[diameter])


def low_contrast_sites() -> tuple[Site, ...]:
    """Every disc and disc-free site of the detectability slice."""
    return tuple(_ring(INNER_RING_MM, INNER_SITES, INNER_OFFSET_DEG)) + tuple(
        _ring(OUTER_RING_MM, OUTER_SITES, OUTER_OFFSET_DEG)
    )


def ttf_sites() -> tuple[Site, ...]:
    return tuple(
        Site(
            (float(-TTF_RING_MM * np.cos(a)), float(TTF_RING_MM * np.sin(a))),
            TTF_RING_MM,
            TTF_ROD_DIAMETER_MM,
            contrast,
        )
        for a, contrast in zip(np.deg2rad([45.0, 135.0, 225.0, 315.0]), TTF_ROD_CONTRASTS_HU)
    )


@dataclass(frozen=True)
class LowContrastSlice:
    """A noise-free phantom slice (H, W) in HU and where its sites are."""

    hu: np.ndarray
    pixel_mm: float
    sites: tuple[Site, ...]

    def centre_px(self, site: Site) -> tuple[float, float]:
        """(row, column) of a site's centre; pixel centres lie at whole indices."""
        middle = (self.hu.shape[0] - 1) / 2.0
        return middle + site.centre_mm[0] / self.pixel_mm, middle + site.centre_mm[1] / self.pixel_mm

    def discs(self, diameter_mm: float) -> tuple[Site, ...]:
        return tuple(site for site in self.sites if site.diameter_mm == diameter_mm)

    def absent_sites(self) -> tuple[Site, ...]:
        return tuple(site for site in self.sites if site.absent)


def roi_side_px(diameter_mm: float, pixel_mm: float) -> int:
    """The observer's square ROI for a disc: three diameters, even, at least MIN_ROI_PX."""
    side = int(np.ceil(ROI_PER_DIAMETER * diameter_mm / pixel_mm / 2.0)) * 2
    return max(side, MIN_ROI_PX)


def _check_grid(size, pixel_mm) -> tuple[int, float]:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
        raise InputError(f"size {size!r} must be a whole number of pixels")
    try:
        pixel_mm = float(pixel_mm)
    except (TypeError, ValueError):
        raise InputError(f"pixel size {pixel_mm!r} must be a number of millimetres") from None
    if not (np.isfinite(pixel_mm) and pixel_mm > 0):
        raise InputError(f"pixel size {pixel_mm:g} mm must be positive")
    needed = WATER_DIAMETER_MM + 2.0 * MIN_MARGIN_MM
    if size * pixel_mm < needed:
        raise InputError(
            f"a field of view of {size} x {pixel_mm:g} mm = {size * pixel_mm:g} mm cannot hold the "
            f"{WATER_DIAMETER_MM:g} mm cylinder; at least {needed:g} mm is needed"
        )
    return int(size), pixel_mm


def _coverage(size: int, pixel_mm: float, centre_mm, radius_mm: float) -> tuple[slice, slice, np.ndarray]:
    """The fraction of each pixel inside a circle, over the circle's bounding box of pixels."""
    middle = (size - 1) / 2.0
    rows = (middle + (centre_mm[0] + np.array([-radius_mm, radius_mm])) / pixel_mm).round().astype(int)
    columns = (middle + (centre_mm[1] + np.array([-radius_mm, radius_mm])) / pixel_mm).round().astype(int)
    box = (slice(max(rows[0] - 1, 0), min(rows[1] + 2, size)), slice(max(columns[0] - 1, 0), min(columns[1] + 2, size)))
    # Sub-pixel sample positions, in mm from the cylinder's centre, of every pixel in the box.
    offsets = (np.arange(SUPERSAMPLING) + 0.5) / SUPERSAMPLING - 0.5
    y = ((np.arange(box[0].start, box[0].stop) - middle)[:, None] + offsets[None, :]).ravel() * pixel_mm
    x = ((np.arange(box[1].start, box[1].stop) - middle)[:, None] + offsets[None, :]).ravel() * pixel_mm
    inside = ((y[:, None] - centre_mm[0]) ** 2 + (x[None, :] - centre_mm[1]) ** 2) <= radius_mm**2
    height, width = box[0].stop - box[0].start, box[1].stop - box[1].start
    fraction = inside.reshape(height, SUPERSAMPLING, width, SUPERSAMPLING).mean(axis=(1, 3))
    return box[0], box[1], fraction


def _render(size, pixel_mm, sites) -> LowContrastSlice:
    size, pixel_mm = _check_grid(size, pixel_mm)
    hu = np.full((size, size), AIR_HU, dtype=np.float64)
    rows, columns, water = _coverage(size, pixel_mm, (0.0, 0.0), WATER_DIAMETER_MM / 2.0)
    hu[rows, columns] += (WATER_HU - AIR_HU) * water
    for site in sites:
        if not site.absent:
            rows, columns, fraction = _coverage(size, pixel_mm, site.centre_mm, site.diameter_mm / 2.0)
            hu[rows, columns] += site.contrast_hu * fraction
    return LowContrastSlice(hu.astype(np.float32), pixel_mm, tuple(sites))


def render_low_contrast_slice(
    size: int = DEFAULT_SIZE, pixel_mm: float = DEFAULT_PIXEL_MM, discs: bool = True
) -> LowContrastSlice:
    """The detectability slice; `discs=False` gives the same cylinder without its discs."""
    sites = low_contrast_sites()
    slice_ = _render(size, pixel_mm, sites if discs else ())
    return LowContrastSlice(slice_.hu, slice_.pixel_mm, sites)


def render_ttf_slice(size: int = DEFAULT_SIZE, pixel_mm: float = DEFAULT_PIXEL_MM) -> LowContrastSlice:
    """The cylinder with four 25 mm rods for the task transfer function."""
    return _render(size, pixel_mm, ttf_sites())


def realisation_seed(seed: int, dose: float, block: int) -> int:
    """The simulator's seed for one block of realisations at one dose: doses and blocks never
    share noise."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed {seed!r} must be a non-negative integer")
    key = [int(seed), int(round(float(dose) * 1e6)), int(block)]
    return int(np.random.SeedSequence(key).generate_state(1)[0] >> 1)


def simulate_realisations(
    slice_: LowContrastSlice,
    dose: float,
    count: int,
    seed: int = 0,
    kernel: str = DEFAULT_KERNEL,
    device: str = "cpu",
    monitor=None,
) -> np.ndarray:
    """Realisations 0 .. count - 1 of the slice at `dose`, (count, H, W) HU float32.

    Realisation i is slice i % REALISATIONS_PER_BLOCK of the block i // REALISATIONS_PER_BLOCK,
    simulated with `realisation_seed(seed, dose, block)`; the simulator makes a slice's noise
    depend on its seed and index only, so realisation i is the same whatever `count`.
    `monitor` (`ipv2.progress.Monitor`) sees the realisations done, block by block, and can cancel.
    """
    from ipv2.progress import Monitor
    from ipv2.simulate import LowDoseSettings, simulate_low_dose

    monitor = monitor or Monitor()

    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
        raise InputError(f"the number of realisations {count!r} must be a positive whole number")
    blocks = []
    monitor.step(REALISATIONS_STAGE, 0, count)
    for block, start in enumerate(range(0, count, REALISATIONS_PER_BLOCK)):
        depth = min(REALISATIONS_PER_BLOCK, count - start)
        stack = np.ascontiguousarray(np.broadcast_to(slice_.hu, (depth,) + slice_.hu.shape))
        blocks.append(
            simulate_low_dose(
                stack,
                LowDoseSettings(
                    dose=dose * FULL_DOSE_FLUX,
                    mode="physical",
                    pixel_spacing_mm=slice_.pixel_mm,
                    seed=realisation_seed(seed, dose, block),
                    kernel=kernel,
                ),
                device=device,
            )
        )
        monitor.step(REALISATIONS_STAGE, start + depth, count)
    return np.concatenate(blocks)


def noise_free_reference(slice_: LowContrastSlice, kernel: str = DEFAULT_KERNEL, device: str = "cpu") -> np.ndarray:
    """The slice reconstructed without noise (H, W): what a perfect denoiser would give."""
    from ipv2.simulate import LowDoseSettings, simulate_low_dose

    settings = LowDoseSettings(
        dose=1.0, mode="physical", pixel_spacing_mm=slice_.pixel_mm, kernel=kernel, noise_free=True
    )
    return simulate_low_dose(slice_.hu[None], settings, device=device)[0]
