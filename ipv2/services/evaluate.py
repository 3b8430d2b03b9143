"""`ipv2 evaluate`'s work: a denoised volume scored against the IPv2 label (and a true clean
volume) per region (`ipv2.evaluate`), as a JSON report, plain-text tables and a figure.

Every option and output path is checked before any volume is read: a bad figure path used
to fail only after the report had been written.
"""

from __future__ import annotations

import contextlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from ipv2.contract import DEFAULT_DEVICE
from ipv2.device import resolve_device
from ipv2.errors import InputError
from ipv2.evaluate import evaluate_volumes, json_ready, write_report
from ipv2.evaluate.distribution import FID_INSTALL_HINT, MissingExtra, distribution_report, fid_available
from ipv2.evaluate.figure import parse_slices, report_figure, require_figure_suffix, save_figure
from ipv2.io.atomic import require_new_outputs
from ipv2.io.lock import rank_zero_output_lock
from ipv2.io.outputs import require_writable_output
from ipv2.io.volumes import read_volume
from ipv2.progress import MonitorFactory


@dataclass(frozen=True)
class EvaluateRequest:
    """One `ipv2 evaluate` run, its options as the flags of the same name give them."""

    pred: str
    label: str
    masks: str
    truth: str | None = None
    input: str | None = None
    out: str | None = None
    figure: str | None = None
    slices: str | None = None
    data_range: str | float = "fixed"
    fid: bool = False
    device: str = DEFAULT_DEVICE
    seed: int = 0
    overwrite: bool = False


def run_evaluate(request: EvaluateRequest, open_monitor: MonitorFactory) -> int:
    """Runs `ipv2 evaluate`, holding the locks of its output files; its exit status."""
    _require_options(request)
    with contextlib.ExitStack() as locks:
        for target in (request.out, request.figure):
            if target:
                locks.enter_context(rank_zero_output_lock(target))
        return _evaluate(request, open_monitor)


def _require_options(request: EvaluateRequest) -> None:
    if request.device.startswith("cuda"):
        resolve_device(request.device)  # refused here on a machine without a GPU
    if request.fid and not fid_available():
        raise MissingExtra(FID_INSTALL_HINT)
    for flag, target in (("--out", request.out), ("--figure", request.figure)):
        if target:
            require_writable_output(target, flag=flag)
    if request.figure:
        require_figure_suffix(request.figure)
    if request.out and request.figure and Path(request.out).absolute() == Path(request.figure).absolute():
        raise InputError(f"--out and --figure name the same file ({request.out}); give two files")
    inputs = [request.pred, request.label, request.masks, request.truth, request.input]
    require_new_outputs([request.out, request.figure], inputs, request.overwrite)


def _evaluate(request: EvaluateRequest, open_monitor: MonitorFactory) -> int:
    prediction = read_volume(request.pred)
    label = read_volume(request.label)
    masks = read_volume(request.masks)
    truth = read_volume(request.truth) if request.truth else None
    noisy_input = read_volume(request.input) if request.input else None
    slices = parse_slices(request.slices, prediction.shape[0]) if request.slices else None

    with open_monitor() as monitor:
        report = evaluate_volumes(
            prediction, label, masks, truth, input=noisy_input, data_range=request.data_range, monitor=monitor
        )
        if request.fid:
            references = {"prediction_vs_label": label.array}
            if truth is not None:
                references["prediction_vs_truth"] = truth.array
            report["distribution"] = distribution_report(
                prediction.array, references, seed=request.seed, device=request.device, monitor=monitor
            )
        figure = None
        if request.figure:
            figure = report_figure(
                prediction.array,
                label.array,
                masks.array,
                report,
                input=noisy_input.array if noisy_input is not None else None,
                truth=truth.array if truth is not None else None,
                slices=slices,
                spacing=prediction.spacing,
                title=Path(request.pred).name,
            )

    if request.out:
        write_report(report, request.out)
    if figure is not None and request.figure:
        save_figure(figure, request.figure)
    # without --out the JSON report goes to stdout, and the tables beside it to stderr
    print(summary_table(report), file=sys.stderr if not request.out else sys.stdout)
    if not request.out:
        print(json.dumps(json_ready(report), indent=2))
    else:
        print(f"report: {request.out}")
    if request.figure:
        print(f"figure: {request.figure}")
    return 0


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
