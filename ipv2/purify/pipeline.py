"""Purification of one uLDCT/NDCT volume pair: masks, Add noise, Remove noise, pairs, label."""

from __future__ import annotations

import dataclasses
import inspect
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Optional

import numpy as np

from ipv2 import __version__
from ipv2.errors import InputError
from ipv2.pairs import evaluation_label, ipv1_label, ipv1_pair, ipv2_pair, training_region
from ipv2.progress import Monitor
from ipv2.purify.cache import StageCache, fingerprint
from ipv2.purify.options import PurifyOptions
from ipv2.validate import require_pair
from ipv2.volume import Volume
from ipv2.weak import estimate_noise_sigma, weak_denoise


@dataclass
class PurifyResult:
    """Everything a run produces, on the uLDCT's grid (`train_input` and the rest are HU)."""

    masks: Any
    train_input: Volume
    train_target: Volume
    eval_label: Volume
    report: Dict[str, Any] = field(default_factory=dict)


MASK_ARRAYS_KEY_FOR_INFO = "_info_json"


def _masks_from_arrays(arrays: Dict[str, np.ndarray]):
    from ipv2.masks import RegionMasks

    fields = {name: array.astype(bool) for name, array in arrays.items() if name != MASK_ARRAYS_KEY_FOR_INFO}
    if MASK_ARRAYS_KEY_FOR_INFO in arrays:
        fields["info"] = json.loads(str(arrays[MASK_ARRAYS_KEY_FOR_INFO]))
    return RegionMasks(**fields)


def _masks_to_arrays(masks) -> Dict[str, np.ndarray]:
    arrays = {f.name: np.asarray(getattr(masks, f.name), dtype=bool) for f in dataclasses.fields(masks)
              if isinstance(getattr(masks, f.name), np.ndarray)}
    info = getattr(masks, "info", None)
    if isinstance(info, dict):
        arrays[MASK_ARRAYS_KEY_FOR_INFO] = np.array(json.dumps(info, default=str))
    return arrays


def simulate_ndct(gt: Volume, options: PurifyOptions, monitor: Monitor) -> np.ndarray:
    """sim(gt): an ultra-low-dose scan simulated from the NDCT at the options' dose."""
    from ipv2.simulate import simulate_low_dose

    kwargs = dict(dose=options.dose, mode=options.simulate_mode, pixel_spacing_mm=gt.pixel_spacing_mm,
                  seed=options.seed, device=options.device, monitor=monitor)
    # The NDCT is itself a full-dose scan; a simulator that can account for its noise should.
    if "input_dose" in inspect.signature(simulate_low_dose).parameters:
        kwargs["input_dose"] = 1.0
    return np.asarray(simulate_low_dose(gt.array, **kwargs), dtype=np.float32)


def measure_noise(image: np.ndarray, region: Optional[np.ndarray] = None) -> Optional[float]:
    """The noise level in `region`, or None where no flat part is large enough to tell."""
    try:
        return round(estimate_noise_sigma(image, mask=region), 3)
    except InputError:
        return None


def weak_sigma_for(lung_sigma: Optional[float], whole_sigma: Optional[float]) -> float:
    """The uLDCT noise level in the lung, where the denoiser works; the whole image's as fallback."""
    sigma = lung_sigma if lung_sigma is not None else whole_sigma
    if sigma is None:
        raise InputError("uLDCT: no flat region is large enough to measure its noise level; give it with --sigma")
    return sigma


def purify_volumes(lq: Volume, gt: Volume, options: Optional[PurifyOptions] = None,
                   monitor: Optional[Monitor] = None, *, masks=None, simulated_gt: Optional[np.ndarray] = None,
                   cache_dir: Optional[Path] = None, resume: bool = False) -> PurifyResult:
    """Purified training pair and evaluation label for a uLDCT (`lq`) and NDCT (`gt`) pair.

    Inputs are checked first; nothing is computed for a bad pair. `masks` (a `RegionMasks`,
    e.g. edited by hand) and `simulated_gt` (sim(gt) from elsewhere) replace those stages.
    With `cache_dir`, each
    finished stage (masks, sim(gt), weak(lq)) is kept there, and with `resume` a stage
    already kept for the same inputs and parameters is loaded instead of recomputed.
    """
    options = (options or PurifyOptions()).validated()
    require_pair(lq, gt)
    monitor = monitor or Monitor()
    started = time.perf_counter()
    cache = StageCache(cache_dir, resume) if cache_dir is not None else None
    timings: Dict[str, Dict[str, Any]] = {}
    inputs_key = fingerprint(lq.array, gt.array, lq.spacing) if cache is not None else ""

    def stage(name: str, parameters: dict, compute: Callable[[], Dict[str, np.ndarray]]) -> Dict[str, np.ndarray]:
        monitor.check()
        begun = time.perf_counter()
        key = fingerprint(inputs_key, parameters) if cache is not None else ""
        stored = cache.load(name, key) if cache is not None else None
        cached = stored is not None
        if not cached:
            stored = compute()
            if cache is not None:
                monitor.check()
                cache.save(name, key, stored)
        timings[name] = {"seconds": round(time.perf_counter() - begun, 3), "cached": cached}
        return stored

    if masks is None:
        from ipv2.masks import HU_MASKS_REVISION, compute_region_masks

        # Masks kept by an earlier revision of the method lack its newer regions: a miss.
        masks = _masks_from_arrays(stage("masks", {"revision": HU_MASKS_REVISION}, lambda: _masks_to_arrays(
            compute_region_masks(lq.array, gt.array, spacing=lq.spacing, monitor=monitor))))
    elif np.shape(masks.dark) != lq.shape:
        raise InputError(f"masks: shape {np.shape(masks.dark)} differs from the uLDCT's {lq.shape}")
    region = training_region(masks, options.remove_background)

    simulated = None
    if options.add_noise and simulated_gt is not None:
        simulated = np.asarray(simulated_gt, dtype=np.float32)
        if simulated.shape != gt.shape:
            raise InputError(f"simulated NDCT: shape {simulated.shape} differs from the NDCT's {gt.shape}")
    elif options.add_noise:
        sim_parameters = {"dose": options.dose, "mode": options.simulate_mode, "seed": options.seed}
        simulated = stage("simulate", sim_parameters,
                          lambda: {"sim_gt": simulate_ndct(gt, options, monitor)})["sim_gt"]

    # Measured once: the weak denoiser and the report both use the uLDCT's noise levels.
    lq_sigma = measure_noise(lq.array)
    lq_lung_sigma = measure_noise(lq.array, region) if region.any() else None
    weak_sigma = None
    if options.mode == "ipv1":
        train_input, train_target = ipv1_pair(lq.array, gt.array, masks)
        label = ipv1_label(lq.array, gt.array, masks)
    else:
        train_input, train_target = ipv2_pair(lq.array, gt.array, masks, remove_background=options.remove_background,
                                              add_noise=options.add_noise, simulated_gt=simulated)
        denoised = lq.array
        if options.weak != "none":
            weak_sigma = (options.sigma_hu if options.sigma_hu is not None
                          else weak_sigma_for(lq_lung_sigma, lq_sigma))
            weak_parameters = {"weak": options.weak, "sigma": weak_sigma, "region": options.remove_background}
            denoised = stage("remove noise", weak_parameters, lambda: {"weak_lq": weak_denoise(
                lq.array, options.weak, sigma_hu=weak_sigma, mask=region, monitor=monitor)})["weak_lq"]
        label = evaluation_label(gt.array, masks, denoised, remove_background=options.remove_background)
    monitor.check()

    result = PurifyResult(masks=masks, train_input=lq.with_array(np.asarray(train_input, dtype=np.float32)),
                          train_target=lq.with_array(np.asarray(train_target, dtype=np.float32)),
                          eval_label=lq.with_array(np.asarray(label, dtype=np.float32)))
    noise_started = time.perf_counter()
    noise = {
        "lq_sigma_hu": lq_sigma,
        "gt_sigma_hu": measure_noise(gt.array),
        "lq_lung_sigma_hu": lq_lung_sigma,
        "label_lung_sigma_hu": measure_noise(result.eval_label.array, region) if region.any() else None,
        "sim_gt_lung_sigma_hu": (measure_noise(simulated, region) if simulated is not None and region.any()
                                 else None),
        "weak_sigma_hu": None if weak_sigma is None else round(float(weak_sigma), 3),
        "weak_sigma_source": None if weak_sigma is None else ("given" if options.sigma_hu is not None else "measured"),
    }
    timings["noise figures"] = {"seconds": round(time.perf_counter() - noise_started, 3), "cached": False}
    result.report = build_report(lq, masks, options, noise, timings, time.perf_counter() - started)
    return result


def build_report(lq: Volume, masks, options: PurifyOptions, noise: dict, timings: dict,
                 total_seconds: float) -> Dict[str, Any]:
    volumes = {name: round(float(value), 3) for name, value in masks.volumes_ml(lq.spacing).items()}
    return {
        "ipv2_version": __version__,
        "mode": options.mode,
        "parameters": options.as_dict(),
        "region": "lung" if options.remove_background else "dark",
        "grid": {"shape_zyx": list(lq.shape), "spacing_mm": list(lq.spacing), "origin_mm": list(lq.origin),
                 "direction": list(lq.direction)},
        "volumes_ml": volumes,
        "masks": masks.stats(lq.spacing) if hasattr(masks, "stats") else {},
        "noise": noise,
        "timings_s": {**{name: entry["seconds"] for name, entry in timings.items()}, "total": round(total_seconds, 3)},
        "cached_stages": sorted(name for name, entry in timings.items() if entry["cached"]),
    }
