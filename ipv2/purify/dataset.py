"""Purification of the authors' PNG folder datasets (`lq/` and `gt/` of same-named slices).

Works on the 8-bit slices as their script does: masks with the 8-bit rules, Add noise with
the normalised simulator, and writes `lq_bar/` (training input) and `gt_bar/` (training
target) under the slices' own names, plus `eval_label/` and report.json.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Dict, List, Optional, Union

import numpy as np

from ipv2 import __version__
from ipv2.errors import InputError
from ipv2.io import atomic_output_dir
from ipv2.io.png_dataset import open_png_dataset, write_png_slice
from ipv2.pairs import evaluation_label, ipv1_label, ipv1_pair, ipv2_pair, training_region
from ipv2.progress import Monitor
from ipv2.purify.outputs import DATASET_OUTPUTS, prepare_output_folder, write_json
from ipv2.purify.options import PurifyOptions
from ipv2.purify.pipeline import measure_noise
from ipv2.weak import weak_denoise

PathLike = Union[str, os.PathLike]
# Slices simulated and denoised together; fixed so that results do not depend on memory.
CHUNK_SLICES = 8
GRAY_LEVELS = 255.0


def _chunk_seed(seed: int, first_slice: int) -> int:
    return int(np.random.SeedSequence([seed, first_slice]).generate_state(1)[0])


def _to_u8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def _read_chunks(dataset, names: List[str]):
    """Groups consecutive same-sized slices, checking each pair on the way."""
    chunk: List[tuple] = []
    for name in names:
        lq, gt = dataset.read_pair(name)
        if lq.shape != gt.shape:
            raise InputError(f"{name}: lq/ slice is {lq.shape[1]}x{lq.shape[0]} but gt/ slice is "
                             f"{gt.shape[1]}x{gt.shape[0]} pixels")
        for folder, image in (("lq", lq), ("gt", gt)):
            if image.min() == image.max():
                raise InputError(f"{folder}/{name}: every pixel is {int(image.min())}; the slice is blank")
        if chunk and (len(chunk) == CHUNK_SLICES or chunk[0][1].shape != lq.shape):
            yield chunk
            chunk = []
        chunk.append((name, lq, gt))
    if chunk:
        yield chunk


def purify_png_dataset(root: PathLike, out_dir: PathLike, options: Optional[PurifyOptions] = None,
                       monitor: Optional[Monitor] = None, overwrite: bool = False) -> Dict:
    """Purifies every slice pair of the dataset at `root` into `out_dir`; returns the report.

    `options.sigma_hu` is, here, the noise level in 8-bit gray levels.
    """
    from ipv2.masks import compute_png_region_masks

    options = (options or PurifyOptions()).validated()
    dataset = open_png_dataset(root)
    out_dir = prepare_output_folder(out_dir, DATASET_OUTPUTS, overwrite)
    monitor = monitor or Monitor()
    started = time.perf_counter()
    seconds = {"masks": 0.0, "simulate": 0.0, "remove noise": 0.0, "write": 0.0}
    counts = {"body": 0, "background": 0, "lung": 0, "airways": 0, "pixels": 0}
    sigmas: List[float] = []
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
            clock = time.perf_counter()
            masks = compute_png_region_masks(lq, gt)
            seconds["masks"] += time.perf_counter() - clock
            region = training_region(masks, options.remove_background)
            simulated = None
            if options.add_noise:
                from ipv2.simulate import simulate_seed_u8

                clock = time.perf_counter()
                simulated = simulate_seed_u8(gt, seed=_chunk_seed(options.seed, done), device=options.device)
                seconds["simulate"] += time.perf_counter() - clock
            if options.mode == "ipv1":
                train_input, train_target = ipv1_pair(lq, gt, masks)
                label = ipv1_label(lq, gt, masks)
            else:
                train_input, train_target = ipv2_pair(lq, gt, masks, remove_background=options.remove_background,
                                                      add_noise=options.add_noise, simulated_gt=simulated)
                clock = time.perf_counter()
                sigma = options.sigma_hu
                if options.weak != "none" and sigma is None:
                    sigma = (measure_noise(lq, region) if region.any() else None) or measure_noise(lq)
                    if sigma is None:
                        raise InputError(f"{names[0]}: no flat region is large enough to measure the noise; "
                                         "give it with --sigma (in gray levels)")
                if sigma is not None and options.weak != "none":
                    sigmas.append(float(sigma))
                denoised = _to_u8(weak_denoise(lq, options.weak, sigma_hu=sigma, mask=region, contrast=GRAY_LEVELS))
                label = evaluation_label(gt, masks, denoised, remove_background=options.remove_background)
                seconds["remove noise"] += time.perf_counter() - clock
            clock = time.perf_counter()
            for index, name in enumerate(names):
                write_png_slice(_to_u8(train_input[index]), folders["lq_bar"] / name)
                write_png_slice(_to_u8(train_target[index]), folders["gt_bar"] / name)
                write_png_slice(_to_u8(label[index]), folders["eval_label"] / name)
            seconds["write"] += time.perf_counter() - clock
            for key in ("body", "background", "lung", "airways"):
                counts[key] += int(np.count_nonzero(getattr(masks, key)))
            counts["pixels"] += lq.size
            done += len(names)
            monitor.step("purify slices", done, total)
        report = {
            "ipv2_version": __version__,
            "mode": options.mode,
            "source": "png dataset",
            "dataset": str(Path(root)),
            "slices": total,
            "parameters": options.as_dict(),
            "region": "lung" if options.remove_background else "dark",
            "masks": {f"{key}_fraction": round(counts[key] / max(counts["pixels"], 1), 6)
                      for key in ("body", "background", "lung", "airways")},
            "noise": {"weak_sigma_gray_levels_median": round(float(np.median(sigmas)), 3) if sigmas else None,
                      "weak_sigma_source": None if not sigmas else
                      ("given" if options.sigma_hu is not None else "measured per chunk")},
            "timings": {"stages": {key: {"seconds": round(value, 3)} for key, value in seconds.items()},
                        "total_seconds": round(time.perf_counter() - started, 3)},
        }
        write_json(report, staging / "report.json")
    return report
