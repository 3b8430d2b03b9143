"""One purification for every source: each mode's pair, the noise level, Remove noise and label.

Volumes (`pipeline.py`) and the authors' PNG folders (`dataset.py`) both call
`purify_arrays`. They differ only in where sim(gt) and weak(lq) come from (cached stages
in HU, or 8-bit chunks rounded back to gray levels) and in the images' units, which the
caller passes in; every mode is written here once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

from ipv2.errors import InputError
from ipv2.purify.options import PurifyOptions
from ipv2.purify.pairs import (
    disagreement_band,
    evaluation_label,
    ipv1_label,
    ipv1_pair,
    ipv2_pair,
    ipv2m_label,
    ipv2m_label_region,
    ipv2m_pair,
    purification_region,
)
from ipv2.weak import estimate_noise_sigma, weak_denoise
from ipv2.weak.denoisers import EIGHT_BIT_LEVELS, HU_CONTRAST

if TYPE_CHECKING:
    from ipv2.masks.regions import RegionMasks

# weak(lq) over a mask, given the noise level: the caller may cache it or round it.
Denoiser = Callable[[np.ndarray, float], np.ndarray]


@dataclass(frozen=True)
class Units:
    """How the images' values read: the report's unit and the weak denoiser's contrast."""

    name: str
    contrast: float
    sigma_hint: str


HU = Units("HU", HU_CONTRAST, "give it with --sigma")
GRAY_LEVELS = Units("gray levels", EIGHT_BIT_LEVELS, "give it with --sigma (in gray levels)")


@dataclass
class Purified:
    """One purification's arrays and the figures the report needs."""

    train_input: np.ndarray
    train_target: np.ndarray
    eval_label: np.ndarray
    region: np.ndarray  # R: Add noise and the noise level
    label_region: np.ndarray  # where the label is weak(lq)
    band: np.ndarray  # the background the two scans disagree on, whatever the mode
    noise: dict[str, float | None]


class StageTimes:
    """Seconds per stage, summed over calls, and the stages loaded from a cache."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cached: set[str] = set()

    @contextmanager
    def measure(self, name: str) -> Iterator[None]:
        begun = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - begun


def measure_noise(image: np.ndarray, region: np.ndarray | None = None) -> float | None:
    """The noise level in `region`, or None where no flat part is large enough to tell."""
    if region is not None and not np.any(region):
        return None
    try:
        return round(estimate_noise_sigma(image, mask=region), 3)
    except InputError:
        return None


def weak_sigma_for(
    lung_sigma: float | None, whole_sigma: float | None, units: Units = HU, where: str = "uLDCT"
) -> float:
    """The uLDCT noise level in the region, where the denoiser works; the whole image's as fallback."""
    sigma = lung_sigma if lung_sigma is not None else whole_sigma
    if sigma is None:
        raise InputError(f"{where}: no flat region is large enough to measure its noise level; {units.sigma_hint}")
    return sigma


def region_name(options: PurifyOptions) -> str:
    """The report's name for `R`."""
    if options.mode == "ipv1":
        return "dark"
    field = options.motion_rules is not None and options.motion_rules.lung_field
    if options.remove_background:
        return "lung field" if field else "lung"
    return "dark and lung field" if field else "dark"


def purify_arrays(
    lq: np.ndarray,
    gt: np.ndarray,
    masks: RegionMasks,
    options: PurifyOptions,
    *,
    simulated: np.ndarray | None = None,
    denoise: Denoiser | None = None,
    units: Units = HU,
    where: str = "uLDCT",
    times: StageTimes | None = None,
) -> Purified:
    """The training pair and label of `options.mode` for one uLDCT/NDCT array pair and its masks.

    `simulated` is sim(gt), needed with Add noise. `denoise(mask, sigma)` returns weak(lq)
    over a mask (timing itself as the "remove noise" stage); by default `weak_denoise` at the
    units' contrast. The noise level is `options.sigma_hu` when given, else measured in `R`,
    else over the whole uLDCT. `times` collects the stages' seconds. Inputs are only read.
    """
    options = options.checked()
    times = times if times is not None else StageTimes()
    rules = options.motion_rules
    if options.mode == "ipv1":
        region = np.asarray(masks.dark, dtype=bool)
        label_region = region
    elif rules is None:
        region = purification_region(masks, options.remove_background, use_lung_field=False)
        label_region = region
    else:
        region = purification_region(masks, options.remove_background, rules.lung_field)
        label_region = ipv2m_label_region(masks, rules, options.remove_background)
    if denoise is None:

        def denoise(mask: np.ndarray, sigma: float) -> np.ndarray:
            with times.measure("remove noise"):
                return weak_denoise(lq, options.weak, sigma_hu=sigma, mask=mask, contrast=units.contrast)

    # Measured once: the weak denoiser and the report both use the uLDCT's noise levels.
    with times.measure("noise figures"):
        lq_sigma = measure_noise(lq)
        lq_region_sigma = measure_noise(lq, region)
    weak_sigma = None
    if options.mode == "ipv1":
        train_input, train_target = ipv1_pair(lq, gt, masks)
        label = ipv1_label(lq, gt, masks)
    else:
        denoised = np.asarray(lq)
        if options.weak != "none":
            weak_sigma = (
                options.sigma_hu
                if options.sigma_hu is not None
                else weak_sigma_for(lq_region_sigma, lq_sigma, units, where)
            )
            denoised = denoise(label_region, float(weak_sigma))
        if rules is None:
            train_input, train_target = ipv2_pair(
                lq,
                gt,
                masks,
                remove_background=options.remove_background,
                add_noise=options.add_noise,
                simulated_gt=simulated,
            )
            label = evaluation_label(gt, masks, denoised, remove_background=options.remove_background)
        else:
            train_input, train_target = ipv2m_pair(
                lq,
                gt,
                masks,
                rules,
                denoised,
                remove_background=options.remove_background,
                add_noise=options.add_noise,
                simulated_gt=simulated,
            )
            label = ipv2m_label(gt, masks, denoised, rules, remove_background=options.remove_background)

    with times.measure("noise figures"):
        noise = {
            "lq_sigma": lq_sigma,
            "gt_sigma": measure_noise(gt),
            "lq_lung_sigma": lq_region_sigma,
            "label_lung_sigma": measure_noise(label, region),
            "sim_gt_lung_sigma": measure_noise(simulated, region) if simulated is not None else None,
            "weak_sigma": None if weak_sigma is None else round(float(weak_sigma), 3),
        }
    return Purified(
        train_input=train_input,
        train_target=train_target,
        eval_label=label,
        region=region,
        label_region=label_region,
        band=disagreement_band(masks),
        noise=noise,
    )
