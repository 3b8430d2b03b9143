"""`ipv2 denoise` over a folder of scans: each scan's result in the --out folder.

A rerun skips the scans whose results are finished and were made with the same recipe, keeps
(and reports) those made otherwise, and denoises the rest; under torchrun each rank takes its
share of the scans on its own GPU. A cancelled run keeps its finished scans.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch

from ipv2.contract import EXIT_CANCELLED, EXIT_USER_ERROR
from ipv2.denoise.denoiser import Denoiser
from ipv2.errors import Cancelled, CheckpointError, InputError
from ipv2.input_checks import require_ct
from ipv2.io.denoise_record import SUMMARY_FILE, write_summary
from ipv2.io.dicom import require_derivable, require_replaceable_series, series_is_complete
from ipv2.io.lock import output_lock, rank_zero_output_lock
from ipv2.io.made_by import made_by, record_made_by
from ipv2.io.outputs import require_writable_output
from ipv2.io.scans import Scan, find_scans, rank_from_env, share_of_rank
from ipv2.io.suffixes import volume_suffix
from ipv2.io.volumes import read_volume, volume_shape
from ipv2.progress import PROGRESS_PREFIX, MonitorFactory
from ipv2.services.denoise_scan import (
    DenoiseRequest,
    denoise_with_account,
    require_dicom_input,
    write_result,
)

SCANS_STAGE = "scans"
SUMMARY_KEYS = ("done", "skipped", "kept", "failed")


def run_folder(request: DenoiseRequest, denoiser: Denoiser, open_monitor: MonitorFactory) -> int:
    """A folder of scans into the folder --out: this rank's share, finished ones skipped."""
    out_dir = Path(request.out)
    _require_folder_options(request, out_dir)
    require_writable_output(out_dir, folder=True)
    rank, world = rank_from_env()
    scans = find_scans(request.input)
    if request.format == "dicom":
        for scan in scans:
            require_dicom_input(scan.path, scan.dicom)
    denoiser.load()  # once, and refused before any scan is read
    device = _rank_device(request.device)
    recipe = denoiser.recipe()
    summary: dict[str, list] = {key: [] for key in SUMMARY_KEYS}
    with rank_zero_output_lock(out_dir, folder=True):
        try:
            for scan in share_of_rank(scans, rank, world):
                output, dicom = _output_of(scan, out_dir, request.format)
                try:
                    # the lock a single run on this result takes: two runs never write one result
                    with output_lock(output, flag="result", within=out_dir):
                        _denoise_scan(scan, output, dicom, request, denoiser, device, recipe, summary, open_monitor)
                except (InputError, CheckpointError) as error:
                    summary["failed"].append({"scan": scan.name, "reason": str(error)})
        except (Cancelled, KeyboardInterrupt) as stop:
            _write_summary_table(request, out_dir, summary)
            _print_summary(request, summary, rank, world, len(scans))
            return _report_cancel(summary, out_dir, stop)
        _write_summary_table(request, out_dir, summary)
    _print_summary(request, summary, rank, world, len(scans))
    return EXIT_USER_ERROR if summary["failed"] or summary["kept"] else 0


def _require_folder_options(request: DenoiseRequest, out_dir: Path) -> None:
    """--out a folder apart from --in, and no option that writes one scan's side output."""
    if volume_suffix(out_dir) is not None:
        raise InputError(
            f"--in {request.input} is a folder of scans, written into a folder; --out {out_dir} names a volume file"
        )
    if out_dir.resolve() == Path(request.input).resolve():
        raise InputError(f"--out {out_dir} is the --in folder; choose another folder for the results")
    if out_dir.resolve() in Path(request.input).resolve().parents:
        raise InputError(
            f"--out {out_dir} holds the --in folder {request.input}; choose a folder for the results outside it"
        )
    if request.removed is not None:
        raise InputError(f"--removed writes the removed image of one scan; --in {request.input} is a folder of scans")
    if request.regions is not None:
        raise InputError(f"--regions writes the region masks of one scan; --in {request.input} is a folder of scans")


def _rank_device(device: str) -> str:
    """Under torchrun each rank takes the GPU of its LOCAL_RANK (modulo the GPUs there are, so
    that more ranks than GPUs share them)."""
    if device == "cpu" or int(os.environ.get("WORLD_SIZE", "1")) <= 1 or not torch.cuda.is_available():
        return device
    return f"cuda:{int(os.environ.get('LOCAL_RANK', '0')) % torch.cuda.device_count()}"


def _output_of(scan: Scan, out_dir: Path, fmt: str | None) -> tuple[Path, bool]:
    """(output path, whether it is a DICOM series) of one scan of a folder: by default DICOM
    for a series and nrrd for a volume file."""
    if fmt == "dicom" or (fmt is None and scan.dicom):
        return out_dir / scan.name, True
    return out_dir / f"{scan.name}.{fmt or 'nrrd'}", False


def _is_finished(scan: Scan, output: Path, dicom: bool) -> bool:
    """Whether `output` holds the complete result of `scan` (written whole through a rename, so
    a partial result never exists; what fails here is a foreign or damaged output)."""
    shape = volume_shape(scan.path)
    if dicom:
        return output.is_dir() and series_is_complete(output, shape[0])
    try:
        return output.is_file() and volume_shape(output) == shape
    except InputError:
        return False


def _require_replaceable_result(output: Path, dicom: bool) -> None:
    """With --overwrite, a batch replaces a scan's earlier result, never something else of that name."""
    if not (output.exists() or output.is_symlink()):
        return
    if dicom:
        require_replaceable_series(output, flag="result")
    elif output.is_dir() or not output.is_file():
        raise InputError(f"{output} is not a volume file; --overwrite replaces only an earlier result, so move it away")


def _denoise_scan(
    scan: Scan,
    output: Path,
    dicom: bool,
    request: DenoiseRequest,
    denoiser: Denoiser,
    device: str,
    recipe: str,
    summary: dict,
    open_monitor: MonitorFactory,
) -> None:
    """One scan of a folder run, under its result's lock: skipped when done with this recipe,
    kept (and reported) when made otherwise, else denoised and recorded."""
    if not request.overwrite and (output.exists() or output.is_symlink()):
        if not _is_finished(scan, output, dicom):
            raise InputError(
                f"{output} exists but is not a complete result of {scan.path.name}; delete it or give --overwrite"
            )
        made_with = made_by(output)
        if made_with != recipe:
            how = f"with {made_with}" if made_with else "by another run or by hand"
            summary["kept"].append(
                {
                    "scan": scan.name,
                    "reason": f"{output} was made {how}, not with {recipe}; give --overwrite to replace it",
                }
            )
            return
        summary["skipped"].append(scan.name)
        return
    _require_replaceable_result(output, dicom)
    volume = read_volume(scan.path)
    if dicom:
        require_derivable(volume)
    require_ct(volume, str(scan.path))
    denoised, label, account = denoise_with_account(volume, request, denoiser, device, open_monitor, quiet=True)
    write_result(denoised, output, dicom, label, compress=not request.uncompressed, account=account)
    record_made_by(output, recipe)
    summary["done"].append(scan.name)
    if not request.json_progress:
        print(f"{scan.name}: written to {output}", flush=True)


def _write_summary_table(request: DenoiseRequest, out_dir: Path, summary: dict) -> None:
    """The accounts' table, rebuilt when this run added a result (a rerun that only skips leaves it)."""
    if request.account and out_dir.is_dir() and (summary["done"] or not (out_dir / SUMMARY_FILE).exists()):
        write_summary(out_dir)


def _print_summary(request: DenoiseRequest, summary: dict, rank: int, world: int, total: int) -> None:
    if request.json_progress:
        count = sum(len(summary[key]) for key in SUMMARY_KEYS)
        record = {"stage": SCANS_STAGE, "done": count, "total": count, "summary": summary}
        print(PROGRESS_PREFIX + json.dumps(record), flush=True)
        return
    share = f" (rank {rank} of {world}: {sum(len(v) for v in summary.values())} of {total})" if world > 1 else ""
    kept = f"{len(summary['kept'])} kept (made otherwise), " if summary["kept"] else ""
    print(
        f"{total} scans{share}: {len(summary['done'])} denoised, {len(summary['skipped'])} skipped "
        f"(already done), {kept}{len(summary['failed'])} failed"
    )
    for key in ("kept", "failed"):
        for item in summary[key]:
            print(f"  {key:<7} {item['scan']}: {item['reason']}")


def _report_cancel(summary: dict, out_dir: Path, stop: BaseException) -> int:
    """A cancelled folder run lists what it kept and how to continue; with nothing kept it is
    the usual cancel."""
    if not summary["done"]:
        raise stop
    names = ", ".join(summary["done"])
    print(
        f"ipv2 denoise: cancelled; kept {len(summary['done'])} finished scan"
        f"{'s' if len(summary['done']) > 1 else ''} in {out_dir} ({names}); run the same command again to "
        "continue (finished scans are skipped)",
        file=sys.stderr,
    )
    return EXIT_CANCELLED
