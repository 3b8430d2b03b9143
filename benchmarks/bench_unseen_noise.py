"""Noise no bundled model was trained on the way it meets it: white noise and blotchy noise on a real chest.

A scan's noise is not always the FBP noise of the simulator: some series carry nearly white
noise, and iterative reconstructions leave a blotchy grain. The held-out real chest
(`chest_ricord_2` in --realct, never trained on), in blocks of adjacent slices as
`bench_density` takes them (a 2.5D model reads real neighbours; block ends are not scored),
gets each case's noise, `--realisations` times:

- `white_220`, `white_60`: white Gaussian noise of 220 and 60 HU over the whole image;
- `blotchy_10pct`: the simulator's noise at 10% dose (standard kernel) low-passed with a
  Gaussian of 1.2 mm and scaled back to its standard deviation, a grain coarser than any the
  models were trained on (`ipv2.training.acquisitions` trains on 0.8 mm).

Reference: the normal-dose slices. Figures per case and method: the noise reduction (the
input's error's standard deviation over the method's) in the lung parenchyma and in soft
tissue (`bench_density`'s regions), and the contrast of small lung vessels and small
soft-tissue structures kept (`ipv2.evaluate.contrast_retention`), each a mean with a 95 %
t-interval over realisations and blocks. Prints a table and, as its LAST line, one JSON
object {case: {method: {figure: {"mean", "ci"}}}}.

    python benchmarks/bench_unseen_noise.py --realct PATH/TO/realct       # about 3 min on 2 shared cores
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from bench_density import (
    INPUT,
    REALISATIONS,
    VALIDATION_VOLUME,
    chest_blocks,
    denoise,
    interval,
    region_masks,
    short_name,
)
from scipy import ndimage as ndi

from ipv2.evaluate import contrast_retention
from ipv2.models.registry import DEFAULT_MODEL
from ipv2.training.acquisitions import SCANNER_RANGE_HU, Acquisition, acquire

CASES = ("white_220", "white_60", "blotchy_10pct")
DEFAULT_METHODS = tuple(f"{DEFAULT_MODEL}@{strength}" for strength in ("low", "medium", "high"))
BLOTCHY_SIGMA_MM = 1.2
BLOCKS, BLOCK_SLICES, SEED = 3, 5, 23
FIGURES = ("noise_reduction_lung", "noise_reduction_soft", "vessel_contrast", "soft_contrast")


def noisy_case(case: str, block: np.ndarray, pixel_mm: float, seed: int) -> np.ndarray:
    """The block (z, y, x) HU under one case's noise, in the range scanners store."""
    clean = np.maximum(block, SCANNER_RANGE_HU[0])
    if case.startswith("white_"):
        sigma = float(case.split("_")[1])
        noise = sigma * np.random.default_rng([seed, 0x3417E]).standard_normal(block.shape).astype(np.float32)
    elif case == "blotchy_10pct":
        noisy, _ = acquire(block, pixel_mm, Acquisition(0.10, "standard", pixel_mm, False), seed=seed)
        fbp = noisy - clean
        sigma_px = BLOTCHY_SIGMA_MM / pixel_mm
        noise = ndi.gaussian_filter(fbp, (0, sigma_px, sigma_px))
        noise *= fbp.std() / max(float(noise.std()), 1e-6)
    else:
        raise ValueError(f"unknown case {case}")
    return np.clip(clean + noise, *SCANNER_RANGE_HU).astype(np.float32)


def figures_of(output: np.ndarray, noisy: np.ndarray, reference: np.ndarray, masks: dict, grid) -> dict:
    spacing_zyx = (grid[2], grid[1], grid[0])
    lung, soft = masks["lung"], masks["soft_tissue"]
    body = reference > -500
    return {
        "noise_reduction_lung": float((noisy - reference)[lung].std() / (output - reference)[lung].std()),
        "noise_reduction_soft": float((noisy - reference)[soft].std() / (output - reference)[soft].std()),
        "vessel_contrast": contrast_retention(output, reference, lung_hull(reference), spacing_zyx),
        "soft_contrast": contrast_retention(output, reference, body, spacing_zyx, "soft_tissue"),
    }


def lung_hull(reference: np.ndarray) -> np.ndarray:
    """The lung with the vessels inside it: lung-density pixels the body encloses (not the air
    around it), closed and filled slice by slice."""
    dense_air = reference < -600
    components = ndi.label(dense_air)[0]
    edges = np.concatenate([components[:, 0], components[:, -1], components[:, :, 0], components[:, :, -1]], axis=None)
    lung = ndi.binary_opening(dense_air & ~np.isin(components, edges[edges > 0]), structure=np.ones((1, 3, 3), bool))
    closed = ndi.binary_closing(lung, structure=np.ones((1, 9, 9), bool))
    return np.stack([ndi.binary_fill_holes(plane) for plane in closed])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--realct", type=Path, required=True, help="folder of the real CT volumes")
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument(
        "--methods", nargs="+", default=list(DEFAULT_METHODS), help="MODEL@STRENGTH (bundled name or checkpoint)"
    )
    parser.add_argument("--blocks", type=int, default=BLOCKS)
    parser.add_argument("--block", type=int, default=BLOCK_SLICES, help="slices per block, ends not scored")
    parser.add_argument("--realisations", type=int, default=REALISATIONS)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    if not (args.realct / f"{VALIDATION_VOLUME}.nrrd").is_file():
        parser.error(f"--realct {args.realct}: {VALIDATION_VOLUME}.nrrd is missing")
    if args.block < 3:
        parser.error(f"--block {args.block}: at least 3 slices, so that one has both neighbours")
    if args.blocks < 1 or args.realisations < 1 or args.seed < 0:
        parser.error("--blocks and --realisations must be at least 1, --seed not negative")
    started = time.perf_counter()
    blocks, pixel_mm = chest_blocks(args.realct, args.blocks, args.block)
    grid = (pixel_mm, pixel_mm, 1.0)
    scored = slice(1, args.block - 1)
    results: dict = {}
    for case in args.cases:
        samples: dict = {}
        for realisation in range(args.realisations):
            for index, block in enumerate(blocks):
                noisy = noisy_case(case, block, pixel_mm, args.seed + 1000 * realisation + index)
                reference = np.maximum(block, SCANNER_RANGE_HU[0])[scored]
                masks = region_masks(reference)
                for method in (INPUT, *args.methods):
                    output = denoise(method, noisy, grid)[scored]
                    for name, value in figures_of(output, noisy[scored], reference, masks, grid).items():
                        if value is not None:
                            samples.setdefault(method, {}).setdefault(name, []).append(value)
        results[case] = {
            method: {name: dict(zip(("mean", "ci"), interval(values))) for name, values in figures.items()}
            for method, figures in samples.items()
        }
        print(f"{case}: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    header = f"{'case':<15} {'method':<16}" + "".join(f"{name:>24}" for name in FIGURES)
    print(header)
    print("-" * len(header))
    for case, methods in results.items():
        for method, figures in methods.items():
            cells = "".join(
                f"{figures[n]['mean']:>8.2f} ({figures[n]['ci'][0]:.2f},{figures[n]['ci'][1]:.2f})".rjust(24)
                if n in figures
                else f"{'-':>24}"
                for n in FIGURES
            )
            print(f"{case:<15} {short_name(method):<16}{cells}")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
