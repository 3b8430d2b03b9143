"""`ipv2 denoise`'s work: a whole CT volume, or each scan of a folder, denoised by the network
or classical method --model names (`ipv2.denoise.denoisers`).

One scan gives one output, a volume file or a derived DICOM series of the input's study (the
format from --format, else from --out's suffix, a series where --out has none and the input
is DICOM), with its account beside it and, where asked, the removed image and the region
masks. A folder of scans is `ipv2.services.denoise_folder`'s.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ipv2.denoise.denoiser import Denoiser, DenoiseSettings
from ipv2.denoise.denoisers import denoiser_for
from ipv2.errors import InputError
from ipv2.input_checks import require_ct
from ipv2.io.atomic import require_new_outputs
from ipv2.io.dicom import require_derivable, require_replaceable_series
from ipv2.io.lock import rank_zero_output_lock
from ipv2.io.outputs import require_uncompressible, require_writable_output, require_writable_series_output
from ipv2.io.scans import is_scan_folder
from ipv2.io.suffixes import volume_suffix
from ipv2.io.volumes import read_volume, require_volume_suffix, write_labelmap, write_volume
from ipv2.masks import compute_region_masks
from ipv2.masks.regions import RegionMasks
from ipv2.progress import MonitorFactory
from ipv2.services.denoise_folder import run_folder
from ipv2.services.denoise_scan import (
    DenoiseRequest,
    account_file,
    denoise_with_account,
    require_dicom_input,
    write_result,
)
from ipv2.volume import Volume

__all__ = ["DenoiseRequest", "DenoiseSettings", "run_denoise"]


def run_denoise(request: DenoiseRequest, open_monitor: MonitorFactory) -> int:
    """Runs `ipv2 denoise`; its exit status."""
    denoiser = denoiser_for(request.model, request.settings)  # refuses the settings it does not take
    if not Path(request.input).exists():
        raise InputError(f"--in {request.input}: no such file or folder")
    if is_scan_folder(request.input):
        return run_folder(request, denoiser, open_monitor)
    return _run_one(request, denoiser, open_monitor)


def _run_one(request: DenoiseRequest, denoiser: Denoiser, open_monitor: MonitorFactory) -> int:
    """One scan to one output: a volume file, or a derived DICOM series folder."""
    out = Path(request.out)
    dicom = _writes_dicom(request, out)
    sides = _require_side_outputs(request, out, dicom)
    compress = not request.uncompressed
    with rank_zero_output_lock(out):
        require_new_outputs([out, account_file(request, out), *sides.values()], [request.input], request.overwrite)
        if dicom and out.exists():
            require_replaceable_series(out)
        volume = read_volume(request.input)
        if dicom:
            require_derivable(volume)
        require_ct(volume, volume.metadata.get("source") or request.input)
        masks = None
        if request.regions is not None:
            # everything the denoising refuses is refused before the masks' long work
            denoiser.load()
            denoiser.require_device(request.device)
            with open_monitor() as monitor:
                masks = compute_region_masks(volume, volume, monitor=monitor)
        denoised, label, account = denoise_with_account(
            volume, request, denoiser, request.device, open_monitor, masks=masks
        )
        write_result(denoised, out, dicom, label, compress=compress, account=account)
        if "--removed" in sides:
            _write_removed(volume, denoised, sides["--removed"], compress=compress)
        if masks is not None:  # --regions
            _write_regions(volume, masks, sides["--regions"], compress=compress)
    if not request.json_progress:
        what = "derived DICOM series" if dicom else "denoised volume"
        print(f"{what} written to {out}")
    return 0


def _writes_dicom(request: DenoiseRequest, out: Path) -> bool:
    """Whether the result is a derived DICOM series (--format dicom, or no --format, a DICOM
    input and an --out without a volume suffix), with --out checked to be writable as such."""
    # `run_denoise` sent a folder here only when it holds a DICOM series: GDCM's look through
    # every file of the folder is not made twice
    input_is_dicom = Path(request.input).is_dir()
    dicom = request.format == "dicom" or (request.format is None and input_is_dicom and volume_suffix(out) is None)
    if dicom:
        if volume_suffix(out) is not None:
            raise InputError(f"--format dicom writes a series folder; --out {out} names a volume file")
        require_dicom_input(request.input, input_is_dicom)
        require_writable_series_output(out, inputs=[request.input])
    else:
        require_writable_output(out)
        require_volume_suffix(out)
        if request.uncompressed:
            require_uncompressible(out)
        if request.format is not None and volume_suffix(out) != "." + request.format:
            raise InputError(f"--format {request.format} but --out {out} names another format")
    return dicom


def _require_side_outputs(request: DenoiseRequest, out: Path, dicom: bool) -> dict[str, Path]:
    """--removed and --regions: volume files apart from the other outputs and from each other
    (whatever --format the result has); {flag: path} of those given."""
    account = account_file(request, out)
    taken = [out] + ([account] if account is not None else [])
    sides = {}
    for flag, value in (("--removed", request.removed), ("--regions", request.regions)):
        if value is None:
            continue
        path = Path(value)
        require_writable_output(path, flag=flag)
        require_volume_suffix(path)
        if request.uncompressed:
            require_uncompressible(path)
        inside_series = dicom and out.absolute() in path.absolute().parents
        if inside_series or any(path.absolute() == other.absolute() for other in taken):
            raise InputError(
                f"{flag} {path}: the result, its account or another output is written there; choose another path"
            )
        taken.append(path)
        sides[flag] = path
    return sides


def _write_regions(volume: Volume, masks: RegionMasks, path: Path, compress: bool) -> None:
    write_labelmap(masks.labelmap(), volume, path, compress=compress)


def _write_removed(volume: Volume, denoised: Volume, path: Path, compress: bool) -> None:
    """The removed image: input minus output, on the input's grid."""
    removed = np.subtract(volume.array, denoised.array, dtype=np.float32)
    write_volume(volume.with_array(removed), path, compress=compress)
