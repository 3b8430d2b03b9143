"""The settings of one simulated scan: what `simulate_low_dose` acquires and reconstructs."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ipv2.contract import DEFAULT_DOSE, DEFAULT_KERNEL, DEFAULT_SIMULATE_MODE, SIMULATE_MODES
from ipv2.errors import InputError, require_choice
from ipv2.input_checks import require_dose
from ipv2.simulate.kernels import require_kernel

DEFAULT_PIXEL_SPACING_MM = 0.7


@dataclass(frozen=True)
class LowDoseSettings:
    """Validated where built, each problem an InputError naming the setting.

    `dose`: the simulated scan's fraction of the normal dose. `mode`: "physical" (HU) or
    "seed" (the authors' formula on any intensities; `ipv2.simulate.lowdose`).
    `pixel_spacing_mm`: the input's in-plane pixel. `seed`: the noise's, with each slice's
    noise depending on it and the slice's index only. `electronic_noise=False` leaves out
    the detector's read-out noise. `input_dose` (physical mode): the dose at which the input
    was acquired, when its own noise should count towards the target (1.0 for an NDCT);
    None takes the input as noise-free; the seed mode ignores it. `noise_free=True`: the
    same projection and reconstruction without noise. `kernel`: the reconstruction kernel
    (`ipv2.simulate.kernels.KERNELS`; the default is the authors' Hann filter).
    """

    dose: float = DEFAULT_DOSE
    mode: str = DEFAULT_SIMULATE_MODE
    pixel_spacing_mm: float = DEFAULT_PIXEL_SPACING_MM
    seed: int = 0
    electronic_noise: bool = True
    input_dose: float | None = None
    noise_free: bool = False
    kernel: str = DEFAULT_KERNEL

    def __post_init__(self):
        require_choice(self.mode, SIMULATE_MODES, "simulation mode")
        require_kernel(self.kernel)
        dose = require_dose(self.dose)
        input_dose = self.input_dose
        if input_dose is not None:
            input_dose = require_dose(input_dose)
            if input_dose < dose:
                raise InputError(
                    f"input dose {input_dose:g} is below the target dose {dose:g}; a simulation can only add noise"
                )
            if self.noise_free:
                raise InputError(
                    "a noise-free simulation of an input that already carries noise adds nothing; "
                    "leave input_dose unset"
                )
        normalised = {
            "dose": dose,
            "input_dose": input_dose,
            "pixel_spacing_mm": _require_spacing(self.pixel_spacing_mm),
            "seed": _require_seed(self.seed),
            "electronic_noise": bool(self.electronic_noise),
            "noise_free": bool(self.noise_free),
        }
        for name, value in normalised.items():
            object.__setattr__(self, name, value)


def _require_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed {seed!r} must be a non-negative integer")
    return int(seed)


def _require_spacing(spacing) -> float:
    try:
        spacing = float(spacing)
    except (TypeError, ValueError):
        raise InputError(f"pixel spacing {spacing!r} must be a number of millimetres") from None
    if not math.isfinite(spacing) or spacing <= 0:
        raise InputError(f"pixel spacing {spacing:g} mm must be positive")
    return spacing
