"""Denoising quality on material no model or rule was built on: a held-out real chest and phantoms.

Cases (each scored against its own clean reference):
- `chest_<dose>_<kernel>`: the held-out real normal-dose chest (`chest_ricord_2` in
  --realct) under a simulated acquisition (`ipv2.training.acquisitions.acquire`): 2%, 10%
  and 25% dose, standard and sharp kernels. Reference: the normal-dose slice (standard) or
  its noise-free reconstruction with the same kernel (sharp).
- `chest_full_dose`: the same chest untouched (identity: a clean scan must come back
  unchanged; the reference is the input itself).
- `phantom_2pct`: a held-out built-in phantom at 2% dose; reference its noise-free truth.

Methods: every bundled model (`ipv2 denoise --model NAME`, strength medium; `NAME@low`
for another strength, `NAME@lung=low,body=high` for region-aware strengths) and the
classical BM3D and NLM (noise measured in flat soft tissue), on the same slices. Where a
model reads neighbouring slices (2.5D) every chest case's slices come in slabs of their own
neighbours, each with its own noise, for every method; such a model denoises each slab as
its own volume, so it never reads one picked slice as another's neighbour, and only the
slabs' centres are scored.

Figures per method and case: RMSE in HU in the body (outside the lung field) and in the
lung field; SSIM in the lung window inside the lung field and in the soft-tissue window
inside the body; small-structure contrast retention of lung vessels (1 = all the
reference's contrast kept); seconds per slice. Prints a table and, as its LAST line, one JSON
object {method: {case: {"rmse_body", "rmse_lung", "ssim_lung", "ssim_soft",
"vessel_contrast", "soft_contrast", "s_per_slice"}}}.

    python benchmarks/bench_quality.py --realct PATH/TO/realct            # 4 slices per case
    python benchmarks/bench_quality.py --realct PATH --slices 8 --methods unet bm3d
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
from scipy import ndimage as ndi
from slab_support import denoise_by_slab, method_context, slab_indices, widest_context

from ipv2.denoise.classical import CLASSICAL_DENOISERS, denoise_volume_classical
from ipv2.denoise.inference import denoise_volume
from ipv2.errors import InputError
from ipv2.evaluate import contrast_retention, windowed_ssim
from ipv2.io import read_volume
from ipv2.masks import compute_region_masks
from ipv2.models.bundled import bundled_weights_path
from ipv2.models.registry import MODEL_REGISTRY
from ipv2.phantom import (
    SCORED_REGION_LABELS,
    PhantomOptions,
    generate_phantom_pair,
)
from ipv2.phantom import Acquisition as PhantomAcquisition
from ipv2.training.acquisitions import Acquisition, acquire
from ipv2.volume import Volume

VALIDATION_VOLUME = "chest_ricord_2"
DOSES = (0.02, 0.10, 0.25)
KERNELS = ("standard", "sharp")
PHANTOM_SEED = 21  # never used by training (bundled validation uses 13, training the real scans)
CASE_SEED = 7
PHANTOM_CASE = "phantom_2pct"
MIN_PHANTOM_SLICES = 4


def _rmse(a, b, region) -> float:
    return float(np.sqrt(np.mean((a[region].astype(np.float64) - b[region]) ** 2))) if region.any() else None


def lung_field(lung: np.ndarray) -> np.ndarray:
    """The lung with what it encloses (vessels, nodules) filled, slice by slice."""
    return np.stack([ndi.binary_fill_holes(plane) for plane in lung])


class Case(NamedTuple):
    """One scored case: `noisy` and `reference` hold stretches of a scan, `slab_depth` slices
    each, one after another (a slice's neighbours are those of its own stretch); only the
    `centres` are scored, in `regions` (found from the reference when None)."""

    name: str
    noisy: np.ndarray
    reference: np.ndarray
    grid: tuple
    regions: dict | None
    centres: np.ndarray
    slab_depth: int


def chest_cases(realct: Path, slices: int, context: int = 0):
    """A Case per chest acquisition: the picked slices in slabs of their `context` neighbours
    on each side, so that a 2.5D model reads the scan's own; one acquisition over all the
    slabs gives every slice its own noise, the same for the centres whatever the method."""
    volume = read_volume(realct / f"{VALIDATION_VOLUME}.nrrd")
    lung_fraction = np.mean((volume.array > -950) & (volume.array < -500), axis=(1, 2))
    # Slices spread over the part of the chest where the lungs are widest.
    candidates = np.flatnonzero(lung_fraction >= 0.5 * lung_fraction.max())
    picked = candidates[np.linspace(0, candidates.size - 1, slices).round().astype(int)]
    hu = volume.array[slab_indices(picked, context, len(volume.array))].astype(np.float32)
    slab_depth = 2 * context + 1
    centres = np.arange(context, len(hu), slab_depth)
    spacing = volume.pixel_spacing_mm
    grid = (spacing, spacing, volume.spacing[2])
    for dose in DOSES:
        for kernel in KERNELS:
            noisy, reference = acquire(hu, spacing, Acquisition(dose, kernel, spacing, True), seed=CASE_SEED)
            yield Case(f"chest_{round(dose * 100)}pct_{kernel}", noisy, reference, grid, None, centres, slab_depth)
    floored = np.maximum(hu, -1024.0)
    yield Case("chest_full_dose", floored, floored.copy(), grid, None, centres, slab_depth)


def phantom_case(slices: int, context: int = 0):
    # The phantom has a minimum depth; `slices` of a deeper one are scored, each with its
    # neighbours inside the volume for a 2.5D model.
    depth = slices + 2 * context
    pair = generate_phantom_pair(
        PhantomAcquisition.resolve(512, max(depth, MIN_PHANTOM_SLICES), pixel_mm=0.7, slice_mm=2.5),
        PhantomOptions(seed=PHANTOM_SEED, dose=0.02),
        device="cpu",
    )
    centres = np.arange(context, context + slices)
    labels = pair.labels.array[centres]
    regions = {name: np.isin(labels, ids) for name, ids in SCORED_REGION_LABELS.items()}
    # One stretch of one scan, denoised whole: the scored slices and the neighbours they need,
    # no more, as a classical method measures its noise level over all it is given.
    noisy, truth = pair.uldct.array[:depth], pair.truth.array[:depth]
    return Case(PHANTOM_CASE, noisy, truth, pair.uldct.spacing, regions, centres, depth)


def regions_of(reference: np.ndarray, grid) -> dict:
    masks = compute_region_masks(reference, reference, spacing=(grid[0], grid[1], grid[2]))
    field = getattr(masks, "lung_field", None)
    lung = field if field is not None else lung_field(masks.lung)
    return {"lung": lung, "body": masks.body & ~lung}


def run_method(method: str, noisy: np.ndarray, grid, slab_depth: int | None = None) -> tuple:
    """(denoised, seconds per slice). `method`: bm3d, nlm, or a network (bundled name or
    checkpoint) with an optional `@strength` or `@lung=LEVEL,body=LEVEL` (region-aware
    strengths). `noisy`: slabs of `slab_depth` slices one after another (one slab when None).
    A method that reads neighbouring slices denoises each slab as its own volume, so that it
    never reads one slab's slice as another's neighbour; the others read no neighbours and
    denoise all the slices at once, measuring their noise level and lung field over all of
    them as they always have."""
    started = time.perf_counter()
    denoised = denoise_by_slab(
        lambda slices: _denoised(method, slices, grid), noisy, slab_depth, method_context(method) > 0
    )
    return denoised, (time.perf_counter() - started) / noisy.shape[0]


def _denoised(method: str, noisy: np.ndarray, grid) -> np.ndarray:
    volume = Volume(noisy, spacing=(grid[0], grid[1], grid[2]))
    if method in CLASSICAL_DENOISERS:
        result = denoise_volume_classical(volume, method)
    else:
        model, _, strength = method.partition("@")
        regional = dict(part.split("=", 1) for part in strength.split(",")) if "=" in strength else {}
        result = denoise_volume(
            volume,
            model=model,
            device="cpu",
            strength="medium" if regional else (strength or "medium"),
            lung_strength=regional.get("lung"),
            body_strength=regional.get("body"),
        )
    return result.array


def score(result, reference, regions, grid) -> dict:
    spacing_zyx = (grid[2], grid[1], grid[0])
    return {
        "rmse_body": _rmse(result, reference, regions["body"]),
        "rmse_lung": _rmse(result, reference, regions["lung"]),
        "ssim_lung": windowed_ssim(result, reference, regions["lung"], "lung"),
        "ssim_soft": windowed_ssim(result, reference, regions["body"], "soft"),
        "vessel_contrast": contrast_retention(result, reference, regions["lung"], spacing_zyx, "lung_vessels"),
        "soft_contrast": contrast_retention(result, reference, regions["body"], spacing_zyx, "soft_tissue"),
    }


COLUMNS = ("rmse_body", "rmse_lung", "ssim_lung", "ssim_soft", "vessel_contrast", "soft_contrast")


def print_table(results: dict, cases, columns, label: str = "method") -> None:
    """One row per case and method of {method: {case: figures}}."""
    header = f"{'case':<24}{label:<11}" + "".join(f"{c:>16}" for c in columns)
    print(header)
    print("-" * len(header))
    for name in cases:
        for method in results:
            row = results[method][name]
            cells = "".join(f"{'-' if row[c] is None else format(row[c], '.3f'):>16}" for c in columns)
            print(f"{name:<24}{method:<11}{cells}")


def rounded_figures(figures: dict) -> dict:
    return {key: (None if value is None else round(float(value), 4)) for key, value in figures.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--realct", required=True, type=Path, help=f"folder holding {VALIDATION_VOLUME}.nrrd")
    parser.add_argument("--slices", type=int, default=4, help="slices per case (default 4)")
    bundled = [name for name in MODEL_REGISTRY if bundled_weights_path(name)]
    parser.add_argument(
        "--methods",
        nargs="+",
        default=bundled + list(CLASSICAL_DENOISERS),
        help="bundled model names or checkpoint files, each with an optional @low, @high or "
        "@FACTOR strength, and bm3d, nlm (default: every bundled model, bm3d and nlm)",
    )
    parser.add_argument("--cases", nargs="+", default=None, help="only these cases (default: all)")
    args = parser.parse_args(argv)
    if not (args.realct / f"{VALIDATION_VOLUME}.nrrd").is_file():
        parser.error(f"--realct {args.realct}: no {VALIDATION_VOLUME}.nrrd there")
    if args.slices < 1:
        parser.error("--slices must be at least 1")
    results = {"input": {}}
    results.update({method: {} for method in args.methods})
    try:  # every model found before minutes of work
        context = widest_context(args.methods)
    except InputError as error:
        parser.error(f"--methods: {error}")
    cases = list(chest_cases(args.realct, args.slices, context))
    known = [case[0] for case in cases] + [PHANTOM_CASE]
    if args.cases and set(args.cases) - set(known):
        parser.error(f"--cases: unknown {', '.join(sorted(set(args.cases) - set(known)))}; known: {', '.join(known)}")
    if not args.cases or PHANTOM_CASE in args.cases:
        cases.append(phantom_case(args.slices, context))
    if args.cases:
        cases = [case for case in cases if case[0] in args.cases]
    for name, noisy, reference, grid, regions, centres, slab_depth in cases:
        reference_centres = reference[centres]
        regions = regions or regions_of(reference_centres, grid)
        results["input"][name] = rounded_figures(
            {**score(noisy[centres], reference_centres, regions, grid), "s_per_slice": 0.0}
        )
        for method in args.methods:
            output, seconds = run_method(method, noisy, grid, slab_depth)
            results[method][name] = rounded_figures(
                {**score(output[centres], reference_centres, regions, grid), "s_per_slice": seconds}
            )
            print(
                f"{name:<26}{method:<11}" + "  ".join(f"{k} {v}" for k, v in results[method][name].items()),
                file=sys.stderr,
                flush=True,
            )
    print_table(results, [case[0] for case in cases], COLUMNS + ("s_per_slice",))
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
