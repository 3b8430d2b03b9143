"""What a purification run does: the method's modules and their parameters."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Optional

from ipv2.errors import InputError
from ipv2.validate import require_dose
from ipv2.weak import DEFAULT_WEAK_DENOISER, require_sigma, require_weak_denoiser

MODES = ("ipv1", "ipv2")
SIMULATE_MODES = ("physical", "seed")
DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class PurifyOptions:
    """IPv2 by default: Remove Background, Add noise and a non-local means label.

    `mode="ipv1"` is the predecessor: the dark mask, no simulation and the noisy uLDCT as
    the label in the dark region; the IPv2 switches then do not apply. `sigma_hu` is the
    uLDCT noise level for the weak denoiser; None measures it.
    """

    mode: str = "ipv2"
    remove_background: bool = True
    add_noise: bool = True
    weak: str = DEFAULT_WEAK_DENOISER
    dose: float = 0.02
    seed: int = 0
    simulate_mode: str = "physical"
    device: str = "auto"
    sigma_hu: Optional[float] = None

    def validated(self) -> "PurifyOptions":
        """The same options checked and normalised; in IPv1 mode the IPv2 modules are off."""
        mode = str(self.mode).lower()
        if mode not in MODES:
            raise InputError(f"mode '{self.mode}' is unknown; choose one of {', '.join(MODES)}")
        simulate_mode = str(self.simulate_mode).lower()
        if simulate_mode not in SIMULATE_MODES:
            raise InputError(f"simulate mode '{self.simulate_mode}' is unknown; choose one of {', '.join(SIMULATE_MODES)}")
        device = str(self.device).lower()
        if device not in DEVICES and not device.startswith("cuda:"):
            raise InputError(f"device '{self.device}' is unknown; choose one of {', '.join(DEVICES)}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise InputError(f"seed {self.seed!r} must be a non-negative integer")
        weak = require_weak_denoiser(self.weak)
        sigma = None if self.sigma_hu is None else require_sigma(self.sigma_hu)
        dose = require_dose(self.dose)
        if mode == "ipv1":
            return dataclasses.replace(self, mode=mode, remove_background=False, add_noise=False, weak="none",
                                       dose=dose, simulate_mode=simulate_mode, device=device, sigma_hu=None)
        return dataclasses.replace(self, mode=mode, remove_background=bool(self.remove_background),
                                   add_noise=bool(self.add_noise), weak=weak, dose=dose,
                                   simulate_mode=simulate_mode, device=device, sigma_hu=sigma)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)
