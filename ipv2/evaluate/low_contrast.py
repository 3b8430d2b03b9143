"""Figures of a low-contrast phantom's realisations: detectability, contrast kept, noise, texture.

All figures are taken over a stack of realisations (n, H, W) of one slice of
`ipv2.phantom.low_contrast` (the noisy images, or what a denoiser made of them):

- `observer_data_for`: the channel outputs of every disc copy's ROI (signal present) and of
  every disc-free site's ROI (signal absent), grouped by realisation, for
  `ipv2.evaluate.observer`;
- `insert_contrast`: the contrast of a disc, the mean inside it (pixels whose centre lies
  within its radius less half a pixel) minus the mean of the annulus DISC_ANNULUS_MM beyond
  its edge, averaged over copies and realisations, and the share kept of the noise-free
  reference's contrast read the same way (partial volume and the reconstruction's blur
  count alike in both);
- `ensemble_noise`: the noise at pixel scale, the standard deviation across realisations at
  each pixel of the disc-free sites (within SITE_RADIUS_MM), pooled; and at lesion scale,
  the same of the image's box mean over LESION_SCALE_MM (a lesion's size), which is what a
  reader judging a faint blob sees. A denoiser that leaves low-frequency blotches lowers the
  first far more than the second;
- `water_nps`: the noise power spectrum (`ipv2.evaluate.nps`) in the flat water, away from
  the discs and the cylinder's edge.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from ipv2.errors import InputError
from ipv2.evaluate.nps import noise_power_spectrum
from ipv2.evaluate.observer import ObserverData, channel_outputs, channels_for, observer_data
from ipv2.phantom.low_contrast import WATER_DIAMETER_MM, LowContrastSlice, roi_side_px

DISC_ANNULUS_MM = (2.0, 5.0)
SITE_RADIUS_MM = 10.0
LESION_SCALE_MM = 7.7
NPS_EDGE_MARGIN_MM = 10.0
NPS_DISC_MARGIN_MM = 3.0
NPS_ROI = 32


def _stack(images: np.ndarray, slice_: LowContrastSlice) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim == 2:
        images = images[None]
    if images.ndim != 3 or images.shape[1:] != slice_.hu.shape:
        raise InputError(f"realisations of shape {images.shape} do not match the phantom's slice {slice_.hu.shape}")
    return images


def site_rois(images: np.ndarray, slice_: LowContrastSlice, site, side: int) -> np.ndarray:
    """(n, side, side) ROIs centred on the pixel nearest the site's centre."""
    row, column = (int(round(v)) for v in slice_.centre_px(site))
    half = side // 2
    return images[:, row - half : row - half + side, column - half : column - half + side]


def observer_data_for(
    images: np.ndarray, slice_: LowContrastSlice, diameter_mm: float, channel_set: str = "laguerre_gauss"
) -> ObserverData:
    """Channel outputs of one disc size's copies (present) and of the disc-free sites (absent)."""
    images = _stack(images, slice_)
    side = roi_side_px(diameter_mm, slice_.pixel_mm)
    channels = channels_for(channel_set, side, diameter_mm / slice_.pixel_mm)
    discs, absent_sites = slice_.discs(diameter_mm), slice_.absent_sites()
    if not discs:
        raise InputError(f"the phantom holds no {diameter_mm:g} mm disc")
    count = len(images)
    present = np.concatenate([channel_outputs(site_rois(images, slice_, site, side), channels) for site in discs])
    absent = np.concatenate([channel_outputs(site_rois(images, slice_, site, side), channels) for site in absent_sites])
    realisation = np.arange(count)
    return observer_data(present, absent, np.tile(realisation, len(discs)), np.tile(realisation, len(absent_sites)))


def _distance_mm(slice_: LowContrastSlice, site) -> np.ndarray:
    rows, columns = np.mgrid[: slice_.hu.shape[0], : slice_.hu.shape[1]]
    row, column = slice_.centre_px(site)
    return np.hypot(rows - row, columns - column) * slice_.pixel_mm


def _disc_contrasts(images: np.ndarray, slice_: LowContrastSlice, diameter_mm: float) -> np.ndarray:
    """(copies, n) contrast of every copy of a disc size in every image."""
    radius = diameter_mm / 2.0
    values = []
    for site in slice_.discs(diameter_mm):
        distance = _distance_mm(slice_, site)
        inside = distance <= radius - 0.5 * slice_.pixel_mm
        annulus = (distance >= radius + DISC_ANNULUS_MM[0]) & (distance <= radius + DISC_ANNULUS_MM[1])
        values.append(images[:, inside].mean(axis=1) - images[:, annulus].mean(axis=1))
    return np.asarray(values, dtype=np.float64)


def insert_contrast(images: np.ndarray, slice_: LowContrastSlice, diameter_mm: float, reference: np.ndarray) -> dict:
    """The disc's contrast (HU) with its 95 % interval, the reference's, and the share kept."""
    images = _stack(images, slice_)
    contrasts = _disc_contrasts(images, slice_, diameter_mm).ravel()
    reference_contrast = float(_disc_contrasts(_stack(reference, slice_), slice_, diameter_mm).mean())
    mean = float(contrasts.mean())
    half_width = float(1.96 * contrasts.std(ddof=1) / np.sqrt(contrasts.size)) if contrasts.size > 1 else None
    kept = mean / reference_contrast if reference_contrast != 0 else None
    return {
        "contrast_hu": mean,
        "contrast_ci_hu": None if half_width is None else [mean - half_width, mean + half_width],
        "reference_contrast_hu": reference_contrast,
        "contrast_kept": kept,
        "contrast_kept_ci": (
            None
            if half_width is None or kept is None
            else [(mean - half_width) / reference_contrast, (mean + half_width) / reference_contrast]
        ),
    }


def paired_contrast_kept(
    with_discs: np.ndarray,
    without_discs: np.ndarray,
    slice_: LowContrastSlice,
    diameter_mm: float,
    disc_reference: np.ndarray,
) -> dict:
    """The share of a disc's contrast a method keeps, read free of noise.

    `with_discs` and `without_discs` are a method's outputs for the same realisations with
    and without the discs, the second made by subtracting `disc_reference` (the noise-free
    discs alone) from the first's input: the noise is the same in both, so their
    difference holds only what the method made of the discs. Returns the share kept (the
    difference's disc contrast over the reference's) and its 95 % t-interval over copies
    and realisations.
    """
    difference = _stack(with_discs, slice_).astype(np.float64) - _stack(without_discs, slice_)
    contrasts = _disc_contrasts(difference, slice_, diameter_mm).ravel()
    reference = float(_disc_contrasts(_stack(disc_reference, slice_), slice_, diameter_mm).mean())
    if reference == 0 or contrasts.size < 2:
        return {"contrast_kept": None, "contrast_kept_ci": None}
    mean = float(contrasts.mean()) / reference
    half_width = float(1.96 * contrasts.std(ddof=1) / np.sqrt(contrasts.size)) / abs(reference)
    return {"contrast_kept": mean, "contrast_kept_ci": [mean - half_width, mean + half_width]}


def box_pixels(box_mm: float, pixel_mm: float) -> int:
    """A box of `box_mm` as a whole, odd number of pixels (odd, so that the box is centred)."""
    return max(1, int(round(box_mm / pixel_mm)) | 1)


def ensemble_noise(images: np.ndarray, slice_: LowContrastSlice, lesion_mm: float = LESION_SCALE_MM) -> dict:
    """Noise (HU) across realisations at the disc-free sites: per pixel and as a lesion-sized box mean."""
    images = _stack(images, slice_).astype(np.float64)
    if len(images) < 2:
        raise InputError("noise across realisations needs at least two realisations")
    near = np.zeros(slice_.hu.shape, dtype=bool)
    for site in slice_.absent_sites():
        near |= _distance_mm(slice_, site) <= SITE_RADIUS_MM
    box = box_pixels(lesion_mm, slice_.pixel_mm)
    boxed = ndi.uniform_filter(images, size=(1, box, box), mode="nearest")
    # Box means near a site whose box stays within SITE_RADIUS_MM + half a box: water only.
    pixel = float(np.sqrt(images[:, near].var(axis=0, ddof=1).mean()))
    lesion = float(np.sqrt(boxed[:, near].var(axis=0, ddof=1).mean()))
    return {"pixel_noise_hu": pixel, "lesion_noise_hu": lesion, "lesion_box_mm": box * slice_.pixel_mm}


def water_flat_mask(slice_: LowContrastSlice) -> np.ndarray:
    """Water away from the cylinder's edge and from every disc: where NPS ROIs may lie."""
    rows, columns = np.mgrid[: slice_.hu.shape[0], : slice_.hu.shape[1]] - (slice_.hu.shape[0] - 1) / 2.0
    flat = np.hypot(rows, columns) * slice_.pixel_mm <= WATER_DIAMETER_MM / 2.0 - NPS_EDGE_MARGIN_MM
    for site in slice_.sites:
        if site.diameter_mm is not None:  # a disc, not a disc-free site
            flat &= _distance_mm(slice_, site) > site.diameter_mm / 2.0 + NPS_DISC_MARGIN_MM
    return flat


def water_nps(images: np.ndarray, slice_: LowContrastSlice, roi: int = NPS_ROI) -> dict | None:
    """The NPS (`ipv2.evaluate.nps.noise_power_spectrum`) of the realisations in flat water."""
    images = _stack(images, slice_)
    mask = np.broadcast_to(water_flat_mask(slice_), images.shape)
    return noise_power_spectrum(images, mask, (1.0, slice_.pixel_mm, slice_.pixel_mm), roi=roi)
