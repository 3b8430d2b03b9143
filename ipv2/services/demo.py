"""The whole method on built-in data, with nothing to download.

A phantom uLDCT/NDCT pair (with its true clean image) is purified, the uLDCT is denoised
with the default bundled model, and the result is scored against the IPv2 label and against
the truth; the report is written as JSON and as a figure beside the volumes, ready to open
in 3D Slicer.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ipv2.contract import DEFAULT_DEVICE, DEFAULT_MODEL, DEMO_SIZE, DEMO_SLICES
from ipv2.denoise.inference import denoise_volume, resolve_model
from ipv2.errors import InputError
from ipv2.evaluate import evaluate_volumes, report_figure, save_figure, write_report
from ipv2.io import atomic_output_dir, require_new_outputs, write_labelmap, write_volume
from ipv2.phantom import Acquisition, PhantomOptions, generate_phantom_pair
from ipv2.phantom.acquisition import MAX_SIZE, MAX_SLICES, MIN_SIZE, MIN_SLICES
from ipv2.progress import Monitor, MonitorFactory
from ipv2.purify import PurifyOptions, purify_volumes

FIGURE_NAME = "demo_report.png"
REPORT_NAME = "demo_report.json"
VOLUME_NAMES = ("uldct", "ndct", "truth", "denoised", "eval_label")
OUTPUT_FILES = (FIGURE_NAME, REPORT_NAME, "masks.nrrd") + tuple(f"{name}.nrrd" for name in VOLUME_NAMES)


@dataclass
class DemoResult:
    out_dir: Path
    figure: Path
    report_path: Path
    report: dict
    files: dict[str, Path] = field(default_factory=dict)


def _require_demo_sizes(size: int, slices: int) -> None:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < MIN_SIZE:
        raise InputError(f"--size {size}: the phantom needs at least {MIN_SIZE} pixels a side")
    if isinstance(slices, bool) or not isinstance(slices, (int, np.integer)) or slices < 1:
        raise InputError(f"--slices {slices}: at least one slice is needed")


def make_demo(
    out_dir: str | os.PathLike,
    open_monitor: MonitorFactory,
    *,
    size: int = DEMO_SIZE,
    slices: int = DEMO_SLICES,
    seed: int = 0,
    model: str | None = None,
    device: str = DEFAULT_DEVICE,
    overwrite: bool = False,
) -> DemoResult:
    """`ipv2 demo`: the phantom's bounds (stated once, by the phantom), the model (the default
    one where None) and the outputs checked before any work, then `run_demo`."""
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise InputError(f"--size {size} must be from {MIN_SIZE} to {MAX_SIZE} pixels a side")
    if not MIN_SLICES <= slices <= MAX_SLICES:
        raise InputError(f"--slices {slices} must be from {MIN_SLICES} to {MAX_SLICES}")
    model = model or DEFAULT_MODEL
    resolve_model(model)  # a missing or broken model is refused before any work
    require_new_outputs([Path(out_dir) / name for name in OUTPUT_FILES], overwrite=overwrite)
    with open_monitor() as monitor:
        return run_demo(out_dir, size=size, slices=slices, seed=seed, model=model, device=device, monitor=monitor)


def run_demo(
    out_dir: str | os.PathLike,
    *,
    size: int = DEMO_SIZE,
    slices: int = DEMO_SLICES,
    seed: int = 0,
    model: str = DEFAULT_MODEL,
    device: str = DEFAULT_DEVICE,
    monitor: Monitor | None = None,
) -> DemoResult:
    """Phantom pair -> purify -> denoise -> evaluate -> figure and JSON in `out_dir`.

    Every file appears only once the whole run has succeeded.
    """
    _require_demo_sizes(size, slices)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"--out: {out_dir} is a file; give a folder")
    monitor = monitor or Monitor()
    timings = {}

    started = time.perf_counter()
    pair = generate_phantom_pair(Acquisition.resolve(size, slices), PhantomOptions(seed=seed), monitor=monitor)
    timings["phantom"] = time.perf_counter() - started

    started = time.perf_counter()
    purified = purify_volumes(pair.uldct, pair.ndct, PurifyOptions(seed=seed, device=device), monitor)
    timings["purify"] = time.perf_counter() - started

    started = time.perf_counter()
    denoised = denoise_volume(pair.uldct, model=model, device=device, monitor=monitor)
    timings["denoise"] = time.perf_counter() - started

    started = time.perf_counter()
    labelmap = purified.masks.labelmap()
    report = evaluate_volumes(denoised, purified.eval_label, labelmap, pair.truth, input=pair.uldct, monitor=monitor)
    figure = report_figure(
        denoised.array,
        purified.eval_label.array,
        labelmap,
        report,
        input=pair.uldct.array,
        truth=pair.truth.array,
        spacing=denoised.spacing,
        title=f"IPv2 demo: phantom {size}x{size}x{slices}, seed {seed}, model "
        f"{Path(str(denoised.metadata.get('denoised_with', model))).name}",
    )
    timings["evaluate"] = time.perf_counter() - started
    report["demo"] = {
        "size": size,
        "slices": slices,
        "seed": seed,
        "model": str(model),
        "denoised_with": str(denoised.metadata.get("denoised_with", model)),
        "purify": purified.report,
        "timings_s": {k: round(v, 2) for k, v in timings.items()},
    }

    volumes = {
        "uldct": pair.uldct,
        "ndct": pair.ndct,
        "truth": pair.truth,
        "denoised": denoised,
        "eval_label": purified.eval_label,
    }
    monitor.check()
    with atomic_output_dir(out_dir) as staging:
        for name, volume in volumes.items():
            write_volume(volume, staging / f"{name}.nrrd")
        write_labelmap(labelmap, pair.uldct, staging / "masks.nrrd")
        write_report(report, staging / REPORT_NAME)
        save_figure(figure, staging / FIGURE_NAME)
    files = {name: out_dir / f"{name}.nrrd" for name in VOLUME_NAMES}
    files["masks"] = out_dir / "masks.nrrd"
    return DemoResult(
        out_dir=out_dir, figure=out_dir / FIGURE_NAME, report_path=out_dir / REPORT_NAME, report=report, files=files
    )
