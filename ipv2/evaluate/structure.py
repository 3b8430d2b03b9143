"""Small-structure contrast retention: how much of the reference's local contrast of vessels
in the lung and of small soft-tissue structures a denoised image keeps.

Structures are found once, on the REFERENCE (the label or the truth), slice by slice, with
sizes in mm converted by the pixel spacing:

    R_s = reference smoothed by a Gaussian of `detect_sigma_mm`   (so that the reference's
                                                                  own noise is not taken
                                                                  for structure)
    T   = R_s - opening(R_s, disc of radius `radius_mm`)          (white top-hat: what is
                                                                  brighter than its
                                                                  surroundings and narrower
                                                                  than the disc)
    S   = {T > threshold_hu and T >= max(T over the disc) / 2}
          inside the structure region                             (structure pixels: the
                                                                  structures' full width at
                                                                  half maximum, without the
                                                                  rim the smoothing blurs)
    B   = the background region minus {T > threshold_hu} grown by one pixel
                                                                  (background pixels, off
                                                                  the structures' edges)

The contrast of an image I is the mean, over the structure pixels, of I minus its local
background, the mean of I over the background pixels in a box of half-width
`radius_mm + ring_mm` around each structure pixel:

    b_I(p) = sum_{q in B, |q - p| <= h} I(q) / #{q in B, |q - p| <= h}
    C(I)   = mean_{p in S} (I(p) - b_I(p))
    retention = C(prediction) / C(reference)

C is linear in I, so zero-mean noise adds nothing to it on average and the noisy input gets
no contrast from noise alone (a morphological background, a minimum over a disc, would sit
below a noisy image's mean and inflate its contrast). A constant offset changes nothing; a
prediction that keeps half of every structure's height above its surroundings scores 0.5.

Kinds:
- `lung_vessels`: region = the lung mask. Its vessels are holes in a mask thresholded on
  air, so structures are sought in the mask closed by the disc and with its holes filled;
  background pixels are those of the mask itself (parenchyma). Threshold 100 HU: a vessel of
  1 to 5 mm is 300 to 900 HU above the parenchyma (about -850 HU), while noise left after
  the smoothing, even in a label with 50 HU of lung noise, stays well below it.
- `soft_tissue`: region = the body. Structure and background pixels are those whose
  smoothed reference neighbourhood (up to the box's half-width) lies entirely in the
  mediastinal window (-160..240 HU), which leaves out bone, air and their edges. Threshold
  30 HU: small vessels and nodes stand 50 to 150 HU above fat; normal-dose soft-tissue noise
  (10 to 20 HU) after the 1 mm smoothing is a fifth of that, and its top-hat stays below.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ipv2.display import MEDIASTINAL_WINDOW, Window
from ipv2.errors import InputError


@dataclass(frozen=True)
class StructureKind:
    """How the small structures of one kind are found and where their background lies."""

    name: str
    radius_mm: float
    threshold_hu: float
    detect_sigma_mm: float
    ring_mm: float
    window: Window | None


STRUCTURE_KINDS = {
    "lung_vessels": StructureKind(
        "lung_vessels", radius_mm=2.5, threshold_hu=100.0, detect_sigma_mm=0.5, ring_mm=2.0, window=None
    ),
    "soft_tissue": StructureKind(
        "soft_tissue", radius_mm=3.0, threshold_hu=30.0, detect_sigma_mm=1.0, ring_mm=2.0, window=MEDIASTINAL_WINDOW
    ),
}


@dataclass(frozen=True)
class StructureSelection:
    """The structure and background pixels found on a reference, and the background box."""

    structure: np.ndarray
    background: np.ndarray
    box: tuple[int, int, int]

    @property
    def pixels(self) -> int:
        return int(np.count_nonzero(self.structure))


def _kind(kind: str) -> StructureKind:
    if kind not in STRUCTURE_KINDS:
        raise InputError(f"structure kind: '{kind}' is not one of {', '.join(STRUCTURE_KINDS)}")
    return STRUCTURE_KINDS[kind]


def _in_plane_spacing(spacing: Sequence[float]) -> tuple[float, float]:
    values = tuple(float(s) for s in spacing)
    if len(values) != 3 or not all(np.isfinite(s) and s > 0 for s in values):
        raise InputError(f"spacing: three positive sizes in mm are needed (z, y, x), got {tuple(spacing)}")
    return values[1], values[2]


def disc(radius_mm: float, dy: float, dx: float) -> np.ndarray:
    """A (1, h, w) footprint: the pixels within radius_mm of the centre, one slice thick."""
    ry, rx = int(np.floor(radius_mm / dy)), int(np.floor(radius_mm / dx))
    y, x = np.mgrid[-ry : ry + 1, -rx : rx + 1]
    return ((y * dy) ** 2 + (x * dx) ** 2 <= radius_mm**2)[None]


def _fill_holes_per_slice(mask: np.ndarray) -> np.ndarray:
    return np.stack([ndimage.binary_fill_holes(plane) for plane in mask])


def select_structures(
    reference: np.ndarray, region: np.ndarray, spacing: Sequence[float], kind: str = "lung_vessels"
) -> StructureSelection:
    """The structure pixels S and background pixels B of the module's definition."""
    spec = _kind(kind)
    reference = np.asarray(reference, dtype=np.float64)
    region = np.asarray(region, dtype=bool)
    dy, dx = _in_plane_spacing(spacing)
    footprint = disc(spec.radius_mm, dy, dx)
    smoothed = ndimage.gaussian_filter(reference, sigma=(0.0, spec.detect_sigma_mm / dy, spec.detect_sigma_mm / dx))
    top_hat = smoothed - ndimage.grey_opening(smoothed, footprint=footprint, mode="reflect")
    bright = top_hat > spec.threshold_hu
    half_maximum = top_hat >= 0.5 * ndimage.grey_dilation(top_hat, footprint=footprint, mode="reflect")
    reach = spec.radius_mm + spec.ring_mm
    if spec.window is None:
        closed = ndimage.binary_closing(region, structure=footprint, border_value=0) | region
        structure_region = _fill_holes_per_slice(closed)
        background_region = region
    else:
        in_window = (smoothed >= spec.window.low) & (smoothed <= spec.window.high)
        calm_surroundings = ndimage.binary_erosion(in_window, structure=disc(reach, dy, dx), border_value=0)
        structure_region = background_region = region & calm_surroundings
    edge = ndimage.binary_dilation(bright, structure=np.ones((1, 3, 3), dtype=bool))
    box = (1, 2 * int(np.ceil(reach / dy)) + 1, 2 * int(np.ceil(reach / dx)) + 1)
    return StructureSelection(
        structure=bright & half_maximum & structure_region, background=background_region & ~edge, box=box
    )


def local_contrast(image: np.ndarray, selection: StructureSelection) -> float | None:
    """C(I): the mean of I minus its local background over the structure pixels (HU)."""
    image = np.asarray(image, dtype=np.float64)
    weights = selection.background.astype(np.float64)
    background_sum = ndimage.uniform_filter(image * weights, size=selection.box, mode="constant")
    background_count = ndimage.uniform_filter(weights, size=selection.box, mode="constant")
    # Counts are box means: a structure pixel counts when its box holds background pixels.
    usable = selection.structure & (background_count > 0.5 / np.prod(selection.box))
    if not usable.any():
        return None
    local_background = background_sum[usable] / background_count[usable]
    return float(np.mean(image[usable] - local_background))


def _check_arrays(reference: np.ndarray, others: dict) -> None:
    shape = np.shape(reference)
    if len(shape) != 3:
        raise InputError(f"structure contrast: a (z, y, x) reference volume is needed, got shape {shape}")
    for name, array in others.items():
        if np.shape(array) != shape:
            raise InputError(f"structure contrast: the {name} has shape {np.shape(array)}, not the reference's {shape}")
    for name, array in (("reference", reference), ("prediction", others["prediction"])):
        if not np.all(np.isfinite(array)):
            raise InputError(f"structure contrast: the {name} holds NaN or infinite values")


def contrast_retention(
    prediction: np.ndarray,
    reference: np.ndarray,
    region: np.ndarray,
    spacing: Sequence[float],
    kind: str = "lung_vessels",
) -> float | None:
    """C(prediction) / C(reference) over the reference's small structures of `kind`.

    prediction and reference are (z, y, x) HU, region a boolean mask (the lung for
    `lung_vessels`, the body for `soft_tissue`), spacing (z, y, x) in mm. None when the
    reference has no structure pixel with a background near it, or no positive contrast.
    """
    _kind(kind)
    _check_arrays(reference, {"prediction": prediction, "region": region})
    selection = select_structures(reference, region, spacing, kind)
    reference_contrast = local_contrast(reference, selection)
    if reference_contrast is None or reference_contrast <= 0:
        return None
    prediction_contrast = local_contrast(prediction, selection)
    # Which pixels count depends on the selection alone: the reference's contrast exists, so this does.
    assert prediction_contrast is not None
    return prediction_contrast / reference_contrast
