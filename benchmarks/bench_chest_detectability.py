"""Small lesions in a real chest: can a channelized Hotelling observer still detect them after denoising?

The chest variant of `bench_detectability.py`. The held-out real chest (`chest_ricord_2` in
--realct; never trained on, read and never copied) holds three sites, each the voxel
nearest a fixed point of its slice whose surroundings are of its tissue (the tissue masks
of `bench_lesions`, eroded by the largest lesion's diameter):

- `lung` (slice 120, left lung): `bench_lesions`' 3 mm solid nodule (+800 HU over the
  parenchyma) and 8 mm ground-glass nodule (+250 HU);
- `mediastinum` (slice 80, the heart) and `liver` (slice 40): its 6 mm lesion 15 HU darker
  than the tissue and 10 mm lesion 10 HU brighter.

Each lesion at each site is one study, drawn as `bench_lesions` draws it (partial volume,
the scanner's blur) and added in the image domain. Realisation r is an independent scan
of the site's slice at the dose: the simulator's noise insertion (`simulate_low_dose`,
physical mode, standard kernel, electronic noise) into the scan at dose d / (1 + d) of
the scan's, so that the added noise alone is that of a scan at dose d (the scan's own
noise, fixed and the same in both classes, is part of the known background; the denoiser
sees the noise of a scan at d / (1 + d): 0.99 % at 1 %, 9.1 % at 10 %, 50 % at 100 %).
Signal present: realisations 0 .. N-1 with the lesion; signal absent: realisations
N .. 2N-1 of the same slice without it, the same anatomy under independent noise.
Present r and absent N + r are drawn together by the bootstrap. Values are clipped to the
scanner's range, as the training pairs are.

Only a crop is denoised (--crop pixels square, about the site, its corner on the
networks' stride grid): each realisation is simulated as the whole slice (its noise
depends on the whole body's attenuation) and its noise level measured on the whole slice,
as `denoise_volume` would; the network runs once per model on the crops and every
strength is recombined from its estimate, as `denoise_volume` does (`denoise_crops`). On
the last signal-absent realisation of each site the crop's output is compared with
`denoise_volume` on the whole slice: `crop_error_hu`, the largest difference inside the
site's largest ROI (at most 0.006 HU with 160 px crops; 128 px crops left up to 0.6 HU,
a margin shorter than the network's reach).

Observer: `ipv2.evaluate.observer`, as `bench_detectability`: a ROI of three lesion
diameters (at least 16 pixels) centred on the lesion, 8 Laguerre-Gauss and 6 dense
difference-of-Gaussians channels; d' and AUC with 95 % percentile bootstrap intervals over
realisations, and the paired difference method - input on the same draws with its
verdict: `better` when the interval lies above 0, `worse` below, `tie` when it covers 0.

Prints a table (Laguerre-Gauss channels) and, as its LAST line, one JSON object
{dose_percent: {"LESION@SITE": {method: {"laguerre_gauss": {...}, "dense_dog": {...},
"crop_error_hu"}}}}.

    python benchmarks/bench_chest_detectability.py --realct PATH/TO/realct    # 3 doses x 100: about 8 min, one core
    python benchmarks/bench_chest_detectability.py --realct PATH --full       # 6 doses x 400 realisations
    python benchmarks/bench_chest_detectability.py --realct PATH --doses 0.02 --realisations 200 --methods unet@high
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from bench_lesions import LESIONS, VALIDATION_VOLUME, lesion_image, tissue_mask

from ipv2.denoise.inference import denoise_volume, predict_slices, resolve_model
from ipv2.denoise.strength import dose_multiple, kept_noise_fraction, recombine, slab_restore_source
from ipv2.device import resolve_device
from ipv2.errors import CheckpointError, InputError
from ipv2.evaluate.observer import (
    CHANNEL_SETS,
    ObserverData,
    bootstrap_weights,
    channel_outputs,
    channels_for,
    detectability,
    observer_data,
    paired_difference,
)
from ipv2.evaluate.paired_intervals import LOSES, TIES, WINS, Interval, verdict
from ipv2.evaluate.report import json_ready
from ipv2.io import read_volume
from ipv2.models.registry import DEFAULT_MODEL
from ipv2.phantom.low_contrast import realisation_seed, roi_side_px
from ipv2.simulate import LowDoseSettings, simulate_low_dose
from ipv2.training.acquisitions import SCANNER_RANGE_HU
from ipv2.volume import Volume
from ipv2.weak.noise_level import slice_noise_levels

ALL_DOSES = (0.01, 0.02, 0.10, 0.25, 0.55, 1.00)
DOSES = (0.02, 0.10, 0.55)
REALISATIONS = 100
FULL_REALISATIONS = 400
# A bootstrap draw holds about 63 % of the realisations; its pooled covariance of 8 channels
# must stay invertible.
MIN_REALISATIONS = 20
DEFAULT_METHODS = tuple(f"{DEFAULT_MODEL}@{strength}" for strength in ("low", "medium", "high"))
INPUT = "input"
BOOTSTRAPS = 2000
KERNEL = "standard"
CROP_PX = 160
# Crops start on multiples of the networks' total stride (the U-Net's three 2x downsamplings
# make 8), so that a crop meets the strided layers on the same grid as the whole slice.
CROP_STRIDE_PX = 16
SITE_SEARCH_MM = 15.0
REALISATIONS_PER_BLOCK = 16  # simulated together under one seed
VERDICT_WORDS = {WINS: "better", LOSES: "worse", TIES: "tie"}


@dataclass(frozen=True)
class ChestSite:
    name: str
    tissue: str  # `bench_lesions`' tissue masks: "lung" or "soft"
    slice_index: int
    near_px: tuple[int, int]  # (row, column) in chest_ricord_2
    lesions: tuple[str, ...]


SITES = (
    ChestSite("lung", "lung", 120, (240, 400), ("solid_3mm", "ggo_8mm")),
    ChestSite("mediastinum", "soft", 80, (215, 300), ("soft_6mm_hypo", "soft_10mm")),
    ChestSite("liver", "soft", 40, (200, 140), ("soft_6mm_hypo", "soft_10mm")),
)
LESION_BY_NAME = {lesion.name: lesion for lesion in LESIONS}


@dataclass(frozen=True)
class PlacedSite:
    """A site's pixel (row, column) in its slice and the corner of its crop there."""

    site: ChestSite
    row: int
    column: int
    crop_row: int
    crop_column: int
    crop: int

    @property
    def in_crop(self) -> tuple[int, int]:
        return self.row - self.crop_row, self.column - self.crop_column

    def cropped(self, images: np.ndarray) -> np.ndarray:
        """The crop of (..., H, W) images."""
        return images[..., self.crop_row : self.crop_row + self.crop, self.crop_column : self.crop_column + self.crop]


def crop_corner(centre: int, crop: int) -> int:
    """The crop's first pixel: nearest to centring it on `centre`, on the network's stride grid."""
    return int(round((centre - crop // 2) / CROP_STRIDE_PX)) * CROP_STRIDE_PX


def place_site(hu: np.ndarray, site: ChestSite, pixel_mm: float, crop: int) -> PlacedSite:
    """The voxel of the site's slice nearest `near_px` whose surroundings are of its tissue,
    at least the largest lesion's diameter deep, with room for the crop around it."""
    if not 0 <= site.slice_index < len(hu):
        raise InputError(f"site {site.name}: slice {site.slice_index} lies outside the volume's {len(hu)} slices")
    largest = max(LESION_BY_NAME[name].diameter_mm for name in site.lesions)
    mask = tissue_mask(hu[site.slice_index : site.slice_index + 1], site.tissue, int(np.ceil(largest / pixel_mm)))[0]
    height, width = mask.shape
    candidates = [
        (row, column)
        for row, column in np.argwhere(mask)
        if 0 <= crop_corner(row, crop) <= height - crop and 0 <= crop_corner(column, crop) <= width - crop
    ]
    if candidates:
        distance = np.hypot(*(np.asarray(candidates) - np.asarray(site.near_px)).T) * pixel_mm
        nearest = int(np.argmin(distance))
        if distance[nearest] <= SITE_SEARCH_MM:
            row, column = (int(value) for value in candidates[nearest])
            return PlacedSite(site, row, column, crop_corner(row, crop), crop_corner(column, crop), crop)
    raise InputError(
        f"site {site.name}: no {site.tissue} tissue within {SITE_SEARCH_MM:g} mm of {site.near_px} in slice "
        f"{site.slice_index}; is this {VALIDATION_VOLUME}?"
    )


def simulated_dose(dose: float) -> float:
    """The dose, as a fraction of the scan's, whose noise insertion adds a dose-d scan's noise:
    the inserted variance goes as 1 / d' - 1 = 1 / d."""
    return dose / (1.0 + dose)


def simulate_sites(
    hu: np.ndarray, placed, dose: float, count: int, context: int, crop: int, seed: int, pixel_mm: float, device: str
) -> dict:
    """Per site: crops (count, 2 context + 1, crop, crop) of realisations 0 .. count-1 (float32
    HU, not yet clipped), the noise level of each realisation's whole slice, and the whole
    slab of the last realisation (for the crop check). Realisation r is a pure function of
    (seed, dose, r)."""
    slabs = {
        item.site.name: np.clip(np.arange(-context, context + 1) + item.site.slice_index, 0, len(hu) - 1)
        for item in placed
    }
    wanted = np.unique(np.concatenate(list(slabs.values())))
    position = {int(z): i for i, z in enumerate(wanted)}
    stack = np.ascontiguousarray(hu[wanted], dtype=np.float32)
    crops = {item.site.name: [] for item in placed}
    levels = {item.site.name: [] for item in placed}
    last = {}
    for block, start in enumerate(range(0, count, REALISATIONS_PER_BLOCK)):
        depth = min(REALISATIONS_PER_BLOCK, count - start)
        noisy = simulate_low_dose(
            np.tile(stack, (depth, 1, 1)),
            LowDoseSettings(
                dose=simulated_dose(dose),
                mode="physical",
                pixel_spacing_mm=pixel_mm,
                seed=realisation_seed(seed, dose, block),
                input_dose=1.0,
                kernel=KERNEL,
            ),
            device=device,
        ).reshape(depth, len(wanted), *stack.shape[1:])
        for item in placed:
            name = item.site.name
            picked = noisy[:, [position[int(z)] for z in slabs[name]]]
            centre = np.clip(picked[:, context], *SCANNER_RANGE_HU)
            levels[name].append(slice_noise_levels(centre))
            crops[name].append(item.cropped(picked).copy())
            last[name] = picked[-1]
    return {
        name: {"crops": np.concatenate(crops[name]), "levels": np.concatenate(levels[name]), "last": last[name]}
        for name in crops
    }


def denoise_crops(
    slabs: np.ndarray, levels: np.ndarray, model, strengths, pixel_mm: float, device: str = "cpu"
) -> dict:
    """What `denoise_volume` makes of each slab's centre slice, had the slab's whole slice
    been denoised with noise level `levels[i]`: {strength: (n, crop, crop) float32}.

    `slabs`: (n, 2k + 1, h, w) HU, k the model's context slices; the network runs once and
    every strength is recombined from its estimate."""
    loaded = resolve_model(model)
    if loaded.normalization.kind != "hu":
        raise InputError(f"model {model} was trained on 8-bit PNG slices; it cannot denoise CT in HU")
    count, depth, height, width = slabs.shape
    if depth != 2 * loaded.context_slices + 1:
        raise InputError(f"slabs of {depth} slices do not fit a model with {loaded.context_slices} context slices")
    if len(levels) != count:
        raise InputError(f"{len(levels)} noise levels for {count} slabs")
    array = np.ascontiguousarray(slabs.reshape(count * depth, height, width), dtype=np.float32)
    estimate = predict_slices(
        loaded.model,
        loaded.normalization,
        array,
        context_slices=loaded.context_slices,
        device=resolve_device(device),
        slices=loaded.context_slices + depth * np.arange(count),
        noise_levels=np.repeat(np.asarray(levels, dtype=np.float32), depth),
        noise_scale_hu=loaded.noise_scale_hu,
        restore_outside_window=False,
    )
    noisy = np.ascontiguousarray(slabs[:, loaded.context_slices], dtype=np.float32)
    # As denoise_volume: a 2.5D model's restored band is its slab's.
    k = loaded.context_slices
    neighbours = np.moveaxis(np.delete(slabs, k, axis=1), 1, 0)
    return {
        strength: recombine(
            noisy,
            estimate,
            loaded.normalization,
            kept_noise_fraction(strength),
            pixel_mm,
            restored_from=(
                slab_restore_source(noisy, neighbours, pixel_mm, kept_noise_fraction(strength)) if k else None
            ),
        )
        for strength in strengths
    }


def centred_rois(images: np.ndarray, centre_px: tuple[int, int], side: int) -> np.ndarray:
    """(n, side, side) ROIs of images (n, H, W): rows and columns centre - side // 2 onwards.

    With an even side the ROI's centre lies half a pixel before `centre_px`, where
    `bench_lesions.lesion_image` puts a lesion drawn at `centre_px`."""
    row, column = centre_px
    half = side // 2
    if (
        row - half < 0
        or column - half < 0
        or row - half + side > images.shape[1]
        or column - half + side > images.shape[2]
    ):
        raise InputError(f"a ROI of {side} pixels at {centre_px} does not fit images of {images.shape[1:]}")
    return images[:, row - half : row - half + side, column - half : column - half + side]


def paired_observer_data(
    present: np.ndarray, absent: np.ndarray, centre_px, diameter_px: float, channel_set: str
) -> ObserverData:
    """Channel outputs of the ROIs at one site: present image r and absent image r (same
    anatomy, independent noise) form realisation r, drawn together by the bootstrap."""
    if present.shape != absent.shape:
        raise InputError(f"present images {present.shape} and absent images {absent.shape} must pair one to one")
    side = roi_side_px(diameter_px, 1.0)
    channels = channels_for(channel_set, side, diameter_px)
    realisation = np.arange(len(present))
    return observer_data(
        channel_outputs(centred_rois(present, centre_px, side), channels),
        channel_outputs(centred_rois(absent, centre_px, side), channels),
        realisation,
        realisation,
    )


def score_study(images: dict, centre_px, diameter_px: float, weights: np.ndarray) -> dict:
    """{method: {channel_set: d', AUC, intervals and, but for the input, the paired
    difference to the input with its verdict}} from {method: (present, absent)}; the input
    first."""
    figures, baseline = {}, {}
    first = next(iter(images))
    for method, (present, absent) in images.items():
        entry = {}
        for channel_set in CHANNEL_SETS:
            data = paired_observer_data(present, absent, centre_px, diameter_px, channel_set)
            observed = detectability(data, weights)
            entry[channel_set] = {key: observed[key] for key in ("d_prime", "d_prime_ci", "auc", "auc_ci")}
            if method == first:
                baseline[channel_set] = data
                continue
            versus = paired_difference(data, baseline[channel_set], weights)
            low, high = versus["difference_ci"]
            versus["verdict"] = VERDICT_WORDS[
                verdict(Interval(versus["difference"], low, high, len(present)), lower_is_better=False)
            ]
            entry[channel_set]["vs_input"] = versus
        figures[method] = entry
    return figures


def parse_method(method: str) -> tuple[str, str]:
    name, _, strength = method.partition("@")
    return name, strength or "medium"


def methods_by_model(methods) -> dict:
    """{model name: [(method, strength), ...]}: each model's network runs once for all its strengths."""
    grouped = {}
    for method in methods:
        name, strength = parse_method(method)
        grouped.setdefault(name, []).append((method, strength))
    return grouped


def evaluate_dose(
    dose: float, hu: np.ndarray, placed, args, pixel_mm: float, loaded: dict, slice_mm: float | None = None
) -> dict:
    """Every study's figures at one dose; `loaded`: {model name: LoadedModel}."""
    started = time.perf_counter()
    count = args.realisations
    models = methods_by_model(args.methods)
    context = max(model.context_slices for model in loaded.values())
    simulated = simulate_sites(hu, placed, dose, 2 * count, context, args.crop, args.seed, pixel_mm, args.device)
    grid = (pixel_mm, pixel_mm, 1.0)
    outputs = {}  # (site, lesion or None, method) -> (count, crop, crop)
    crop_errors = {}  # (site, method) -> HU
    for item in placed:
        site, centre = item.site, item.in_crop
        crops, levels = simulated[site.name]["crops"], simulated[site.name]["levels"]
        present_noisy, absent_noisy = crops[:count], crops[count:]
        lesion_free = np.clip(absent_noisy, *SCANNER_RANGE_HU)
        groups = {None: (lesion_free, levels[count:])}
        for lesion_name in site.lesions:
            # A sphere through the slab: a 2.5D model sees the lesion continue as in a scan.
            drawn = lesion_image(
                (2 * context + 1, args.crop, args.crop),
                [(LESION_BY_NAME[lesion_name], context, *centre)],
                pixel_mm,
                slice_mm,
                context,
            )
            with_lesion = present_noisy + drawn[None]
            groups[lesion_name] = (np.clip(with_lesion, *SCANNER_RANGE_HU), levels[:count])
        for lesion_name, (slabs, _) in groups.items():
            outputs[(site.name, lesion_name, INPUT)] = slabs[:, context]
        largest = max(roi_side_px(LESION_BY_NAME[name].diameter_mm, pixel_mm) for name in site.lesions)
        whole = np.clip(simulated[site.name]["last"], *SCANNER_RANGE_HU)
        for name, methods in models.items():
            k = loaded[name].context_slices
            chosen = slice(context - k, context + k + 1)
            stacked = np.concatenate([slabs[:, chosen] for slabs, _ in groups.values()])
            stacked_levels = np.concatenate([group_levels for _, group_levels in groups.values()])
            strengths = [strength for _, strength in methods]
            denoised = denoise_crops(stacked, stacked_levels, loaded[name], strengths, pixel_mm, args.device)
            for method, strength in methods:
                for index, lesion_name in enumerate(groups):
                    outputs[(site.name, lesion_name, method)] = denoised[strength][index * count : (index + 1) * count]
                reference = denoise_volume(
                    Volume(np.ascontiguousarray(whole[chosen]), spacing=grid),
                    loaded[name],
                    device=args.device,
                    strength=strength,
                ).array[k]
                error = np.abs(outputs[(site.name, None, method)][-1:] - item.cropped(reference)[None])
                crop_errors[(site.name, method)] = float(centred_rois(error, centre, largest).max())
    weights = bootstrap_weights(count, args.bootstraps, seed=args.seed)
    results = {}
    for item in placed:
        for lesion_name in item.site.lesions:
            images = {
                method: (outputs[(item.site.name, lesion_name, method)], outputs[(item.site.name, None, method)])
                for method in (INPUT, *args.methods)
            }
            diameter_px = LESION_BY_NAME[lesion_name].diameter_mm / pixel_mm
            figures = score_study(images, item.in_crop, diameter_px, weights)
            for method in args.methods:
                figures[method]["crop_error_hu"] = crop_errors[(item.site.name, method)]
            results[f"{lesion_name}@{item.site.name}"] = figures
    print(f"dose {100 * dose:g}%: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return results


def _interval(pair) -> str:
    return f"[{pair[0]:.2f},{pair[1]:.2f}]"


def print_table(results: dict) -> None:
    header = (
        f"{'dose':>6} {'study':<26}{'method':<14}{'d_LG':>8}{'95% CI':>18}{'d-d_in':>8}{'95% CI':>16}"
        f"{'verdict':>8}{'AUC':>7}{'d_DDOG':>8}{'crop_err':>9}"
    )
    print(header)
    print("-" * len(header))
    for dose, studies in results.items():
        for study, methods in studies.items():
            for method, entry in methods.items():
                lg = entry["laguerre_gauss"]
                versus = lg.get("vs_input")
                crop_error = entry.get("crop_error_hu")
                print(
                    f"{dose:>5}% {study:<26}{method:<14}{lg['d_prime']:>8.2f}{_interval(lg['d_prime_ci']):>18}"
                    f"{versus['difference'] if versus else 0.0:>8.2f}"
                    f"{_interval(versus['difference_ci']) if versus else '-':>16}"
                    f"{versus['verdict'] if versus else '-':>8}{lg['auc']:>7.3f}"
                    f"{entry['dense_dog']['d_prime']:>8.2f}{'-' if crop_error is None else f'{crop_error:.3f}':>9}"
                )


def _loaded_models(parser: argparse.ArgumentParser, methods) -> dict:
    """{model name: LoadedModel}, every method's model found and strength valid."""
    if INPUT in methods:
        parser.error("--methods: the input is always scored; leave it out")
    loaded = {}
    for name, strengths in methods_by_model(methods).items():
        try:
            for _, strength in strengths:
                dose_multiple(strength)
            loaded[name] = resolve_model(name)
            if loaded[name].normalization.kind != "hu":
                raise InputError(f"model {name} was trained on 8-bit PNG slices; it cannot denoise CT in HU")
        except (InputError, CheckpointError) as error:
            parser.error(f"--methods {' '.join(method for method, _ in strengths)}: {error}")
    return loaded


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--realct", type=Path, required=True, help="folder of the real CT volumes")
    parser.add_argument(
        "--doses", type=float, nargs="+", help=f"dose fractions (default {' '.join(f'{d:g}' for d in DOSES)})"
    )
    parser.add_argument(
        "--realisations",
        type=int,
        help=f"signal-present realisations per dose and study, as many signal-absent (default {REALISATIONS})",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help=f"the full study: doses {' '.join(f'{d:g}' for d in ALL_DOSES)} and {FULL_REALISATIONS} realisations "
        "(--doses and --realisations still win)",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        default=list(DEFAULT_METHODS),
        help=f"MODEL@STRENGTH, a bundled name or checkpoint (default {' '.join(DEFAULT_METHODS)}); "
        "the input is always scored",
    )
    parser.add_argument(
        "--crop", type=int, default=CROP_PX, help=f"pixels per side of the denoised crop (default {CROP_PX})"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the realisations and the bootstrap (default 0)")
    parser.add_argument(
        "--bootstraps", type=int, default=BOOTSTRAPS, help=f"bootstrap draws for the intervals (default {BOOTSTRAPS})"
    )
    parser.add_argument(
        "--device", default="cpu", help="cpu, cuda or auto, for the simulator and the network (default cpu)"
    )
    args = parser.parse_args(argv)
    if args.doses is None:
        args.doses = list(ALL_DOSES if args.full else DOSES)
    if args.realisations is None:
        args.realisations = FULL_REALISATIONS if args.full else REALISATIONS
    volume_path = args.realct / f"{VALIDATION_VOLUME}.nrrd"
    if not volume_path.is_file():
        parser.error(f"--realct {args.realct}: {VALIDATION_VOLUME}.nrrd is missing")
    for dose in args.doses:
        if not 0.0 < dose <= 1.0:
            parser.error(f"--doses {dose:g}: a dose is a fraction of the scan's, above 0 and at most 1")
    if args.realisations < MIN_REALISATIONS:
        parser.error(
            f"--realisations {args.realisations}: at least {MIN_REALISATIONS} are needed for the observer's "
            "covariance in every bootstrap draw"
        )
    if args.bootstraps < 100:
        parser.error(f"--bootstraps {args.bootstraps}: at least 100 are needed for a 95% interval")
    if args.seed < 0:
        parser.error(f"--seed {args.seed}: a non-negative integer is needed")
    try:
        resolve_device(args.device)
    except InputError as error:
        parser.error(f"--device {args.device}: {error}")
    loaded = _loaded_models(parser, args.methods)
    volume = read_volume(volume_path)
    pixel_mm = volume.pixel_spacing_mm
    smallest_crop = 2 * max(roi_side_px(lesion.diameter_mm, pixel_mm) for lesion in LESIONS)
    if args.crop < smallest_crop or args.crop % 2:
        parser.error(f"--crop {args.crop}: an even number of pixels, at least {smallest_crop} (two of the largest ROI)")
    torch.set_num_threads(1)
    hu = volume.array
    placed = [place_site(hu, site, pixel_mm, args.crop) for site in SITES]
    for item in placed:
        print(
            f"site {item.site.name}: slice {item.site.slice_index}, row {item.row}, column {item.column}",
            file=sys.stderr,
        )
    started = time.perf_counter()
    results = {
        f"{100 * dose:g}": evaluate_dose(dose, hu, placed, args, pixel_mm, loaded, volume.spacing[2])
        for dose in args.doses
    }
    print_table(results)
    print(
        f"{args.realisations} signal-present and {args.realisations} signal-absent realisations per dose and study, "
        f"{args.crop} px crops; {time.perf_counter() - started:.0f} s"
    )
    print(json.dumps(json_ready(results, digits=4)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
