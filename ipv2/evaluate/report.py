"""The evaluation report: fidelity per region against the label (and the truth), what a reader
sees (small-structure contrast, SSIM in the display windows), and noise and its spectrum."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Union

import numpy as np
from scipy import ndimage

from ipv2.errors import InputError
from ipv2.evaluate import flat_region_noise, metrics, nps, structure, windowed
from ipv2.evaluate.low_contrast import LESION_SCALE_MM, box_pixels
from ipv2.input_checks import require_same_grid, require_volume
from ipv2.io.atomic import atomic_output_path
from ipv2.masks import LABEL_BACKGROUND, LABEL_BODY, LABEL_LUNG
from ipv2.progress import Monitor
from ipv2.volume import Volume

REGION_LABELS = {"background": LABEL_BACKGROUND, "lung": LABEL_LUNG, "body": LABEL_BODY}
OVERALL = "overall"
REGIONS = (OVERALL,) + tuple(REGION_LABELS)
DATA_RANGE_CHOICES = ("fixed", "label")

ImageLike = Union[Volume, np.ndarray]


def _as_volume(image: ImageLike, spacing: tuple[float, float, float] | None) -> Volume:
    if isinstance(image, Volume):
        return image
    return Volume(np.asarray(image), spacing=spacing if spacing is not None else (1.0, 1.0, 1.0))


def region_masks_from_labelmap(labelmap: np.ndarray, name: str = "masks") -> dict[str, np.ndarray]:
    """Boolean masks by region name, checking that the labelmap holds only region labels."""
    labelmap = np.asarray(labelmap)
    if not np.issubdtype(labelmap.dtype, np.number):
        raise InputError(f"{name}: voxel type {labelmap.dtype} is not a label type")
    if np.issubdtype(labelmap.dtype, np.floating):
        if not np.all(np.isfinite(labelmap)):
            raise InputError(f"{name}: the labelmap holds NaN or infinite values")
        if not np.array_equal(labelmap, np.round(labelmap)):
            raise InputError(f"{name}: the labelmap holds fractional values; a labelmap of whole numbers is needed")
    found = set(np.unique(labelmap).astype(np.int64).tolist())
    known = set(REGION_LABELS.values())
    if not found <= known:
        by_value = sorted(REGION_LABELS.items(), key=lambda item: item[1])
        expected = ", ".join(f"{value} {region}" for region, value in by_value)
        raise InputError(
            f"{name}: unexpected label values {_first_values(sorted(found - known))}; the region "
            f"labelmap holds {expected} (as written by `ipv2 purify`)"
        )
    masks = {OVERALL: np.ones(labelmap.shape, dtype=bool)}
    masks.update({region: labelmap == value for region, value in REGION_LABELS.items()})
    return masks


def _first_values(values, shown: int = 5) -> str:
    """'3, 4, 5, 6, 7 and 9,980 more': a labelmap of another kind can hold thousands of values."""
    listed = ", ".join(str(value) for value in values[:shown])
    return listed + (f" and {len(values) - shown:,} more" if len(values) > shown else "")


def _data_range(data_range: str | float, label: np.ndarray) -> tuple[float, str]:
    if isinstance(data_range, str):
        if data_range == "fixed":
            return metrics.FIXED_DATA_RANGE_HU, (
                f"fixed {metrics.FIXED_DATA_RANGE_HU:g} HU, air (-1000 HU) to dense bone (+1000 HU)"
            )
        if data_range == "label":
            span = float(label.max() - label.min())
            return span, f"the label's range, {float(label.min()):g} to {float(label.max()):g} HU"
        raise InputError(f"data range: '{data_range}' is not one of {', '.join(DATA_RANGE_CHOICES)} or a number of HU")
    value = float(data_range)
    if not math.isfinite(value) or value <= 0:
        raise InputError(f"data range: {value:g} HU must be a positive number")
    return value, f"given, {value:g} HU"


def fidelity(image: np.ndarray, reference: np.ndarray, masks: dict[str, np.ndarray], data_range: float) -> dict:
    """RMSE, MAE, PSNR and SSIM of one image against one reference, per region."""
    ssim_map = metrics.ssim_map(image, reference, data_range)
    figures = {}
    for region, mask in masks.items():
        error = metrics.rmse(image, reference, mask)
        figures[region] = {
            "rmse_hu": error,
            "mae_hu": metrics.mae(image, reference, mask),
            "psnr_db": metrics.psnr_from_rmse(error, data_range),
            "ssim": metrics.masked_mean(ssim_map, mask),
        }
    return figures


def reader_figures(
    image: np.ndarray,
    reference: np.ndarray,
    masks: dict[str, np.ndarray],
    selections: dict[str, structure.StructureSelection],
    reference_contrast: dict[str, float | None],
) -> dict:
    """SSIM in the lung and soft-tissue windows and small-structure contrast retention of one
    image against one reference, whose structures (`selections`) are found already."""
    retention = {}
    for kind, selection in selections.items():
        own = reference_contrast[kind]
        contrast = structure.local_contrast(image, selection) if own else None
        retention[kind] = None if contrast is None or own is None else contrast / own
    return {
        "ssim_windowed": {
            "lung": windowed.windowed_ssim(image, reference, masks["lung"], "lung"),
            "soft": windowed.windowed_ssim(image, reference, masks["body"], "soft"),
        },
        "structure_contrast": retention,
    }


def structures_of(reference: np.ndarray, masks: dict[str, np.ndarray], spacing_zyx: Sequence[float]):
    """Structure selections by kind on one reference, and the reference's own contrast (HU)."""
    regions = {"lung_vessels": masks["lung"], "soft_tissue": masks["body"]}
    selections = {
        kind: structure.select_structures(reference, regions[kind], spacing_zyx, kind)
        for kind in structure.STRUCTURE_KINDS
    }
    contrast = {}
    for kind, selection in selections.items():
        value = structure.local_contrast(reference, selection)
        contrast[kind] = value if value is not None and value > 0 else None
    return selections, contrast


def evaluate_volumes(
    prediction: ImageLike,
    label: ImageLike,
    masks_labelmap: np.ndarray | Volume,
    truth: ImageLike | None = None,
    spacing: tuple[float, float, float] | None = None,
    *,
    input: ImageLike | None = None,
    data_range: str | float = "fixed",
    monitor: Monitor | None = None,
) -> dict:
    """Fidelity and noise figures of a denoised volume, in HU.

    prediction, label, truth and input are (z, y, x) HU arrays or Volumes on one voxel grid;
    masks_labelmap holds the regions (0 body, 1 background, 2 lung). `spacing` (x, y, z) mm
    is used for plain arrays. Region figures use only the voxels of their region.

    Besides fidelity and noise: per comparison, `ssim_windowed` {lung, soft} (SSIM in the
    lung window inside the lung, in the mediastinal window inside the body) and
    `structure_contrast` {lung_vessels, soft_tissue} (the share of the reference's
    small-structure contrast kept; see `structure`); per reference (label, truth),
    `structure` {kind: {pixels, contrast_hu}}; per image, `nps` {region: the figures of
    `nps.noise_power_spectrum` in ROIs flat in the truth, or in the label without one, or
    None}. With the truth: `lesion_noise_hu` {prediction, input: {region: the standard
    deviation of the error's LESION_SCALE_MM box mean where the truth is flat}}.
    """
    monitor = monitor or Monitor()
    pred_volume = _as_volume(prediction, spacing)
    label_volume = _as_volume(label, spacing if spacing is not None else pred_volume.spacing)
    require_volume(pred_volume, "prediction")
    require_volume(label_volume, "label")
    require_same_grid(label_volume, pred_volume, "label", "prediction")
    others = {}
    for name, image in (("truth", truth), ("input", input)):
        if image is not None:
            volume = _as_volume(image, pred_volume.spacing)
            require_volume(volume, name)
            require_same_grid(volume, pred_volume, name, "prediction")
            others[name] = volume.array
    labelmap = masks_labelmap.array if isinstance(masks_labelmap, Volume) else np.asarray(masks_labelmap)
    if labelmap.shape != pred_volume.shape:
        raise InputError(f"masks: shape {labelmap.shape} (z, y, x) differs from the prediction's {pred_volume.shape}")
    masks = region_masks_from_labelmap(labelmap)
    if min(pred_volume.shape[1:]) < metrics.SSIM_MIN_SIDE:
        raise InputError(
            f"prediction: slices of {pred_volume.shape[1]}x{pred_volume.shape[2]} pixels are smaller than "
            f"the SSIM window ({metrics.SSIM_MIN_SIDE}x{metrics.SSIM_MIN_SIDE})"
        )

    pred = pred_volume.array.astype(np.float64)
    label_array = label_volume.array.astype(np.float64)
    range_hu, range_text = _data_range(data_range, label_array)
    comparisons = [("prediction_vs_label", pred, label_array)]
    if "truth" in others:
        comparisons.append(("prediction_vs_truth", pred, others["truth"]))
    if "input" in others:
        comparisons.append(("input_vs_label", others["input"], label_array))
        if "truth" in others:
            comparisons.append(("input_vs_truth", others["input"], others["truth"]))
    images = {"prediction": pred, "label": label_array, **others}
    total = len(comparisons) + len(images) + 2
    done = 0
    monitor.step("evaluate", done, total)

    voxel_ml = pred_volume.voxel_volume_ml
    report: dict[str, Any] = {
        "data_range_hu": range_hu,
        "data_range": range_text,
        "ssim": (
            "mean inside each region of the SSIM map of every axial slice "
            "(scikit-image, 11x11 Gaussian window, sigma 1.5)"
        ),
        "regions": {
            region: {
                "voxels": int(np.count_nonzero(mask)),
                "volume_ml": float(np.count_nonzero(mask) * voxel_ml),
                **({"label_value": int(REGION_LABELS[region])} if region in REGION_LABELS else {}),
            }
            for region, mask in masks.items()
        },
        "fidelity": {},
        "ssim_windowed": {},
        "structure_contrast": {},
        "structure": {},
    }
    # Volume spacing is (x, y, z); the structure and NPS functions take (z, y, x) like the arrays.
    spacing_zyx = tuple(reversed(pred_volume.spacing))
    references = {"label": label_array, **({"truth": others["truth"]} if "truth" in others else {})}
    structures = {name: structures_of(reference, masks, spacing_zyx) for name, reference in references.items()}
    for name, (selections, contrast) in structures.items():
        report["structure"][name] = {
            kind: {"pixels": selections[kind].pixels, "contrast_hu": contrast[kind]} for kind in selections
        }
    done += 1
    monitor.step("evaluate", done, total)
    for name, image, reference in comparisons:
        report["fidelity"][name] = fidelity(image, reference, masks, range_hu)
        reader = reader_figures(image, reference, masks, *structures[name.rsplit("_vs_", 1)[1]])
        report["ssim_windowed"][name] = reader["ssim_windowed"]
        report["structure_contrast"][name] = reader["structure_contrast"]
        done += 1
        monitor.step("evaluate", done, total)

    flat = flat_region_noise.uniform_masks(label_array, masks)
    done += 1
    monitor.step("evaluate", done, total)
    report["noise_uniform_voxels"] = {region: int(np.count_nonzero(mask)) for region, mask in flat.items()}
    report["noise_std_hu"] = {}
    # ROIs flat in the truth where there is one: the label's body is the NDCT, whose anatomy
    # breathing has moved, so some ROIs flat in it lie across edges of the prediction's.
    nps_reference = "truth" if "truth" in others else "label"
    nps_flat = nps.nps_flat_masks(images[nps_reference], masks)
    report["nps_roi_pixels"] = nps.DEFAULT_ROI
    report["nps_rois_flat_in"] = nps_reference
    report["nps"] = {}
    for name, image in images.items():
        variance = flat_region_noise.local_variance(image)
        report["noise_std_hu"][name] = {
            region: flat_region_noise.noise_std(image, mask, variance) for region, mask in flat.items()
        }
        report["nps"][name] = {
            region: nps.noise_power_spectrum(image, mask, spacing_zyx) for region, mask in nps_flat.items()
        }
        done += 1
        monitor.step("evaluate", done, total)
    if "truth" in others:
        # With the truth, the error itself is the noise: its lesion-sized box mean is the
        # noise a reader integrates looking for a faint lesion, which smoothing lowers far
        # less than the pixel noise when it leaves blotchy low-frequency noise.
        pixel_mm = float(np.sqrt(spacing_zyx[1] * spacing_zyx[2]))
        box = box_pixels(LESION_SCALE_MM, pixel_mm)
        report["lesion_scale_mm"] = box * pixel_mm
        report["lesion_noise_hu"] = {
            name: lesion_noise(image, others["truth"], nps_flat, box)
            for name, image in (("prediction", pred), ("input", others.get("input")))
            if image is not None
        }
    return report


def lesion_noise(
    image: np.ndarray, truth: np.ndarray, flat: dict[str, np.ndarray], box: int
) -> dict[str, float | None]:
    """Per region, the standard deviation of the error's box mean (box x box pixels in-plane)
    over the voxels flat in the truth; None where a region has none."""
    error = ndimage.uniform_filter(np.asarray(image, dtype=np.float64) - truth, size=(1, box, box), mode="nearest")
    return {region: float(error[mask].std()) if np.any(mask) else None for region, mask in flat.items()}


def json_ready(value, digits: int | None = None):
    """The report with NaN and infinities as null, which strict JSON readers accept; floats
    rounded to `digits` places where given (a benchmark's last line stays readable)."""
    if isinstance(value, dict):
        return {key: json_ready(item, digits) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(item, digits) for item in value]
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            return None
        return float(value) if digits is None else round(float(value), digits)
    if isinstance(value, np.integer):
        return int(value)
    return value


def write_report(report: dict, path: str | os.PathLike) -> Path:
    path = Path(path)
    with atomic_output_path(path) as tmp:
        tmp.write_text(json.dumps(json_ready(report), indent=2) + "\n", encoding="utf-8")
    return path
