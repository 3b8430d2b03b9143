"""Small lesions inserted into a real chest: how much of their contrast each denoiser keeps.

The held-out real chest (`chest_ricord_2` in --realct; never trained on) is scanned at each
dose by noise insertion (`ipv2.training.acquisitions.acquire`, standard kernel), and
lesions are then added to the noisy slices in the image domain, each drawn with partial
volume and the scanner's blur (a Gaussian of BLUR_MM):

- `solid_3mm`: a 3 mm solid nodule in the lung (+800 HU over the parenchyma);
- `ggo_8mm`: an 8 mm ground-glass nodule in the lung (+250 HU);
- `soft_6mm_hypo`: a 6 mm lesion 15 HU darker than the soft tissue it sits in (liver,
  mediastinum, muscle);
- `soft_10mm`: a 10 mm lesion 10 HU brighter than its soft tissue.

Where a method's model reads neighbouring slices (2.5D), each scored slice comes in the slab
of its own neighbours, each with its own noise, the lesions are spheres through the slab
(`lesion_image`), and such a model denoises each slab as its own volume: it reads the scan's
real neighbours and a lesion that continues into them, never another scored slice. The
contrast is read in the centre slices.

Every method denoises the slices with and without the lesions under the same noise, so
the contrast a method keeps is the mean over each lesion's core of
denoised(with) - denoised(without), over the inserted lesion's own mean there: 1 is all of
it, and the noise cancels (the lesions are faint enough not to change it). Sites are drawn
from the seed among voxels whose surroundings are of the lesion's tissue, away from edges,
and at least LESION_SPACING_MM apart.

Prints a table (contrast kept per dose, lesion and method: mean and the 95% interval over
the lesions) and, as its LAST line, one JSON object
{dose_percent: {lesion: {method: {"mean", "low", "high", "count"}}}}.

    python benchmarks/bench_lesions.py --realct PATH/TO/realct                 # about 5 min on 2 cores
    python benchmarks/bench_lesions.py --realct PATH --doses 0.02 --methods unet@medium unet@high
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi
from slab_support import INPUT, denoise_by_slab, method_context, slab_indices, widest_context

from ipv2.denoise.inference import denoise_volume
from ipv2.errors import InputError
from ipv2.io import read_volume
from ipv2.training.acquisitions import Acquisition, acquire
from ipv2.volume import Volume

VALIDATION_VOLUME = "chest_ricord_2"
DOSES = (0.01, 0.02, 0.10, 0.25, 0.55, 1.00)
METHODS = ("unet@low", "unet@medium", "unet@high", "unet@100")
SLICES = 4
SITES_PER_LESION = 6
SEED = 11
BLUR_MM = 0.5
LESION_SPACING_MM = 25.0
SUPERSAMPLING = 4
CORE_FRACTION = 0.6  # of the radius: the core the contrast is read in
LUNG_HU = (-950.0, -750.0)
SOFT_TISSUE_HU = (10.0, 90.0)


@dataclass(frozen=True)
class Lesion:
    name: str
    diameter_mm: float
    contrast_hu: float
    tissue: str


LESIONS = (
    Lesion("solid_3mm", 3.0, 800.0, "lung"),
    Lesion("ggo_8mm", 8.0, 250.0, "lung"),
    Lesion("soft_6mm_hypo", 6.0, -15.0, "soft"),
    Lesion("soft_10mm", 10.0, 10.0, "soft"),
)


def chest_slices(realct: Path, count: int, context: int = 0):
    """`count` slices spread over the lungs, each in the slab of its `context` neighbours on
    each side (slab after slab), the pixel and slice spacings, and the centres' indices."""
    volume = read_volume(realct / f"{VALIDATION_VOLUME}.nrrd")
    lung_fraction = np.mean((volume.array > -950) & (volume.array < -500), axis=(1, 2))
    candidates = np.flatnonzero(lung_fraction >= 0.5 * lung_fraction.max())
    picked = candidates[np.linspace(0, candidates.size - 1, count).round().astype(int)]
    slabs = slab_indices(picked, context, len(volume.array))
    centres = np.arange(context, slabs.size, 2 * context + 1)
    return volume.array[slabs].astype(np.float32), volume.pixel_spacing_mm, volume.spacing[2], centres


def tissue_mask(hu: np.ndarray, tissue: str, margin_px: int) -> np.ndarray:
    low, high = LUNG_HU if tissue == "lung" else SOFT_TISSUE_HU
    smoothed = ndi.gaussian_filter(hu, (0, 1.5, 1.5))
    inside = (smoothed >= low) & (smoothed <= high)
    return ndi.binary_erosion(inside, structure=np.ones((1, 3, 3), bool), iterations=margin_px)


def lesion_sites(hu: np.ndarray, pixel_mm: float, rng: np.random.Generator, slices=None):
    """(lesion, z, y, x) sites, each lesion SITES_PER_LESION times, apart from each other, in
    the given `slices` (default all)."""
    sites = []
    taken = []
    allowed = np.zeros(len(hu), bool)
    allowed[np.arange(len(hu)) if slices is None else slices] = True
    for lesion in LESIONS:
        margin = int(np.ceil(lesion.diameter_mm / pixel_mm))
        candidates = np.argwhere(tissue_mask(hu, lesion.tissue, margin) & allowed[:, None, None])
        rng.shuffle(candidates)
        found = 0
        for z, y, x in candidates:
            if all(z != tz or np.hypot(y - ty, x - tx) * pixel_mm >= LESION_SPACING_MM for tz, ty, tx in taken):
                sites.append((lesion, int(z), int(y), int(x)))
                taken.append((z, y, x))
                found += 1
                if found == SITES_PER_LESION:
                    break
    return sites


def lesion_image(shape, sites, pixel_mm: float, slice_mm: float | None = None, context: int = 0) -> np.ndarray:
    """The lesions alone (HU added), with partial volume and the scanner's blur.

    Each lesion is a sphere: its section in its own slice z and, with `context` k and the
    slice spacing `slice_mm`, in slices z - k .. z + k, where a neighbour j slices away holds
    the disc of radius sqrt(r^2 - (j slice_mm)^2), as a scan through a nodule does."""
    image = np.zeros(shape, dtype=np.float32)
    for lesion, z, y, x in sites:
        radius_mm = lesion.diameter_mm / 2
        radius_px = radius_mm / pixel_mm
        half = int(np.ceil(radius_px)) + 2
        offsets = (np.arange(-half * SUPERSAMPLING, half * SUPERSAMPLING) + 0.5) / SUPERSAMPLING
        squared = offsets[:, None] ** 2 + offsets[None, :] ** 2
        for step in range(-context, context + 1):
            section_mm2 = radius_mm**2 - (step * (slice_mm or 0.0)) ** 2
            if section_mm2 <= 0 or not 0 <= z + step < shape[0]:
                continue
            inside = squared <= section_mm2 / pixel_mm**2
            patch = inside.reshape(2 * half, SUPERSAMPLING, 2 * half, SUPERSAMPLING).mean(axis=(1, 3))
            image[z + step, y - half : y + half, x - half : x + half] += lesion.contrast_hu * patch
    return ndi.gaussian_filter(image, (0, BLUR_MM / pixel_mm, BLUR_MM / pixel_mm))


def _denoise(method: str, slices: np.ndarray, grid, slab_depth: int | None = None) -> np.ndarray:
    """`slices`: slabs of `slab_depth` slices one after another (one slab when None). A model
    that reads neighbouring slices denoises each slab as its own volume, so that it never
    reads one slab's slice as another's neighbour; a 2D one all the slices at once, as it
    always has."""
    if method == INPUT:
        return slices
    model, _, strength = method.partition("@")

    def denoised(volume: np.ndarray) -> np.ndarray:
        return denoise_volume(
            Volume(volume, spacing=grid), model=model, device="cpu", strength=strength or "medium"
        ).array

    return denoise_by_slab(denoised, slices, slab_depth, method_context(method) > 0)


def contrast_kept(with_lesions, without, lesions_only, sites, pixel_mm: float) -> dict:
    """Per lesion type: the kept fraction of each site, as mean with a 95% t-interval."""
    difference = with_lesions - without
    kept = {}
    for lesion, z, y, x in sites:
        radius_px = lesion.diameter_mm / 2 / pixel_mm
        yy, xx = np.ogrid[: difference.shape[1], : difference.shape[2]]
        core = (yy - y) ** 2 + (xx - x) ** 2 <= (CORE_FRACTION * max(radius_px, 1.0)) ** 2
        kept.setdefault(lesion.name, []).append(float(difference[z][core].mean() / lesions_only[z][core].mean()))
    return {name: _interval(values) for name, values in kept.items()}


def _interval(values) -> dict:
    from scipy import stats

    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    half = (
        float(stats.t.ppf(0.975, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size))
        if values.size > 1
        else float("nan")
    )
    return {
        "mean": round(mean, 3),
        "low": round(mean - half, 3),
        "high": round(mean + half, 3),
        "count": int(values.size),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--realct", type=Path, required=True, help="folder of the real CT volumes")
    parser.add_argument("--doses", type=float, nargs="+", default=list(DOSES))
    parser.add_argument("--methods", nargs="+", default=list(METHODS))
    parser.add_argument("--slices", type=int, default=SLICES)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    if not (args.realct / f"{VALIDATION_VOLUME}.nrrd").is_file():
        parser.error(f"--realct {args.realct}: {VALIDATION_VOLUME}.nrrd is missing")
    for dose in args.doses:
        if not 0.0 < dose <= 1.0:
            parser.error(f"--doses {dose:g}: a dose is a fraction of the scan's, above 0 and at most 1")
    try:  # every model found before minutes of work
        context = widest_context(args.methods)
    except InputError as error:
        parser.error(f"--methods: {error}")
    slab_depth = 2 * context + 1
    hu, pixel_mm, slice_mm, centres = chest_slices(args.realct, args.slices, context)
    grid = (pixel_mm, pixel_mm, slice_mm)
    sites = lesion_sites(hu, pixel_mm, np.random.default_rng(args.seed), centres)
    lesions_only = lesion_image(hu.shape, sites, pixel_mm, slice_mm, context)
    results = {}
    for dose in args.doses:
        if dose >= 1.0:
            noisy = np.maximum(hu, -1024.0)
        else:
            # One acquisition over all the slabs: each slice its own noise, the same for every method.
            noisy, _ = acquire(hu, pixel_mm, Acquisition(dose, "standard", pixel_mm, True), seed=args.seed)
        row = results.setdefault(f"{100 * dose:g}", {})
        for method in [INPUT, *args.methods]:
            kept = contrast_kept(
                _denoise(method, noisy + lesions_only, grid, slab_depth),
                _denoise(method, noisy, grid, slab_depth),
                lesions_only,
                sites,
                pixel_mm,
            )
            for name, figures in kept.items():
                row.setdefault(name, {})[method] = figures
        print(f"dose {100 * dose:g}% done", file=sys.stderr, flush=True)
    header = f"{'dose':>6} {'lesion':<15}" + "".join(f"{m:>22}" for m in [INPUT, *args.methods])
    print(header)
    print("-" * len(header))
    for dose, lesions in results.items():
        for name, methods in lesions.items():
            cells = "".join(f"{f['mean']:>8.2f} [{f['low']:.2f},{f['high']:.2f}]".rjust(22) for f in methods.values())
            print(f"{dose:>5}% {name:<15}{cells}")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
