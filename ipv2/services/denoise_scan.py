"""What `ipv2 denoise` does to each scan, alone or as one of a folder: denoise it with the
chosen denoiser, say the noise level, make its account, and write the result (a volume file
or a derived DICOM series) with its account beside it."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from ipv2 import __version__
from ipv2.contract import DEFAULT_DEVICE
from ipv2.denoise.denoiser import Denoiser, DenoiseRun, DenoiseSettings, NoiseLevel
from ipv2.errors import InputError
from ipv2.evaluate.denoise_account import denoise_account
from ipv2.io.denoise_record import account_comment, account_path, acquisition_of, write_account
from ipv2.io.dicom import write_derived_series
from ipv2.io.volumes import write_volume
from ipv2.masks.regions import RegionMasks
from ipv2.progress import PROGRESS_PREFIX, MonitorFactory
from ipv2.volume import Volume
from ipv2.weak.noise_level import NOISE_STAGE


@dataclass(frozen=True)
class DenoiseRequest:
    """One `ipv2 denoise` run, its options as the flags of the same name give them."""

    input: str
    out: str
    model: str
    settings: DenoiseSettings
    format: str | None = None
    removed: str | None = None
    regions: str | None = None
    account: bool = True
    device: str = DEFAULT_DEVICE
    overwrite: bool = False
    uncompressed: bool = False
    progress: str = "bar"

    @property
    def json_progress(self) -> bool:
        """Progress records on stdout for a program, in place of lines of text."""
        return self.progress == "json"


def report_noise(level: NoiseLevel, json_progress: bool) -> None:
    """The noise level as a line of text, or with JSON progress as a finished progress record."""
    if json_progress:
        record = {
            "stage": NOISE_STAGE,
            "done": 1,
            "total": 1,
            "sigma_hu": round(level.sigma_hu, 3),
            "sigma_source": level.source,
        }
        print(PROGRESS_PREFIX + json.dumps(record), flush=True)
    else:
        how = "given" if level.source == "given" else "measured in flat regions"
        print(f"noise level {level.sigma_hu:.1f} HU ({how})", flush=True)


def denoise_with_account(
    volume: Volume,
    request: DenoiseRequest,
    denoiser: Denoiser,
    device: str,
    open_monitor: MonitorFactory,
    quiet: bool = False,
    masks: RegionMasks | None = None,
) -> tuple[Volume, str, dict | None]:
    """The denoised volume, the label of what denoised it, and its account (None without one).
    `volume` was checked by `require_ct` as it was read, before any long work.
    `quiet`: no noise level reported (a folder's scans); `masks`: the scan's region masks
    where already computed."""
    started = time.monotonic()
    source = volume.metadata.get("source") or request.input
    level = denoiser.noise_level(volume, source)
    if level is not None and not quiet:
        report_noise(level, request.json_progress)
    with open_monitor() as monitor:
        denoised = denoiser.denoise(volume, monitor, DenoiseRun(device, level, masks))
    if "measured_noise_hu" in denoised.metadata and not quiet:
        report_noise(NoiseLevel(denoised.metadata["measured_noise_hu"], "measured"), request.json_progress)
    label = denoiser.label(level)
    account = None
    if request.account:
        settings = denoiser.recorded_settings(denoised, level)
        account = _account(volume, denoised, label, settings, time.monotonic() - started)
    return denoised, label, account


def _account(volume: Volume, denoised: Volume, label: str, settings: dict, seconds: float) -> dict:
    """What the account file holds: the run's settings and `ipv2.evaluate.denoise_account`'s figures."""
    figures = denoise_account(volume.array, denoised.array, volume.spacing)
    return {
        "ipv2_version": __version__,
        "model": label,
        **settings,
        "acquisition": acquisition_of(volume.metadata.get("dicom_files")),
        "seconds": round(seconds, 2),
        **figures,
    }


def write_result(
    denoised: Volume, out: Path, dicom: bool, label: str, compress: bool = True, account: dict | None = None
) -> None:
    """The result, as a derived DICOM series of the input's study or a volume file, and its
    account beside it where there is one."""
    if dicom:
        write_derived_series(
            denoised,
            out,
            denoised.metadata["dicom_files"],
            f"IPv2 denoised ({label})",
            derivation=f"denoised by ipv2 {__version__} ({label})",
            comments=account_comment(account),
        )
    else:
        write_volume(denoised, out, compress=compress)
    if account is not None:
        write_account(account_path(out), account)


def account_file(request: DenoiseRequest, out: Path) -> Path | None:
    """Where the account of the result `out` goes; None without one."""
    return account_path(out) if request.account else None


def require_dicom_input(scan_path, dicom: bool) -> None:
    """`--format dicom` derives a series from a DICOM series alone."""
    if not dicom:
        raise InputError(
            f"--format dicom: {scan_path} is a volume file; a derived DICOM series needs a DICOM "
            "series as input, whose patient and study it joins"
        )
