"""Density measures after denoising: is the mean HU of lung, fat and soft tissue left as it was?

Lung-density scores (emphysema index, mean lung density) and fat and soft-tissue HU are read
off the scan's mean values; a denoiser that shifts them changes a measurement, not only the
look. The held-out real chest (`chest_ricord_2` in --realct, never trained on) is scanned at
each dose with the standard and the sharp kernel (`ipv2.training.acquisitions.acquire`),
`--realisations` times with independent noise, in blocks of `--block` adjacent slices (a 2.5D
model reads real neighbours; the blocks' end slices are not scored). Regions come from the
clean reference (normal dose with the standard kernel; the noise-free reconstruction with
the sharp one), eroded away from their borders: lung (-950..-700 HU), fat (-150..-50 HU),
soft tissue (10..80 HU).

Figures per dose, kernel, region and method: the mean HU minus the reference's, with a 95 %
t-interval over realisations and blocks; for a method also its change from the input.
Prints a table and, as its LAST line, one JSON object
{dose_percent: {kernel: {region: {method: {"bias_hu", "bias_ci", "change_hu", "change_ci"}}}}}.

    python benchmarks/bench_density.py --realct PATH/TO/realct      # about 6 min on 2 shared cores
    python benchmarks/bench_density.py --realct PATH --doses 0.01 --methods unet@low unet@high
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi
from scipy import stats
from slab_support import INPUT

from ipv2.denoise.inference import denoise_volume
from ipv2.io import read_volume
from ipv2.models.registry import DEFAULT_MODEL
from ipv2.training.acquisitions import Acquisition, acquire
from ipv2.volume import Volume

VALIDATION_VOLUME = "chest_ricord_2"
DOSES = (0.01, 0.02, 0.10)
KERNELS = ("standard", "sharp")
DEFAULT_METHODS = tuple(f"{DEFAULT_MODEL}@{strength}" for strength in ("low", "medium", "high"))
REGIONS_HU = {"lung": (-950.0, -700.0), "fat": (-150.0, -50.0), "soft_tissue": (10.0, 80.0)}
REGION_MARGIN_PX = 3
BLOCKS, BLOCK_SLICES, REALISATIONS, SEED = 3, 5, 2, 11


def chest_blocks(realct: Path, blocks: int, depth: int):
    """(blocks, depth, y, x) HU: blocks of adjacent slices spread over the part of the chest
    where the lungs are widest, and the pixel spacing."""
    volume = read_volume(realct / f"{VALIDATION_VOLUME}.nrrd")
    lung_fraction = np.mean((volume.array > -950) & (volume.array < -500), axis=(1, 2))
    candidates = np.flatnonzero(lung_fraction >= 0.5 * lung_fraction.max())
    starts = candidates[np.linspace(0, candidates.size - 1, blocks).round().astype(int)]
    starts = np.clip(starts - depth // 2, 0, len(volume.array) - depth)
    return np.stack([volume.array[s : s + depth] for s in starts]).astype(np.float32), volume.pixel_spacing_mm


def region_masks(reference: np.ndarray) -> dict:
    """Each region's voxels of a (z, y, x) clean reference, away from its borders."""
    smoothed = ndi.gaussian_filter(reference, (0, 1.0, 1.0))
    return {
        name: ndi.binary_erosion(
            (smoothed >= low) & (smoothed <= high), structure=np.ones((1, 3, 3), bool), iterations=REGION_MARGIN_PX
        )
        for name, (low, high) in REGIONS_HU.items()
    }


def interval(values) -> tuple[float, list[float]]:
    values = np.asarray(values, dtype=np.float64)
    mean = float(values.mean())
    if values.size < 2:
        return mean, [mean, mean]
    half = float(stats.t.ppf(0.975, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size))
    return mean, [mean - half, mean + half]


def denoise(method: str, noisy: np.ndarray, grid) -> np.ndarray:
    if method == INPUT:
        return noisy
    model, _, strength = method.partition("@")
    return denoise_volume(Volume(noisy, spacing=grid), model=model, device="cpu", strength=strength or "medium").array


def measure(dose: float, kernel: str, blocks: np.ndarray, pixel_mm: float, methods, args) -> dict:
    """{region: {method: figures}} of one dose and kernel."""
    grid = (pixel_mm, pixel_mm, 1.0)
    scored = slice(1, blocks.shape[1] - 1)  # the ends read a repeated neighbour
    samples: dict = {}
    for realisation in range(args.realisations):
        for index, block in enumerate(blocks):
            seed = args.seed + 1000 * realisation + index
            noisy, reference = acquire(block, pixel_mm, Acquisition(dose, kernel, pixel_mm, True), seed=seed)
            masks = region_masks(reference[scored])
            outputs = {method: denoise(method, noisy, grid)[scored] for method in (INPUT, *methods)}
            for name, mask in masks.items():
                if mask.sum() < 100:
                    continue
                truth = float(reference[scored][mask].mean())
                given = float(outputs[INPUT][mask].mean())
                for method, output in outputs.items():
                    value = float(output[mask].mean())
                    entry = samples.setdefault(name, {}).setdefault(method, {"bias": [], "change": []})
                    entry["bias"].append(value - truth)
                    entry["change"].append(value - given)
    figures: dict = {}
    for name, methods_samples in samples.items():
        for method, entry in methods_samples.items():
            bias, bias_ci = interval(entry["bias"])
            change, change_ci = interval(entry["change"])
            figures.setdefault(name, {})[method] = {
                "bias_hu": bias,
                "bias_ci": bias_ci,
                "change_hu": change,
                "change_ci": change_ci,
                "samples": len(entry["bias"]),
            }
    return figures


def short_name(method: str) -> str:
    """A method as a table's column names it: a checkpoint by its file's stem."""
    model, at, strength = method.partition("@")
    return f"{Path(model).stem if model.endswith('.safetensors') else model}{at}{strength}"


def print_table(results: dict, methods) -> None:
    header = f"{'dose':>5} {'kernel':<9} {'region':<12}" + "".join(f"{short_name(m):>30}" for m in (INPUT, *methods))
    print("mean HU minus the clean reference's (95% interval); for a method, [its change from the input]")
    print(header)
    print("-" * len(header))
    for dose, kernels in results.items():
        for kernel, regions in kernels.items():
            for name, by_method in regions.items():
                cells = []
                for method in (INPUT, *methods):
                    f = by_method[method]
                    text = f"{f['bias_hu']:+.1f} ({f['bias_ci'][0]:+.1f},{f['bias_ci'][1]:+.1f})"
                    if method != INPUT:
                        text += f" [{f['change_hu']:+.1f}]"
                    cells.append(f"{text:>30}")
                print(f"{dose:>4}% {kernel:<9} {name:<12}" + "".join(cells))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--realct", type=Path, required=True, help="folder of the real CT volumes")
    parser.add_argument("--doses", type=float, nargs="+", default=list(DOSES), help="dose fractions")
    parser.add_argument("--kernels", nargs="+", default=list(KERNELS), choices=list(KERNELS))
    parser.add_argument(
        "--methods", nargs="+", default=list(DEFAULT_METHODS), help="MODEL@STRENGTH (bundled name or checkpoint)"
    )
    parser.add_argument("--blocks", type=int, default=BLOCKS, help=f"blocks of adjacent slices (default {BLOCKS})")
    parser.add_argument(
        "--block", type=int, default=BLOCK_SLICES, help=f"slices per block, ends not scored (default {BLOCK_SLICES})"
    )
    parser.add_argument("--realisations", type=int, default=REALISATIONS, help="noise realisations per block")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    if not (args.realct / f"{VALIDATION_VOLUME}.nrrd").is_file():
        parser.error(f"--realct {args.realct}: {VALIDATION_VOLUME}.nrrd is missing")
    for dose in args.doses:
        if not 0.0 < dose < 1.0:
            parser.error(f"--doses {dose:g}: a reduced dose is a fraction above 0 and below 1")
    if args.block < 3:
        parser.error(f"--block {args.block}: at least 3 slices, so that one has both neighbours")
    if args.blocks < 1 or args.realisations < 1 or args.seed < 0:
        parser.error("--blocks and --realisations must be at least 1, --seed not negative")
    if INPUT in args.methods:
        parser.error("--methods: the input is always measured; leave it out")
    started = time.perf_counter()
    blocks, pixel_mm = chest_blocks(args.realct, args.blocks, args.block)
    results: dict = {}
    for dose in args.doses:
        for kernel in args.kernels:
            results.setdefault(f"{100 * dose:g}", {})[kernel] = measure(
                dose, kernel, blocks, pixel_mm, args.methods, args
            )
            print(f"dose {100 * dose:g}% {kernel}: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    print_table(results, args.methods)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
