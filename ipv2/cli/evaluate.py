"""`ipv2 evaluate`: fidelity per region, what a reader sees, and noise of a denoised volume,
as JSON and a figure."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

from ipv2.cli.common import (
    add_device_option,
    add_overwrite_option,
    add_progress_option,
    add_seed_option,
    monitor_from_args,
    rank_zero_output_lock,
)
from ipv2.errors import InputError
from ipv2.io import read_volume, require_new_outputs

HELP = "score a denoised volume against the IPv2 label (and a true clean volume) per region"


def data_range_argument(text: str):
    if text in ("fixed", "label"):
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not 'fixed', 'label' or a number of HU") from None


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help=HELP,
        description=HELP + ". Regions come from the masks labelmap written by "
        "`ipv2 purify` (0 body, 1 background, 2 lung); region figures use only their region's voxels. "
        "Besides RMSE, PSNR, SSIM and noise it reports the share of small-structure contrast kept (lung "
        "vessels, soft tissue), SSIM in the lung and soft-tissue windows, and the noise power spectrum of "
        "flat regions.",
    )
    parser.add_argument("--pred", required=True, metavar="FILE", help="the denoised volume (HU)")
    parser.add_argument(
        "--label", required=True, metavar="FILE", help="the evaluation label, e.g. eval_label.nrrd from `ipv2 purify`"
    )
    parser.add_argument("--masks", required=True, metavar="FILE", help="the region labelmap, e.g. masks.nrrd")
    parser.add_argument("--truth", metavar="FILE", help="a true clean volume, where one exists (phantoms)")
    parser.add_argument("--input", metavar="FILE", help="the noisy input, for baseline figures and the figure")
    parser.add_argument("--out", metavar="FILE", help="write the report as JSON here (default: print it)")
    parser.add_argument("--figure", metavar="FILE", help="write the visual report here (.png, .pdf or .svg)")
    parser.add_argument(
        "--slices", metavar="K,...", help="slice numbers for the figure (default: the slice with the most lung)"
    )
    parser.add_argument(
        "--data-range",
        type=data_range_argument,
        default="fixed",
        metavar="RANGE",
        help="PSNR/SSIM data range: 'fixed' (2000 HU, the default), 'label' (the label's max - min) or a number of HU",
    )
    parser.add_argument(
        "--fid", action="store_true", help="add FID and KID of the slices (needs the optional extra 'fid')"
    )
    add_device_option(parser)
    add_seed_option(parser)
    add_overwrite_option(parser)
    add_progress_option(parser)
    parser.set_defaults(func=run)


def _number(value, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def summary_table(report: dict) -> str:
    """Plain-text tables of RMSE / PSNR / SSIM per region and comparison, noise, the reader
    figures (contrast kept, windowed SSIM) and the NPS figures."""
    lines = [f"{'comparison':<22}{'region':<12}{'RMSE HU':>9}{'PSNR dB':>9}{'SSIM':>8}"]
    for comparison, regions in report["fidelity"].items():
        for region, figures in regions.items():
            lines.append(
                f"{comparison:<22}{region:<12}{figures['rmse_hu']:>9.1f}{figures['psnr_db']:>9.2f}"
                f"{figures['ssim']:>8.3f}"
            )
    lines.append(f"data range {report['data_range']}")
    noise_regions = list(report["noise_uniform_voxels"])
    lines.append(f"{'noise std (HU)':<22}" + "".join(f"{region:>13}" for region in noise_regions))
    for image, figures in report["noise_std_hu"].items():
        lines.append(f"{image:<22}" + "".join(f"{figures[region]:>13.1f}" for region in noise_regions))
    lines.append(f"{'reader figures':<22}{'vessels kept':>13}{'soft kept':>13}{'SSIM lung W':>13}{'SSIM soft W':>13}")
    for comparison in report["fidelity"]:
        kept = report.get("structure_contrast", {}).get(comparison, {})
        windowed = report.get("ssim_windowed", {}).get(comparison, {})
        values = (kept.get("lung_vessels"), kept.get("soft_tissue"), windowed.get("lung"), windowed.get("soft"))
        lines.append(f"{comparison:<22}" + "".join(f"{_number(value, '.3f'):>13}" for value in values))
    lines.append(
        f"{'NPS (flat ROIs)':<22}{'region':<12}{'variance HU2':>13}{'peak c/mm':>11}{'mean c/mm':>11}"
        f"{'low/mid/high':>16}"
    )
    for image, regions in report.get("nps", {}).items():
        for region, figures in regions.items():
            if figures is None:
                continue
            bands = "/".join(f"{figures['band_power'][band]:.2f}" for band in ("low", "mid", "high"))
            lines.append(
                f"{image:<22}{region:<12}{figures['variance_hu2']:>13.0f}"
                f"{figures['peak_cycles_per_mm']:>11.3f}{figures['mean_cycles_per_mm']:>11.3f}{bands:>16}"
            )
    for comparison, figures in report.get("distribution", {}).items():
        lines.append(
            f"{comparison:<22}FID {figures['fid']:.2f}  KID {figures['kid_mean']:.4f} ± {figures['kid_std']:.4f}"
        )
    return "\n".join(lines).replace("nan", "n/a")


def _require_options(args: argparse.Namespace) -> None:
    """The options and output paths, before any volume is read: a bad figure path used to fail
    only after the report had been written."""
    from ipv2.evaluate.distribution import FID_INSTALL_HINT, MissingExtra, fid_available
    from ipv2.evaluate.figure import require_figure_suffix
    from ipv2.io.outputs import require_writable_output

    if args.slices is not None and not args.figure:
        raise InputError("--slices chooses the slices of the figure; give --figure FILE too")
    if args.device.startswith("cuda"):
        from ipv2.device import resolve_device

        resolve_device(args.device)  # refused here on a machine without a GPU
    if args.fid and not fid_available():
        raise MissingExtra(FID_INSTALL_HINT)
    for flag, target in (("--out", args.out), ("--figure", args.figure)):
        if target:
            require_writable_output(target, flag=flag)
    if args.figure:
        require_figure_suffix(args.figure)
    if args.out and args.figure and Path(args.out).absolute() == Path(args.figure).absolute():
        raise InputError(f"--out and --figure name the same file ({args.out}); give two files")
    require_new_outputs(
        [args.out, args.figure], [args.pred, args.label, args.masks, args.truth, args.input], args.overwrite
    )


def run(args: argparse.Namespace) -> int:
    _require_options(args)
    with contextlib.ExitStack() as locks:
        for flag, target in (("--out", args.out), ("--figure", args.figure)):
            if target:
                locks.enter_context(rank_zero_output_lock(target))
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from ipv2.evaluate import evaluate_volumes, json_ready, write_report
    from ipv2.evaluate.distribution import distribution_report
    from ipv2.evaluate.figure import parse_slices, report_figure, save_figure

    prediction = read_volume(args.pred)
    label = read_volume(args.label)
    masks = read_volume(args.masks)
    truth = read_volume(args.truth) if args.truth else None
    noisy_input = read_volume(args.input) if args.input else None
    slices = parse_slices(args.slices, prediction.shape[0]) if args.slices else None

    with monitor_from_args(args) as monitor:
        report = evaluate_volumes(
            prediction, label, masks, truth, input=noisy_input, data_range=args.data_range, monitor=monitor
        )
        if args.fid:
            references = {"prediction_vs_label": label.array}
            if truth is not None:
                references["prediction_vs_truth"] = truth.array
            report["distribution"] = distribution_report(
                prediction.array, references, seed=args.seed, device=args.device, monitor=monitor
            )
        figure = None
        if args.figure:
            figure = report_figure(
                prediction.array,
                label.array,
                masks.array,
                report,
                input=noisy_input.array if noisy_input is not None else None,
                truth=truth.array if truth is not None else None,
                slices=slices,
                spacing=prediction.spacing,
                title=Path(args.pred).name,
            )

    if args.out:
        write_report(report, args.out)
    if figure is not None:
        save_figure(figure, args.figure)
    print(summary_table(report), file=sys.stderr if not args.out else sys.stdout)
    if not args.out:
        print(json.dumps(json_ready(report), indent=2))
    else:
        print(f"report: {args.out}")
    if args.figure:
        print(f"figure: {args.figure}")
    return 0
