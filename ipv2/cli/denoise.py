"""`ipv2 denoise`: apply a trained model, or a classical method, to a whole CT volume."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from ipv2 import __version__
from ipv2.cli.common import (
    add_device_option,
    add_overwrite_option,
    add_progress_option,
    add_uncompressed_option,
    monitor_from_args,
    rank_zero_output_lock,
    require_uncompressible,
)
from ipv2.contract import (
    CLASSICAL_DENOISERS,
    DEFAULT_MODEL,
    DEFAULT_STRENGTH,
    EXIT_CANCELLED,
    EXIT_USER_ERROR,
    NETWORKS,
    STRENGTH_RANGE,
    STRENGTHS,
)
from ipv2.errors import InputError
from ipv2.io.atomic import require_new_outputs
from ipv2.progress import PROGRESS_PREFIX

NOISE_STAGE = "measure noise"
SCANS_STAGE = "scans"
FORMATS = ("dicom", "nrrd", "nii.gz", "mha")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "denoise",
        help="denoise a CT volume with a trained model or a classical method",
        description="Denoise a CT volume (file or DICOM folder, in HU) slice by slice with a registered "
        "model's bundled weights, a checkpoint written by `ipv2 train`, or a classical "
        f"method ({', '.join(CLASSICAL_DENOISERS)}). The output keeps the input's grid and HU. "
        "A DICOM input can be written as a derived DICOM series of the same study. A folder of "
        "scans (DICOM series subfolders or volume files) is denoised scan by scan into the --out "
        "folder; finished scans are skipped on a rerun, and under torchrun the ranks share them.",
    )
    parser.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help=f"a registered model name (its bundled weights), a checkpoint file, or a classical "
        f"method: {' or '.join(CLASSICAL_DENOISERS)} (default {DEFAULT_MODEL})",
    )
    parser.add_argument(
        "--in",
        dest="input",
        required=True,
        help="input volume file, DICOM series folder, or a folder of scans (series subfolders or volume files)",
    )
    parser.add_argument(
        "--out",
        required=True,
        help="output volume file (.nrrd, .nii.gz, .mha, ...); a folder for a derived DICOM series "
        "of a DICOM input; the results folder for a folder of scans",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="what to write: dicom, a derived series of the input's study (needs DICOM input), "
        "or a volume file format; default: from --out's suffix, a DICOM series where --out "
        "has none, and for a folder of scans DICOM for series and nrrd for files",
    )
    parser.add_argument(
        "--sigma",
        type=float,
        metavar="HU",
        default=None,
        help="noise standard deviation in HU for a classical method (default: measured in the "
        "volume's flat regions); networks measure the noise themselves",
    )
    parser.add_argument(
        "--strength",
        default=DEFAULT_STRENGTH,
        metavar="LEVEL",
        help=f"the dose a network's result should look like, as a multiple of the input's: "
        f"{', '.join(STRENGTHS)} (2x, 8x and 32x the dose) or a number from "
        f"{STRENGTH_RANGE[0]:g} (unchanged) to {STRENGTH_RANGE[1]:g} (default {DEFAULT_STRENGTH})",
    )
    parser.add_argument(
        "--strength-lung",
        default=None,
        metavar="LEVEL",
        help="the strength in the lung field (found with the region masks), blended into the "
        "body's across its border (default: --strength)",
    )
    parser.add_argument(
        "--strength-body",
        default=None,
        metavar="LEVEL",
        help="the strength outside the lung field (default: --strength)",
    )
    parser.add_argument(
        "--removed",
        default=None,
        metavar="PATH",
        help="also write the removed image (input minus output, on the input's grid) to this "
        "volume file; one scan only",
    )
    parser.add_argument(
        "--regions",
        default=None,
        metavar="PATH",
        help="also write the region masks of the scan (0 body, 1 background, 2 lung; the masks "
        "region-aware strengths use, computed once) to this volume file; one scan only",
    )
    parser.add_argument(
        "--no-account",
        dest="account",
        action="store_false",
        help="do not write the account of what was removed (<name>.denoise.json beside the "
        "result; for a folder of scans also denoise_accounts.csv)",
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=None,
        help="slices per forward pass of a network (default: sized to the device's memory)",
    )
    add_device_option(parser)
    add_overwrite_option(parser)
    add_uncompressed_option(parser)
    add_progress_option(parser)
    parser.set_defaults(func=run)


def _is_classical(model: str) -> bool:
    return str(model).lower() in CLASSICAL_DENOISERS


def _require_options(args: argparse.Namespace) -> None:
    from ipv2.denoise.classical import require_sigma_hu
    from ipv2.denoise.strength import dose_multiple

    if _is_classical(args.model):
        if args.sigma is not None:
            require_sigma_hu(args.sigma)
        if args.batch is not None:
            raise InputError(f"--batch sets a network's forward pass; {args.model} denoises one slice at a time")
        if dose_multiple(args.strength) != dose_multiple(DEFAULT_STRENGTH):
            raise InputError(f"--strength applies to the networks; {args.model} takes --sigma")
        if args.strength_lung is not None or args.strength_body is not None:
            raise InputError(f"--strength-lung and --strength-body apply to the networks; {args.model} takes --sigma")
    else:
        for flag, value in (
            ("--strength", args.strength),
            ("--strength-lung", args.strength_lung),
            ("--strength-body", args.strength_body),
        ):
            if value is not None:
                try:
                    dose_multiple(value)
                except InputError as error:
                    raise InputError(f"{flag}: {error}") from None
        if args.batch is not None and args.batch < 1:
            raise InputError(f"--batch {args.batch} must be at least 1")
        if args.sigma is not None:
            raise InputError(
                f"--sigma applies to the classical methods ({', '.join(CLASSICAL_DENOISERS)}); "
                f"model {args.model} is a network and takes the noise level from the image itself"
            )


def _report_sigma(args: argparse.Namespace, sigma: float, source: str) -> None:
    """The noise level as a line of text, or with --progress json as a finished progress record."""
    if args.progress == "json":
        record = {"stage": NOISE_STAGE, "done": 1, "total": 1, "sigma_hu": round(sigma, 3), "sigma_source": source}
        print(PROGRESS_PREFIX + json.dumps(record), flush=True)
    else:
        how = "given" if source == "given" else "measured in flat regions"
        print(f"noise level {sigma:.1f} HU ({how})", flush=True)


def _model_label(args: argparse.Namespace, sigma: float | None) -> str:
    """What the derived series' description says made it: model (and strength or sigma)."""
    if _is_classical(args.model):
        return f"{args.model.lower()}, sigma {sigma:.1f} HU"
    from ipv2.denoise.strength import region_strengths

    name = args.model if args.model in NETWORKS else Path(args.model).stem
    regions = region_strengths(args.strength, args.strength_lung, args.strength_body)
    if regions is None:
        return f"{name}, strength {args.strength}"
    return f"{name}, strength lung {regions[0]} body {regions[1]}"


def _denoise(volume, args: argparse.Namespace, model, device: str, quiet: bool = False, masks=None):
    """The denoised volume, the label of what denoised it, and its account (None with --no-account).
    `masks`: the scan's region masks where already computed, whose lung field region-aware
    strengths then use instead of finding it again."""
    from ipv2.denoise.classical import denoise_volume_classical, measure_sigma_hu
    from ipv2.denoise.inference import denoise_volume
    from ipv2.input_checks import require_ct, require_soft_tissue

    started = time.monotonic()
    source = volume.metadata.get("source") or args.input
    require_ct(volume, source)  # content refusals name the file, not "input volume"
    sigma = None
    if _is_classical(args.model):
        if args.sigma is None:
            require_soft_tissue(volume, source)
        sigma = args.sigma if args.sigma is not None else measure_sigma_hu(volume)
        if not quiet:
            _report_sigma(args, sigma, "given" if args.sigma is not None else "measured")
    with monitor_from_args(args) as monitor:
        if _is_classical(args.model):
            denoised = denoise_volume_classical(volume, args.model, sigma_hu=sigma, monitor=monitor)
        else:
            denoised = denoise_volume(
                volume,
                model=model,
                device=device,
                monitor=monitor,
                batch_size=args.batch,
                strength=args.strength,
                lung_strength=args.strength_lung,
                body_strength=args.strength_body,
                lung_field=_lung_field(masks, args),
            )
    if "measured_noise_hu" in denoised.metadata and not quiet:
        _report_sigma(args, denoised.metadata["measured_noise_hu"], "measured")
    label = _model_label(args, sigma)
    account = _account(volume, denoised, label, sigma, time.monotonic() - started) if args.account else None
    return denoised, label, account


def _account(volume, denoised, label: str, sigma: float | None, seconds: float) -> dict:
    """What the account file holds: the run's settings and `ipv2.evaluate.denoise_account`'s figures."""
    from ipv2.evaluate.denoise_account import denoise_account
    from ipv2.io.denoise_record import acquisition_of

    figures = denoise_account(volume.array, denoised.array, volume.spacing)
    keys = ("denoised_with", "strength", "lung_strength", "body_strength", "measured_noise_hu")
    settings = {key: denoised.metadata[key] for key in keys if key in denoised.metadata}
    if "denoised_with" in settings:  # the weights' file name: an account travels without its machine's paths
        settings["denoised_with"] = Path(str(settings["denoised_with"])).name
    if sigma is not None:
        settings["measured_noise_hu"] = round(float(sigma), 2)
    return {
        "ipv2_version": __version__,
        "model": label,
        **settings,
        "acquisition": acquisition_of(volume.metadata.get("dicom_files")),
        "seconds": round(seconds, 2),
        **figures,
    }


def _write_account(account: dict | None, output: Path) -> None:
    from ipv2.io.denoise_record import account_path, write_account
    from ipv2.io.volumes import VOLUME_SUFFIXES

    if account is not None:
        write_account(account_path(output, VOLUME_SUFFIXES), account)


def _write(denoised, out: Path, dicom: bool, label: str, compress: bool = True, account: dict | None = None) -> None:
    from ipv2.io.denoise_record import account_comment
    from ipv2.io.dicom import write_derived_series
    from ipv2.io.volumes import write_volume

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


def _require_dicom_input(scan_path, dicom: bool) -> None:
    if not dicom:
        raise InputError(
            f"--format dicom: {scan_path} is a volume file; a derived DICOM series needs a DICOM "
            "series as input, whose patient and study it joins"
        )


def _run_one(args: argparse.Namespace) -> int:
    """One scan to one output: a volume file, or a derived DICOM series folder."""
    from ipv2.io.dicom import require_derivable, require_replaceable_series
    from ipv2.io.outputs import require_writable_output, require_writable_series_output
    from ipv2.io.volumes import holds_dicom, read_volume, require_volume_suffix

    out = Path(args.out)
    input_is_dicom = Path(args.input).is_dir() and holds_dicom(args.input)
    dicom = args.format == "dicom" or (args.format is None and input_is_dicom and _full_suffix(out) is None)
    if dicom:
        if _full_suffix(out) is not None:
            raise InputError(f"--format dicom writes a series folder; --out {out} names a volume file")
        _require_dicom_input(args.input, input_is_dicom)
        require_writable_series_output(out, inputs=[args.input])
    else:
        require_writable_output(out)
        require_volume_suffix(out)
        if args.uncompressed:
            require_uncompressible(out)
        if args.format is not None and _full_suffix(out) != "." + args.format:
            raise InputError(f"--format {args.format} but --out {out} names another format")
    sides = _require_side_outputs(args, out, dicom)
    with rank_zero_output_lock(out):
        require_new_outputs([out, _account_file(args, out), *sides.values()], [args.input], args.overwrite)
        if dicom and out.exists():
            require_replaceable_series(out)
        volume = read_volume(args.input)
        if dicom:
            require_derivable(volume)
        model = args.model
        if args.regions is not None:
            # everything the denoising refuses is refused before the masks' long work
            from ipv2.denoise.inference import resolve_model
            from ipv2.device import resolve_device
            from ipv2.input_checks import require_ct

            require_ct(volume, volume.metadata.get("source") or args.input)
            if not _is_classical(model):
                model = resolve_model(model)
                resolve_device(args.device)
        masks = _scan_masks(volume, args)
        denoised, label, account = _denoise(volume, args, model, args.device, masks=masks)
        _write(denoised, out, dicom, label, compress=not args.uncompressed, account=account)
        _write_account(account, out)
        if "--removed" in sides:
            _write_removed(volume, denoised, sides["--removed"], compress=not args.uncompressed)
        if "--regions" in sides:
            _write_regions(volume, masks, sides["--regions"], compress=not args.uncompressed)
    if args.progress != "json":
        what = "derived DICOM series" if dicom else "denoised volume"
        print(f"{what} written to {out}")
    return 0


def _require_side_outputs(args: argparse.Namespace, out: Path, dicom: bool) -> dict:
    """--removed and --regions: volume files apart from the other outputs and from each other
    (whatever --format the result has); {flag: path} of those given."""
    from ipv2.io.outputs import require_writable_output
    from ipv2.io.volumes import require_volume_suffix

    account = _account_file(args, out)
    taken = [out] + ([account] if account is not None else [])
    sides = {}
    for flag, value in (("--removed", args.removed), ("--regions", args.regions)):
        if value is None:
            continue
        path = Path(value)
        require_writable_output(path, flag=flag)
        require_volume_suffix(path)
        if args.uncompressed:
            require_uncompressible(path)
        inside_series = dicom and out.absolute() in path.absolute().parents
        if inside_series or any(path.absolute() == other.absolute() for other in taken):
            raise InputError(
                f"{flag} {path}: the result, its account or another output is written there; choose another path"
            )
        taken.append(path)
        sides[flag] = path
    return sides


def _lung_field(masks, args: argparse.Namespace):
    """The lung field of masks already computed, where region-aware strengths need one."""
    from ipv2.denoise.inference import lung_field_of

    if masks is None or (args.strength_lung is None and args.strength_body is None):
        return None
    return lung_field_of(masks)


def _scan_masks(volume, args: argparse.Namespace):
    """The scan's region masks for --regions, with progress and cancel; region-aware
    strengths then use them instead of finding the lung field again."""
    if args.regions is None:
        return None
    from ipv2.masks import compute_region_masks

    with monitor_from_args(args) as monitor:
        return compute_region_masks(volume, volume, monitor=monitor)


def _write_regions(volume, masks, path: Path, compress: bool) -> None:
    from ipv2.io.volumes import write_labelmap

    write_labelmap(masks.labelmap(), volume, path, compress=compress)


def _write_removed(volume, denoised, path: Path, compress: bool) -> None:
    import numpy as np

    from ipv2.io.volumes import write_volume

    removed = np.subtract(volume.array, denoised.array, dtype=np.float32)
    write_volume(volume.with_array(removed), path, compress=compress)


def _account_file(args: argparse.Namespace, out: Path) -> Path | None:
    from ipv2.io.denoise_record import account_path
    from ipv2.io.volumes import VOLUME_SUFFIXES

    return account_path(out, VOLUME_SUFFIXES) if args.account else None


def _full_suffix(path: Path) -> str | None:
    from ipv2.io.volumes import VOLUME_SUFFIXES

    name = path.name.lower()
    return next((suffix for suffix in sorted(VOLUME_SUFFIXES, key=len, reverse=True) if name.endswith(suffix)), None)


def _output_of(scan, out_dir: Path, fmt: str | None) -> tuple[Path, bool]:
    """(output path, whether it is a DICOM series) of one scan of a folder."""
    if fmt == "dicom" or (fmt is None and scan.dicom):
        return out_dir / scan.name, True
    return out_dir / f"{scan.name}.{fmt or 'nrrd'}", False


def _is_finished(scan, output: Path, dicom: bool) -> bool:
    """Whether `output` holds the complete result of `scan` (written whole through a rename, so
    a partial result never exists; what fails here is a foreign or damaged output)."""
    from ipv2.io.dicom import series_is_complete
    from ipv2.io.volumes import volume_shape

    shape = volume_shape(scan.path)
    if dicom:
        return output.is_dir() and series_is_complete(output, shape[0])
    try:
        return output.is_file() and volume_shape(output) == shape
    except InputError:
        return False


def _require_replaceable_result(output: Path, dicom: bool) -> None:
    """With --overwrite, a batch replaces a scan's earlier result, never something else of that name."""
    from ipv2.io.dicom import require_replaceable_series

    if not (output.exists() or output.is_symlink()):
        return
    if dicom:
        require_replaceable_series(output, flag="result")
    elif output.is_dir() or not output.is_file():
        raise InputError(f"{output} is not a volume file; --overwrite replaces only an earlier result, so move it away")


def _scan_device(args: argparse.Namespace) -> str:
    """Under torchrun each rank takes the GPU of its LOCAL_RANK (modulo the GPUs there are, so
    that more ranks than GPUs share them)."""
    if args.device == "cpu" or int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return args.device
    import torch

    if not torch.cuda.is_available():
        return args.device
    return f"cuda:{int(os.environ.get('LOCAL_RANK', '0')) % torch.cuda.device_count()}"


SUMMARY_KEYS = ("done", "skipped", "kept", "failed")


def _print_summary(args: argparse.Namespace, summary: dict, rank: int, world: int, total: int) -> None:
    if args.progress == "json":
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


def _recipe(args: argparse.Namespace) -> str:
    """What a folder run makes its results with, independent of the scan: a rerun with the same
    recipe counts a recorded result as done (`ipv2.io.made_by`)."""
    from ipv2.denoise.strength import dose_multiple, region_strengths

    if _is_classical(args.model):
        sigma = "measured" if args.sigma is None else f"{args.sigma:g} HU"
        return f"{args.model.lower()}, sigma {sigma}"
    model = args.model if args.model in NETWORKS else str(Path(args.model).resolve())
    lung, body = (
        dose_multiple(value)
        for value in region_strengths(args.strength, args.strength_lung, args.strength_body) or (args.strength,) * 2
    )
    if lung == body:
        return f"{model}, strength {lung:g}"
    return f"{model}, strength lung {lung:g} body {body:g}"


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


def _denoise_scan(
    scan, output: Path, dicom: bool, args: argparse.Namespace, model, device: str, recipe: str, summary: dict
) -> None:
    """One scan of a folder run, under its result's lock: skipped when done with this recipe,
    kept (and reported) when made otherwise, else denoised and recorded."""
    from ipv2.io.dicom import require_derivable
    from ipv2.io.made_by import made_by, record_made_by
    from ipv2.io.volumes import read_volume

    if not args.overwrite and (output.exists() or output.is_symlink()):
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
    denoised, label, account = _denoise(volume, args, model, device, quiet=True)
    _write(denoised, output, dicom, label, compress=not args.uncompressed, account=account)
    _write_account(account, output)
    record_made_by(output, recipe)
    summary["done"].append(scan.name)
    if args.progress != "json":
        print(f"{scan.name}: written to {output}", flush=True)


def _write_summary_table(args: argparse.Namespace, out_dir: Path, summary: dict) -> None:
    """The accounts' table, rebuilt when this run added a result (a rerun that only skips leaves it)."""
    from ipv2.io.denoise_record import SUMMARY_FILE, write_summary

    if args.account and out_dir.is_dir() and (summary["done"] or not (out_dir / SUMMARY_FILE).exists()):
        write_summary(out_dir)


def _run_folder(args: argparse.Namespace) -> int:
    """A folder of scans into the folder --out: this rank's share, finished ones skipped."""
    from ipv2.errors import Cancelled, CheckpointError
    from ipv2.io.lock import output_lock
    from ipv2.io.outputs import require_writable_output
    from ipv2.io.scans import find_scans, rank_from_env, share_of_rank

    out_dir = Path(args.out)
    if _full_suffix(out_dir) is not None:
        raise InputError(
            f"--in {args.input} is a folder of scans, written into a folder; --out {out_dir} names a volume file"
        )
    if out_dir.resolve() == Path(args.input).resolve():
        raise InputError(f"--out {out_dir} is the --in folder; choose another folder for the results")
    if out_dir.resolve() in Path(args.input).resolve().parents:
        raise InputError(
            f"--out {out_dir} holds the --in folder {args.input}; choose a folder for the results outside it"
        )
    if args.removed is not None:
        raise InputError(f"--removed writes the removed image of one scan; --in {args.input} is a folder of scans")
    if args.regions is not None:
        raise InputError(f"--regions writes the region masks of one scan; --in {args.input} is a folder of scans")
    require_writable_output(out_dir, folder=True)
    rank, world = rank_from_env()
    scans = find_scans(args.input)
    if args.format == "dicom":
        for scan in scans:
            _require_dicom_input(scan.path, scan.dicom)
    model = args.model
    if not _is_classical(args.model):
        from ipv2.denoise.inference import resolve_model

        model = resolve_model(args.model)  # once, and refused before any scan is read
    device = _scan_device(args)
    recipe = _recipe(args)
    summary = {key: [] for key in SUMMARY_KEYS}
    with rank_zero_output_lock(out_dir, folder=True):
        try:
            for scan in share_of_rank(scans, rank, world):
                output, dicom = _output_of(scan, out_dir, args.format)
                try:
                    # the lock a single run on this result takes: two runs never write one result
                    with output_lock(output, flag="result", within=out_dir):
                        _denoise_scan(scan, output, dicom, args, model, device, recipe, summary)
                except (InputError, CheckpointError) as error:
                    summary["failed"].append({"scan": scan.name, "reason": str(error)})
        except (Cancelled, KeyboardInterrupt) as stop:
            _write_summary_table(args, out_dir, summary)
            _print_summary(args, summary, rank, world, len(scans))
            return _report_cancel(summary, out_dir, stop)
        _write_summary_table(args, out_dir, summary)
    _print_summary(args, summary, rank, world, len(scans))
    return EXIT_USER_ERROR if summary["failed"] or summary["kept"] else 0


def run(args: argparse.Namespace) -> int:
    from ipv2.io.scans import is_scan_folder

    _require_options(args)
    if not Path(args.input).exists():
        raise InputError(f"--in {args.input}: no such file or folder")
    if is_scan_folder(args.input):
        return _run_folder(args)
    return _run_one(args)
