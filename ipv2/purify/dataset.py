"""Purification of the authors' PNG folder datasets (`lq/` and `gt/` of same-named slices).

Works on the 8-bit slices as their script does: masks with the 8-bit rules, Add noise with
the normalised simulator, and writes `lq_bar/` (training input) and `gt_bar/` (training
target) under the slices' own names, plus `eval_label/` and report.json.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any, Union

import numpy as np

from ipv2.errors import InputError
from ipv2.io import atomic_output_dir
from ipv2.io.png_dataset import PngPairDataset, open_png_dataset, write_png_slice
from ipv2.progress import Monitor
from ipv2.purify.core import GRAY_LEVELS, StageTimes, purify_arrays
from ipv2.purify.options import PurifyOptions
from ipv2.purify.outputs import DATASET_OUTPUTS, prepare_output_folder, write_json
from ipv2.purify.report import add_counts, median_noise, purify_report, region_counts
from ipv2.weak import weak_denoise

PathLike = Union[str, os.PathLike[str]]
# Slices simulated and denoised together; fixed so that results do not depend on memory.
CHUNK_SLICES = 8


def _chunk_seed(seed: int, first_slice: int) -> int:
    return int(np.random.SeedSequence([seed, first_slice]).generate_state(1)[0])


def _to_u8(image: np.ndarray) -> np.ndarray:
    levels: np.ndarray = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    return levels


def _weak_denoise_u8(
    lq: np.ndarray, options: PurifyOptions, times: StageTimes, mask: np.ndarray, sigma: float
) -> np.ndarray:
    """The weak denoiser over a mask, in whole gray levels as the slices are stored, timed as "remove noise"."""
    with times.measure("remove noise"):
        return _to_u8(weak_denoise(lq, options.weak, sigma_hu=sigma, mask=mask, contrast=GRAY_LEVELS.contrast))


def _read_chunks(dataset: PngPairDataset, names: list[str]) -> Iterator[list[tuple[str, np.ndarray, np.ndarray]]]:
    """Groups consecutive same-sized slices, checking each pair on the way."""
    chunk: list[tuple[str, np.ndarray, np.ndarray]] = []
    for name in names:
        lq, gt = dataset.read_pair(name)
        if lq.shape != gt.shape:
            raise InputError(
                f"{name}: lq/ slice is {lq.shape[1]}x{lq.shape[0]} but gt/ slice is {gt.shape[1]}x{gt.shape[0]} pixels"
            )
        for folder, image in (("lq", lq), ("gt", gt)):
            if image.min() == image.max():
                raise InputError(f"{folder}/{name}: every pixel is {int(image.min())}; the slice is blank")
        if chunk and (len(chunk) == CHUNK_SLICES or chunk[0][1].shape != lq.shape):
            yield chunk
            chunk = []
        chunk.append((name, lq, gt))
    if chunk:
        yield chunk


def purify_png_dataset(
    root: PathLike,
    out_dir: PathLike,
    options: PurifyOptions | None = None,
    monitor: Monitor | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Purifies every slice pair of the dataset at `root` into `out_dir`; returns the report.

    `options.sigma_hu` is, here, the noise level in 8-bit gray levels. Chunks of slices go
    through the same core as volumes; the report has the volumes' schema, with each noise
    figure the median over chunks.
    """
    from ipv2.masks import compute_png_region_masks

    options = (options or PurifyOptions()).checked()
    dataset = open_png_dataset(root)
    out_dir = prepare_output_folder(out_dir, DATASET_OUTPUTS, overwrite)
    monitor = monitor or Monitor()
    started = time.perf_counter()
    times = StageTimes()
    counts: dict[str, int] = {}
    noise_per_chunk: list[dict[str, float | None]] = []
    done = 0
    total = len(dataset.names)
    with atomic_output_dir(out_dir) as staging:
        folders = {name: staging / name for name in ("lq_bar", "gt_bar", "eval_label")}
        for folder in folders.values():
            folder.mkdir()
        monitor.step("purify slices", 0, total)
        for chunk in _read_chunks(dataset, dataset.names):
            names = [item[0] for item in chunk]
            lq = np.stack([item[1] for item in chunk])
            gt = np.stack([item[2] for item in chunk])
            with times.measure("masks"):
                masks = compute_png_region_masks(lq, gt)
            simulated = None
            if options.add_noise:
                from ipv2.simulate import simulate_seed_u8

                with times.measure("simulate"):
                    simulated = simulate_seed_u8(gt, seed=_chunk_seed(options.seed, done), device=options.device)
            purified = purify_arrays(
                lq,
                gt,
                masks,
                options,
                simulated=simulated,
                denoise=partial(_weak_denoise_u8, lq, options, times),
                units=GRAY_LEVELS,
                where=names[0],
                times=times,
            )
            with times.measure("write"):
                for index, name in enumerate(names):
                    write_png_slice(_to_u8(purified.train_input[index]), folders["lq_bar"] / name)
                    write_png_slice(_to_u8(purified.train_target[index]), folders["gt_bar"] / name)
                    write_png_slice(_to_u8(purified.eval_label[index]), folders["eval_label"] / name)
            counts = add_counts(counts, region_counts(masks, purified))
            noise_per_chunk.append(purified.noise)
            done += len(names)
            monitor.step("purify slices", done, total)
        report = purify_report(
            options,
            source="png dataset",
            slices=total,
            counts=counts,
            noise=median_noise(noise_per_chunk),
            units=GRAY_LEVELS,
            times=times,
            total_seconds=time.perf_counter() - started,
            dataset=str(Path(root)),
        )
        write_json(report, staging / "report.json")
    return report
