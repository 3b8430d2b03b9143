"""`ipv2 phantom`'s work: the misaligned NDCT/uLDCT chest phantom pair with its ground truth
(`ipv2.phantom`), or the low-contrast detectability phantom, written into --out.

The chest phantom's acquisition is a named variant's, each setting replaced by its flag where
that was given; a refused setting is named by its flag, with what the variant set.

The low-contrast phantom writes `low_contrast.nrrd` (the noisy realisations, one per slice,
each a pure function of the seed, the dose and its index), `low_contrast_reference.nrrd` (the
same reconstruction without noise), `low_contrast_truth.nrrd` (the phantom as drawn) and
`low_contrast_sites.json` (each disc's and each disc-free site's centre, size and contrast),
so that another observer or another denoiser can be scored on exactly these images.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ipv2.contract import DEFAULT_KERNEL
from ipv2.errors import InputError
from ipv2.io.atomic import atomic_output_path, require_new_outputs
from ipv2.io.volumes import write_volume
from ipv2.phantom import generate_phantom_pair, write_phantom
from ipv2.phantom.low_contrast import (
    DEFAULT_PIXEL_MM,
    DEFAULT_SIZE,
    FULL_DOSE_FLUX,
    LowContrastSlice,
    noise_free_reference,
    render_low_contrast_slice,
    simulate_realisations,
)
from ipv2.phantom.variants import acquisition_variant, split_settings
from ipv2.phantom.writer import OUTPUT_FILES
from ipv2.progress import MonitorFactory
from ipv2.volume import Volume

# The phantom's settings (`ipv2.phantom.variants.split_settings`) as the command line spells them, for its messages.
FLAGS = {
    "size": "--size",
    "slices": "--slices",
    "motion_mm": "--motion-mm",
    "pixel_mm": "--pixel-mm",
    "fov_mm": "--fov-mm",
    "slice_mm": "--slice-mm",
    "thickness_mm": "--thickness-mm",
    "crop_fov_mm": "--crop-fov-mm",
    "kernel": "--kernel",
    "dose": "--dose",
    "fov_padding": "--fov-padding",
}
LOW_CONTRAST_FILES = (
    "low_contrast.nrrd",
    "low_contrast_reference.nrrd",
    "low_contrast_truth.nrrd",
    "low_contrast_sites.json",
)


def make_chest_phantom(
    out: Path,
    settings: dict,
    open_monitor: MonitorFactory,
    *,
    variant: str | None = None,
    png: bool = False,
    device: str,
    overwrite: bool = False,
) -> dict[str, Path]:
    """The chest phantom pair written into `out`; the files written, by name. `settings`: the
    phantom's settings the flags gave (`split_settings`' names), replacing `variant`'s."""
    require_new_outputs([out / name for name in OUTPUT_FILES] + ([out / "png"] if png else []), overwrite=overwrite)
    chosen = acquisition_variant(variant) if variant is not None else {}
    chosen.update(settings)
    with open_monitor() as monitor:
        try:
            acquisition, options = split_settings(chosen)
            pair = generate_phantom_pair(acquisition, options, device=device, monitor=monitor)
        except InputError as error:
            note = variant_note(variant) if variant is not None else ""
            raise InputError(flag_message(str(error)) + note) from None
        if variant is not None:
            pair.parameters = {"variant": variant, **(pair.parameters or {})}
        return write_phantom(pair, out, png=png, monitor=monitor)


def flag_message(message: str) -> str:
    """A message that starts with a setting's name ("crop_fov_mm: ...") starts with its flag
    instead ("--crop-fov-mm: ...")."""
    return re.sub(r"^([a-z_]+):", lambda m: f"{FLAGS.get(m.group(1), m.group(1))}:", message)


def variant_note(variant: str) -> str:
    """What a variant sets, as flags, for a message about a setting it may have taken part in."""
    options = " ".join(
        FLAGS[key]
        if value is True
        else f"{FLAGS[key]} {value:g}"
        if isinstance(value, float)
        else f"{FLAGS[key]} {value}"
        for key, value in acquisition_variant(variant).items()
    )
    return f" (--variant {variant} sets {options})" if options else ""


def make_low_contrast_phantom(
    out: Path,
    open_monitor: MonitorFactory,
    *,
    dose: float,
    realisations: int,
    size: int | None = None,
    pixel_mm: float | None = None,
    kernel: str | None = None,
    seed: int = 0,
    device: str,
    overwrite: bool = False,
) -> tuple[str, ...]:
    """The low-contrast phantom's files written into `out` (LOW_CONTRAST_FILES, which it returns);
    `size`, `pixel_mm` and `kernel` take the phantom's defaults where None."""
    kernel = kernel or DEFAULT_KERNEL
    with open_monitor() as monitor:
        require_new_outputs([out / name for name in LOW_CONTRAST_FILES], overwrite=overwrite)
        phantom = render_low_contrast_slice(
            DEFAULT_SIZE if size is None else size, DEFAULT_PIXEL_MM if pixel_mm is None else pixel_mm
        )
        spacing = (phantom.pixel_mm, phantom.pixel_mm, 1.0)
        noisy = simulate_realisations(
            phantom, dose, realisations, seed=seed, kernel=kernel, device=device, monitor=monitor
        )
        reference = noise_free_reference(phantom, kernel=kernel, device=device)
        write_volume(Volume(noisy, spacing=spacing), out / LOW_CONTRAST_FILES[0])
        write_volume(Volume(reference[None], spacing=spacing), out / LOW_CONTRAST_FILES[1])
        write_volume(Volume(phantom.hu[None], spacing=spacing), out / LOW_CONTRAST_FILES[2])
        record = {
            "dose": dose,
            "full_dose_flux": FULL_DOSE_FLUX,
            "kernel": kernel,
            "seed": seed,
            "realisations": realisations,
            "pixel_mm": phantom.pixel_mm,
            "sites": [_site_record(phantom, site) for site in phantom.sites],
        }
        with atomic_output_path(out / LOW_CONTRAST_FILES[3]) as tmp:
            tmp.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return LOW_CONTRAST_FILES


def _site_record(phantom: LowContrastSlice, site) -> dict:
    row, column = phantom.centre_px(site)
    return {
        "centre_mm": list(site.centre_mm),
        "centre_px": [round(row, 3), round(column, 3)],
        "ring_mm": site.ring_mm,
        "diameter_mm": site.diameter_mm,
        "contrast_hu": site.contrast_hu,
    }
