"""Purification of one uLDCT/NDCT volume pair: masks and sim(gt) as cached stages, then the core."""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from ipv2.errors import InputError
from ipv2.input_checks import require_pair
from ipv2.progress import Monitor
from ipv2.purify.cache import StageCache, fingerprint
from ipv2.purify.core import HU, StageTimes, purify_arrays
from ipv2.purify.options import PurifyOptions
from ipv2.purify.report import purify_report, region_counts
from ipv2.volume import Volume
from ipv2.weak import weak_denoise

if TYPE_CHECKING:
    from ipv2.masks.regions import RegionMasks


@dataclass
class PurifyResult:
    """Everything a run produces, on the uLDCT's grid (`train_input` and the rest are HU)."""

    masks: RegionMasks
    train_input: Volume
    train_target: Volume
    eval_label: Volume
    report: dict[str, Any] = field(default_factory=dict)


MASK_ARRAYS_KEY_FOR_INFO = "_info_json"


def _masks_from_arrays(arrays: dict[str, np.ndarray]) -> RegionMasks:
    from ipv2.masks import RegionMasks

    fields: dict[str, Any] = {
        name: array.astype(bool) for name, array in arrays.items() if name != MASK_ARRAYS_KEY_FOR_INFO
    }
    if MASK_ARRAYS_KEY_FOR_INFO in arrays:
        fields["info"] = json.loads(str(arrays[MASK_ARRAYS_KEY_FOR_INFO]))
    return RegionMasks(**fields)


def _masks_to_arrays(masks: RegionMasks) -> dict[str, np.ndarray]:
    arrays = {
        f.name: np.asarray(getattr(masks, f.name), dtype=bool)
        for f in dataclasses.fields(masks)
        if isinstance(getattr(masks, f.name), np.ndarray)
    }
    info = getattr(masks, "info", None)
    if isinstance(info, dict):
        arrays[MASK_ARRAYS_KEY_FOR_INFO] = np.array(json.dumps(info, default=str))
    return arrays


def simulate_ndct(gt: Volume, options: PurifyOptions, monitor: Monitor) -> np.ndarray:
    """sim(gt): an ultra-low-dose scan simulated from the NDCT at the options' dose."""
    from ipv2.simulate import LowDoseSettings, simulate_low_dose

    settings = LowDoseSettings(
        dose=options.dose,
        mode=options.simulate_mode,
        pixel_spacing_mm=gt.pixel_spacing_mm,
        seed=options.seed,
        input_dose=1.0,  # the NDCT is itself a full-dose scan: its own noise counts
    )
    return np.asarray(simulate_low_dose(gt.array, settings, device=options.device, monitor=monitor), dtype=np.float32)


def purify_volumes(
    lq: Volume,
    gt: Volume,
    options: PurifyOptions | None = None,
    monitor: Monitor | None = None,
    *,
    masks: RegionMasks | None = None,
    simulated_gt: np.ndarray | None = None,
    cache_dir: Path | None = None,
    resume: bool = False,
) -> PurifyResult:
    """Purified training pair and evaluation label for a uLDCT (`lq`) and NDCT (`gt`) pair.

    Inputs are checked first; nothing is computed for a bad pair. `masks` (a `RegionMasks`,
    e.g. edited by hand) and `simulated_gt` (sim(gt) from elsewhere) replace those stages.
    With `cache_dir`, each
    finished stage (masks, sim(gt), weak(lq)) is kept there, and with `resume` a stage
    already kept for the same inputs and parameters is loaded instead of recomputed.
    """
    options = (options or PurifyOptions()).checked()
    require_pair(lq, gt)
    monitor = monitor or Monitor()
    started = time.perf_counter()
    cache = StageCache(cache_dir, resume) if cache_dir is not None else None
    times = StageTimes()
    inputs_key = fingerprint(lq.array, gt.array, lq.spacing) if cache is not None else ""

    def stage(
        name: str, parameters: dict[str, Any], compute: Callable[[], dict[str, np.ndarray]]
    ) -> dict[str, np.ndarray]:
        monitor.check()
        with times.measure(name):
            key = fingerprint(inputs_key, parameters) if cache is not None else ""
            stored = cache.load(name, key) if cache is not None else None
            if stored is not None:
                times.cached.add(name)
            else:
                stored = compute()
                if cache is not None:
                    monitor.check()
                    cache.save(name, key, stored)
        return stored

    if masks is None:
        from ipv2.masks import HU_MASKS_REVISION, compute_region_masks

        # Masks kept by an earlier revision of the method lack its newer regions: a miss.
        masks = _masks_from_arrays(
            stage(
                "masks",
                {"revision": HU_MASKS_REVISION},
                lambda: _masks_to_arrays(compute_region_masks(lq.array, gt.array, spacing=lq.spacing, monitor=monitor)),
            )
        )
    elif np.shape(masks.dark) != lq.shape:
        raise InputError(f"masks: shape {np.shape(masks.dark)} differs from the uLDCT's {lq.shape}")

    simulated = None
    if options.add_noise and simulated_gt is not None:
        simulated = np.asarray(simulated_gt, dtype=np.float32)
        if simulated.shape != gt.shape:
            raise InputError(f"simulated NDCT: shape {simulated.shape} differs from the NDCT's {gt.shape}")
    elif options.add_noise:
        sim_parameters = {"dose": options.dose, "mode": options.simulate_mode, "seed": options.seed}
        simulated = stage("simulate", sim_parameters, lambda: {"sim_gt": simulate_ndct(gt, options, monitor)})["sim_gt"]

    def denoise(mask: np.ndarray, sigma: float) -> np.ndarray:
        parameters = {"weak": options.weak, "sigma": sigma, "mask": fingerprint(mask)}
        return stage(
            "remove noise",
            parameters,
            lambda: {"weak_lq": weak_denoise(lq.array, options.weak, sigma_hu=sigma, mask=mask, monitor=monitor)},
        )["weak_lq"]

    monitor.check()
    purified = purify_arrays(
        lq.array, gt.array, masks, options, simulated=simulated, denoise=denoise, units=HU, times=times
    )
    monitor.check()
    result = PurifyResult(
        masks=masks,
        train_input=lq.with_array(np.asarray(purified.train_input, dtype=np.float32)),
        train_target=lq.with_array(np.asarray(purified.train_target, dtype=np.float32)),
        eval_label=lq.with_array(np.asarray(purified.eval_label, dtype=np.float32)),
    )
    volumes = {name: round(float(value), 3) for name, value in masks.volumes_ml(lq.spacing).items()}
    grid = {
        "shape_zyx": list(lq.shape),
        "spacing_mm": list(lq.spacing),
        "origin_mm": list(lq.origin),
        "direction": list(lq.direction),
    }
    result.report = purify_report(
        options,
        source="volumes",
        slices=lq.shape[0],
        counts=region_counts(masks, purified),
        noise=purified.noise,
        units=HU,
        times=times,
        total_seconds=time.perf_counter() - started,
        grid=grid,
        volumes_ml=volumes,
        mask_stats=masks.stats(lq.spacing),
    )
    return result
