"""What a denoiser removed from one scan, measured without a reference: the per-scan account.

No truth exists for a patient's scan, so everything here compares the input with the output
on the scan itself, on up to ACCOUNT_SLICES slices spread over it (the account must cost a
small part of the denoising):

- **Noise per region, before and after.** Regions by HU on the lightly smoothed output:
  lung parenchyma, fat, soft tissue (REGION_HU), each eroded away from its edges; within a
  region the flattest FLAT_FRACTION of its voxels (least structure in the smoothed output)
  are measured. Pixel-scale noise: the root mean local variance in PIXEL_WINDOW x
  PIXEL_WINDOW windows. Lesion-scale noise: the same on the image box-averaged over
  LESION_SCALE_MM (what a reader looking for a lesion of that size integrates), in windows
  LESION_WINDOW_FACTOR times wider, at the voxels whose whole window lies in the region and
  that are the flattest FLAT_FRACTION there at that scale. For white noise of standard
  deviation s the two read s and about 0.8 s / (box side in pixels) (a window three boxes
  wide holds few independent box means, and its own mean takes part of their variance).
- **Texture.** The noise power spectrum's mean frequency (TG-233; `ipv2.evaluate.nps`) in
  flat soft-tissue ROIs of the output, before and after; the ratio says how far the
  texture moved towards low frequencies (below 1: blotchier).
- **Structure check.** What was removed (input minus output) should look like noise: spread
  over the body as the noise is, not gathered on edges and vessels. Per slice, the share of
  its energy on the EDGE_SHARE of body voxels with the strongest edges of the smoothed
  output, over that share: about 1 for removed noise (1.2-1.7 on the phantom at 2% with the
  truth as output, noise being a little stronger along bone; 0.1-1 for the default model),
  3-6 for a Gaussian blur of 1-2 pixels there (2 for a 2-pixel blur of a simpler chest,
  4.3-4.5 for 3 pixels). Slices above EDGE_ENERGY_LIMIT are listed with a one-line reason,
  and the removed image's RMS on those edges in HU says how much they lost; a slice whose
  edges lost under EDGE_VISIBLE_HU (one stored HU) is not flagged, as the ratio alone would
  flag a 0.4 HU smoothing of a clean scan's edges as loudly as a 50 HU one (the default
  model at 25% and full dose on the phantom: ratios 3.8 and 5.9, 0.4 HU RMS).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage as ndi

from ipv2.errors import InputError
from ipv2.evaluate.low_contrast import LESION_SCALE_MM, box_pixels
from ipv2.evaluate.nps import noise_power_spectrum
from ipv2.local_variance import local_variance

ACCOUNT_SLICES = 16
REGION_HU = {"lung": (-950.0, -700.0), "fat": (-150.0, -50.0), "soft_tissue": (0.0, 100.0)}
REGION_SMOOTHING_PX = 2.0
EDGE_MARGIN_PX = 3
FLAT_FRACTION = 0.3
MIN_FLAT_VOXELS = 200
PIXEL_WINDOW = 9
LESION_WINDOW_FACTOR = 3  # odd
NPS_ROI = 32
NPS_FLAT_STD_HU = 20.0
BODY_ABOVE_HU = -500.0
EDGE_SHARE = 0.1
EDGE_SMOOTHING_PX = 1.5
EDGE_ENERGY_LIMIT = 2.5
# Scans store whole HU: an edge that lost less than one has lost nothing a reader can see.
EDGE_VISIBLE_HU = 1.0


def account_slices(depth: int, count: int = ACCOUNT_SLICES) -> np.ndarray:
    """Up to `count` slice indices spread evenly over a volume of `depth` slices."""
    return np.unique(np.linspace(0, depth - 1, min(depth, count)).round().astype(int))


def _structure(smoothed: np.ndarray) -> np.ndarray:
    return local_variance(smoothed, PIXEL_WINDOW)


def _lesion_box_px(pixel_mm: float) -> int:
    return max(3, box_pixels(LESION_SCALE_MM, pixel_mm))


def _lesion_window_px(pixel_mm: float) -> int:
    return LESION_WINDOW_FACTOR * _lesion_box_px(pixel_mm)  # an odd factor: the window stays centred


def _boxed(image: np.ndarray, pixel_mm: float) -> np.ndarray:
    side = _lesion_box_px(pixel_mm)
    return ndi.uniform_filter(image, size=(1, side, side), mode="nearest")


def _flattest(inside: np.ndarray, structure: np.ndarray) -> np.ndarray:
    if np.count_nonzero(inside) < MIN_FLAT_VOXELS:
        return np.zeros_like(inside)
    return inside & (structure <= np.quantile(structure[inside], FLAT_FRACTION))


def region_masks(output: np.ndarray, pixel_mm: float) -> dict[str, dict[str, np.ndarray]]:
    """Per region of REGION_HU in the (z, y, x) output: its flat voxels for the pixel-scale
    ("pixel") and the lesion-scale ("lesion") noise."""
    smoothed = ndi.gaussian_filter(output.astype(np.float32), (0, REGION_SMOOTHING_PX, REGION_SMOOTHING_PX))
    structure = _structure(smoothed)
    window = _lesion_window_px(pixel_mm)
    lesion_structure = local_variance(_boxed(smoothed, pixel_mm), window)
    plane = np.ones((1, 3, 3), dtype=bool)
    masks = {}
    for name, (low, high) in REGION_HU.items():
        region = (smoothed >= low) & (smoothed <= high)
        inside = ndi.binary_erosion(region, iterations=EDGE_MARGIN_PX, structure=plane)
        whole_window = ndi.binary_erosion(region, iterations=window // 2 + 1, structure=plane)
        masks[name] = {"pixel": _flattest(inside, structure), "lesion": _flattest(whole_window, lesion_structure)}
    return masks


def noise_maps(image: np.ndarray, pixel_mm: float) -> dict[str, np.ndarray]:
    """Local variances of one image, computed once for every region: at pixel scale
    ("pixel") and of the image box-averaged over LESION_SCALE_MM ("lesion")."""
    values = image.astype(np.float32)
    return {
        "pixel": local_variance(values, PIXEL_WINDOW),
        "lesion": local_variance(_boxed(values, pixel_mm), _lesion_window_px(pixel_mm)),
    }


def region_noise_hu(variance: np.ndarray, flat: np.ndarray) -> float | None:
    """Root mean local variance over `flat` voxels; None where too few."""
    if np.count_nonzero(flat) < MIN_FLAT_VOXELS:
        return None
    return float(np.sqrt(np.mean(variance[flat], dtype=np.float64)))


def _nps_mean_frequency(image: np.ndarray, flat: np.ndarray, spacing_zyx) -> float | None:
    result = noise_power_spectrum(image.astype(np.float64), flat, spacing_zyx, roi=NPS_ROI)
    return None if result is None else round(float(result["mean_cycles_per_mm"]), 4)


def edge_figures(noisy: np.ndarray, output: np.ndarray) -> list[tuple[float, float] | None]:
    """Per slice, (ratio, rms_hu): the removed image's energy share on the strongest edges over
    their voxel share, and its root mean square there in HU (how much an edge lost); None
    for a slice with too little body."""
    removed = (noisy.astype(np.float64) - output) ** 2
    smoothed = ndi.gaussian_filter(output.astype(np.float32), (0, 1.0, 1.0))
    edges = ndi.gaussian_gradient_magnitude(smoothed, (0, EDGE_SMOOTHING_PX, EDGE_SMOOTHING_PX))
    body = ndi.binary_erosion(output > BODY_ABOVE_HU, iterations=EDGE_MARGIN_PX, structure=np.ones((1, 3, 3)))
    figures: list[tuple[float, float] | None] = []
    for z in range(noisy.shape[0]):
        inside = body[z]
        energy = removed[z][inside]
        if inside.sum() < MIN_FLAT_VOXELS or energy.sum() <= 0:
            figures.append(None)
            continue
        strength = edges[z][inside]
        strongest = strength >= np.quantile(strength, 1.0 - EDGE_SHARE)
        ratio = float(energy[strongest].sum() / energy.sum() / strongest.mean())
        figures.append((round(ratio, 3), round(float(np.sqrt(energy[strongest].mean())), 2)))
    return figures


def edge_energy_ratios(noisy: np.ndarray, output: np.ndarray) -> list[float | None]:
    """Per slice: the removed image's energy share on the strongest edges over their voxel share."""
    return [None if figure is None else figure[0] for figure in edge_figures(noisy, output)]


def denoise_account(
    noisy: np.ndarray, output: np.ndarray, spacing: Sequence[float], *, slices: np.ndarray | None = None
) -> dict:
    """The account of one denoised scan; `noisy` and `output` (z, y, x) HU, spacing (x, y, z) mm.

    Returns {"slices_measured", "regions": {name: {"voxels", "noise_before_hu",
    "noise_after_hu", "lesion_noise_before_hu", "lesion_noise_after_hu"}}, "texture":
    {"nps_mean_before_cycles_per_mm", "nps_mean_after_cycles_per_mm", "ratio"},
    "structure_check": {"edge_energy_ratio_median", "limit", "flagged_slices", "warning"}}.
    """
    if np.shape(noisy) != np.shape(output) or np.ndim(noisy) != 3:
        raise InputError(f"account: input {np.shape(noisy)} and output {np.shape(output)} must be one (z, y, x) shape")
    spacing = tuple(float(s) for s in spacing)
    if len(spacing) != 3 or not all(np.isfinite(s) and s > 0 for s in spacing):
        raise InputError(f"account: spacing must be three positive sizes in mm, got {spacing}")
    picked = account_slices(noisy.shape[0]) if slices is None else np.asarray(slices, dtype=int)
    before = np.asarray(noisy, dtype=np.float32)[picked]
    after = np.asarray(output, dtype=np.float32)[picked]
    pixel_mm = float(np.sqrt(spacing[0] * spacing[1]))
    regions = {}
    maps_before, maps_after = noise_maps(before, pixel_mm), noise_maps(after, pixel_mm)
    for name, flat in region_masks(after, pixel_mm).items():
        regions[name] = {
            "voxels": int(np.count_nonzero(flat["pixel"])),
            "noise_before_hu": _rounded(region_noise_hu(maps_before["pixel"], flat["pixel"])),
            "noise_after_hu": _rounded(region_noise_hu(maps_after["pixel"], flat["pixel"])),
            "lesion_noise_before_hu": _rounded(region_noise_hu(maps_before["lesion"], flat["lesion"])),
            "lesion_noise_after_hu": _rounded(region_noise_hu(maps_after["lesion"], flat["lesion"])),
        }
    return {
        "slices_measured": [int(z) for z in picked],
        "regions": regions,
        "texture": _texture(before, after, spacing),
        "structure_check": _structure_check(before, after, picked),
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _texture(before: np.ndarray, after: np.ndarray, spacing) -> dict:
    smoothed = ndi.gaussian_filter(after, (0, REGION_SMOOTHING_PX, REGION_SMOOTHING_PX))
    low, high = REGION_HU["soft_tissue"]
    flat = (smoothed >= low) & (smoothed <= high) & (_structure(smoothed) <= NPS_FLAT_STD_HU**2)
    spacing_zyx = (spacing[2], spacing[1], spacing[0])
    mean_before = _nps_mean_frequency(before, flat, spacing_zyx)
    mean_after = _nps_mean_frequency(after, flat, spacing_zyx)
    ratio = round(mean_after / mean_before, 3) if mean_before and mean_after else None
    return {"nps_mean_before_cycles_per_mm": mean_before, "nps_mean_after_cycles_per_mm": mean_after, "ratio": ratio}


def _structure_check(before: np.ndarray, after: np.ndarray, picked: np.ndarray) -> dict:
    figures = edge_figures(before, after)
    measured = [figure for figure in figures if figure is not None]
    flagged = [
        (int(z), figure)
        for z, figure in zip(picked, figures)
        if figure is not None and figure[0] > EDGE_ENERGY_LIMIT and figure[1] >= EDGE_VISIBLE_HU
    ]
    warning = None
    if flagged:
        rms = float(np.median([figure[1] for _, figure in flagged]))
        warning = (
            f"what was removed gathers on edges and vessels in {len(flagged)} of {len(measured)} slices "
            f"measured (more than {EDGE_ENERGY_LIMIT:g} times its share there, {rms:.1f} HU RMS on those "
            "edges): structure may have been smoothed away; compare input and output there"
        )
    return {
        "edge_energy_ratio_median": round(float(np.median([f[0] for f in measured])), 3) if measured else None,
        "edge_removed_rms_hu_median": round(float(np.median([f[1] for f in measured])), 2) if measured else None,
        "limit": EDGE_ENERGY_LIMIT,
        "flagged_slices": [z for z, _ in flagged],
        "warning": warning,
    }
