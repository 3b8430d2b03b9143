"""What a purification run does: the method's modules and their parameters."""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ipv2.contract import (
    DEFAULT_MODE as DEFAULT_MODE,  # the mode PurifySettings defaults to, exported with the options
)
from ipv2.contract import (
    DEFAULT_STITCH_BLEND_PX,
    MAX_STITCH_BLEND_PX,
    MODES,
    SIMULATE_MODES,
)
from ipv2.device_names import require_device_name
from ipv2.errors import InputError, require_choice
from ipv2.input_checks import require_dose
from ipv2.protocol import PurifySettings
from ipv2.purify.pairs import MotionRules
from ipv2.weak import require_sigma, require_weak_denoiser

# The names, defaults and bounds come from ipv2.contract, which the Slicer panels read too.
# DEFAULT_MODE is the paper's IPv2: over five seeds of the quick ablation no mode beats it
# against the truth in background and lung for every architecture (README).


def require_motion_rules_apply(mode: str, given: Iterable[str]) -> None:
    """Refuses motion rules (named as the user gave them, e.g. `--stitch-blend 5`) asked for in
    a mode without them: `ipv1` and `ipv2` would ignore them without a word."""
    given = list(given)
    if given and str(mode).lower() != "ipv2m":
        raise InputError(
            f"{' and '.join(given)}: a motion rule of --mode ipv2m; --mode {mode} has none and would "
            "ignore it; leave it out or use --mode ipv2m"
        )


@dataclass(frozen=True)
class PurifyOptions(PurifySettings):
    """The paper's IPv2 by default, which beats IPv1 against the truth and which no other mode
    beats over five seeds of the quick ablation (README): Remove Background, Add noise and a
    non-local means label.

    `mode="ipv1"` is the predecessor: the dark mask, no simulation and the noisy uLDCT as
    the label in the dark region; the IPv2 switches then do not apply. `mode="ipv2"` is the
    paper's method exactly. `mode="ipv2m"` is IPv2 with the motion rules `agreed_background`,
    `lung_field` and `stitch_blend_px` (see `ipv2.purify.pairs.MotionRules`); in the other
    modes they are off. `sigma_hu` is the
    uLDCT noise level for the weak denoiser; None measures it. The fields a panel chooses are
    `ipv2.protocol.PurifySettings`'s, in its order; those below are the backend's own.
    """

    sigma_hu: float | None = None
    agreed_background: bool = True
    lung_field: bool = True
    stitch_blend_px: int = DEFAULT_STITCH_BLEND_PX

    def checked(self) -> PurifyOptions:
        """The same options checked and normalised; in IPv1 mode the IPv2 modules are off."""
        mode = require_choice(str(self.mode).lower(), MODES, "mode", shown=self.mode)
        simulate_mode = require_choice(
            str(self.simulate_mode).lower(), SIMULATE_MODES, "simulate mode", shown=self.simulate_mode
        )
        device = require_device_name(self.device)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise InputError(f"seed {self.seed!r} must be a non-negative integer")
        blend = self.stitch_blend_px
        if (
            isinstance(blend, bool)
            or not isinstance(blend, numbers.Integral)
            or not 0 <= int(blend) <= MAX_STITCH_BLEND_PX
        ):
            raise InputError(f"stitch blend {blend!r} must be a whole number of pixels in 0..{MAX_STITCH_BLEND_PX}")
        weak = require_weak_denoiser(self.weak)
        sigma = None if self.sigma_hu is None else require_sigma(self.sigma_hu)
        dose = require_dose(self.dose)
        common = dict(mode=mode, dose=dose, simulate_mode=simulate_mode, device=device)
        no_motion_rules = dict(agreed_background=False, lung_field=False, stitch_blend_px=0)
        if mode == "ipv1":
            return dataclasses.replace(
                self, **common, **no_motion_rules, remove_background=False, add_noise=False, weak="none", sigma_hu=None
            )
        motion = (
            no_motion_rules
            if mode == "ipv2"
            else dict(
                agreed_background=bool(self.agreed_background),
                lung_field=bool(self.lung_field),
                stitch_blend_px=int(blend),
            )
        )
        return dataclasses.replace(
            self,
            **common,
            **motion,
            remove_background=bool(self.remove_background),
            add_noise=bool(self.add_noise),
            weak=weak,
            sigma_hu=sigma,
        )

    @property
    def motion_rules(self) -> MotionRules | None:
        """The IPv2m rules, or None in the paper's modes."""
        if str(self.mode).lower() != "ipv2m":
            return None
        return MotionRules(
            agreed_background=bool(self.agreed_background),
            lung_field=bool(self.lung_field),
            stitch_blend_px=int(self.stitch_blend_px),
        )

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
