"""`ipv2 phantom --low-contrast`: the flags of the low-contrast detectability phantom, their
defaults and the chest phantom's flags it refuses (the work is `ipv2.services.phantom`')."""

from __future__ import annotations

import argparse

from ipv2.errors import InputError
from ipv2.input_checks import require_dose

DEFAULT_REALISATIONS = 16
DEFAULT_DOSE = 0.10
# Options of the chest phantom that mean nothing for the water cylinder.
CHEST_ONLY = {
    "variant": "--variant",
    "slices": "--slices",
    "fov_mm": "--fov-mm",
    "slice_mm": "--slice-mm",
    "thickness_mm": "--thickness-mm",
    "crop_fov_mm": "--crop-fov-mm",
    "fov_padding": "--fov-padding",
    "motion_mm": "--motion-mm",
}
# Flags that switch a chest-phantom feature off or on, with the value that leaves it as it is.
CHEST_SWITCHES = {
    "png": ("--png", False),
    "tumour": ("--no-tumour", True),
    "electronic_noise": ("--no-electronic-noise", True),
}


def require_options(args: argparse.Namespace) -> None:
    given = [flag for key, flag in CHEST_ONLY.items() if getattr(args, key) is not None]
    given += [flag for key, (flag, unchanged) in CHEST_SWITCHES.items() if getattr(args, key) != unchanged]
    if given:
        raise InputError(f"--low-contrast: {', '.join(given)} apply to the chest phantom, not to the low-contrast one")
    if args.realisations is not None and args.realisations < 1:
        raise InputError(f"--realisations {args.realisations} must be at least 1")
    require_dose(DEFAULT_DOSE if args.dose is None else args.dose, "--dose")
