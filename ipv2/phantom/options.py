"""What a phantom pair holds besides its acquisition: the patient (seed), the uLDCT's dose, the
breathing between the two scans, padding, the scanner's noise and the tumour."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ipv2.contract import DEFAULT_DOSE
from ipv2.errors import InputError
from ipv2.input_checks import require_dose
from ipv2.phantom.acquisition import require_whole

DEFAULT_MOTION_MM = 8.0
MAX_MOTION_MM = 30.0
MAX_SEED = 2**63 - 1


@dataclass(frozen=True)
class PhantomOptions:
    """Validated where built, each problem an InputError naming the field.

    `seed` draws the patient and the noise; `dose` is the uLDCT's fraction of the NDCT's;
    `motion_mm` the breathing motion of the lung bases between the scans; `fov_padding`
    puts -2048 HU outside the reconstruction circle; `electronic_noise=False` simulates
    photon noise only; `noise=False` skips the scanner and gives the anatomy of both states
    in place of every scan (for tests and figures); `tumour=False` leaves out the lung
    tumour (the rest of the phantom stays the same).
    """

    seed: int = 0
    dose: float = DEFAULT_DOSE
    motion_mm: float = DEFAULT_MOTION_MM
    fov_padding: bool = False
    electronic_noise: bool = True
    noise: bool = True
    tumour: bool = True

    def __post_init__(self):
        normalised = {
            "seed": require_whole(self.seed, "seed", 0, MAX_SEED),
            "dose": require_dose(self.dose),
            "motion_mm": _require_motion(self.motion_mm),
        }
        if not isinstance(self.tumour, (bool, np.bool_)):
            raise InputError(f"tumour: True or False is needed, got {self.tumour!r}")
        for flag in ("fov_padding", "electronic_noise", "noise", "tumour"):
            normalised[flag] = bool(getattr(self, flag))
        for name, value in normalised.items():
            object.__setattr__(self, name, value)


def _require_motion(motion_mm) -> float:
    motion = float(motion_mm)
    if not math.isfinite(motion) or not 0.0 <= motion <= MAX_MOTION_MM:
        raise InputError(f"motion_mm: {motion:g} mm of breathing motion is outside 0..{MAX_MOTION_MM:g} mm")
    return motion
