"""`ipv2 phantom --low-contrast`: the low-contrast detectability phantom as volume files.

Writes, into --out, `low_contrast.nrrd` (the noisy realisations, one per slice, each a pure
function of --seed, the dose and its index), `low_contrast_reference.nrrd` (the same
reconstruction without noise), `low_contrast_truth.nrrd` (the phantom as drawn) and
`low_contrast_sites.json` (each disc's and each disc-free site's centre, size and contrast),
so that another observer or another denoiser can be scored on exactly these images.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ipv2.errors import InputError
from ipv2.io import require_new_outputs

OUTPUT_FILES = (
    "low_contrast.nrrd",
    "low_contrast_reference.nrrd",
    "low_contrast_truth.nrrd",
    "low_contrast_sites.json",
)
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
    from ipv2.input_checks import require_dose

    given = [flag for key, flag in CHEST_ONLY.items() if getattr(args, key) is not None]
    given += [flag for key, (flag, unchanged) in CHEST_SWITCHES.items() if getattr(args, key) != unchanged]
    if given:
        raise InputError(f"--low-contrast: {', '.join(given)} apply to the chest phantom, not to the low-contrast one")
    if args.realisations is not None and args.realisations < 1:
        raise InputError(f"--realisations {args.realisations} must be at least 1")
    require_dose(DEFAULT_DOSE if args.dose is None else args.dose, "--dose")


def _site_record(slice_, site) -> dict:
    row, column = slice_.centre_px(site)
    return {
        "centre_mm": list(site.centre_mm),
        "centre_px": [round(row, 3), round(column, 3)],
        "ring_mm": site.ring_mm,
        "diameter_mm": site.diameter_mm,
        "contrast_hu": site.contrast_hu,
    }


def run(args: argparse.Namespace, monitor) -> int:
    from ipv2.io.atomic import atomic_output_path
    from ipv2.io.volumes import write_volume
    from ipv2.phantom.low_contrast import (
        DEFAULT_PIXEL_MM,
        DEFAULT_SIZE,
        FULL_DOSE_FLUX,
        noise_free_reference,
        render_low_contrast_slice,
        simulate_realisations,
    )
    from ipv2.volume import Volume

    out = Path(args.out)
    require_new_outputs([out / name for name in OUTPUT_FILES], overwrite=args.overwrite)
    dose = DEFAULT_DOSE if args.dose is None else args.dose
    count = DEFAULT_REALISATIONS if args.realisations is None else args.realisations
    kernel = args.kernel or "standard"
    phantom = render_low_contrast_slice(
        DEFAULT_SIZE if args.size is None else args.size, DEFAULT_PIXEL_MM if args.pixel_mm is None else args.pixel_mm
    )
    spacing = (phantom.pixel_mm, phantom.pixel_mm, 1.0)
    noisy = simulate_realisations(
        phantom, dose, count, seed=args.seed, kernel=kernel, device=args.device, monitor=monitor
    )
    reference = noise_free_reference(phantom, kernel=kernel, device=args.device)
    write_volume(Volume(noisy, spacing=spacing), out / OUTPUT_FILES[0])
    write_volume(Volume(reference[None], spacing=spacing), out / OUTPUT_FILES[1])
    write_volume(Volume(phantom.hu[None], spacing=spacing), out / OUTPUT_FILES[2])
    record = {
        "dose": dose,
        "full_dose_flux": FULL_DOSE_FLUX,
        "kernel": kernel,
        "seed": args.seed,
        "realisations": count,
        "pixel_mm": phantom.pixel_mm,
        "sites": [_site_record(phantom, site) for site in phantom.sites],
    }
    with atomic_output_path(out / OUTPUT_FILES[3]) as tmp:
        tmp.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"low-contrast phantom written to {out}: " + ", ".join(OUTPUT_FILES))
    return 0
