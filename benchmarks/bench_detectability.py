"""Task-based image quality on the low-contrast phantom: can a reader still see faint lesions?

The phantom (`ipv2.phantom.low_contrast`, CCT189 layout: 200 mm water cylinder, discs of
3/5/7/10 mm at +14/+7/+5/+3 HU, three copies each and six disc-free sites per slice) is
simulated by the project's physical simulator (standard kernel, full reconstruction) at
each dose, `--realisations` times with independent noise; a second slice of 25 mm rods at
+15 and +120 HU gives the task transfer function. No model was trained on these images.

Methods: `input` (the noisy images), every `MODEL@STRENGTH` (a bundled name or checkpoint;
default the default model at low, medium and high) and the classical `bm3d` / `nlm`. Every
method sees the same realisations of the scored slice. The discs and rods are rods along z,
as in the CCT189 phantom, so a model that reads k neighbouring slices on each side (2.5D) is
given each realisation inside its own slab: k slices on each side of the same phantom slice,
each with noise of its own (further realisations under other seeds), as a scanner gives them.

Figures per dose, method and disc: d' of a channelized Hotelling observer with
Laguerre-Gauss channels (and with dense difference-of-Gaussians channels) and its 95 %
bootstrap interval over realisations, the paired difference to the input's d' with its
interval, the AUC, the contrast kept against the noise-free reconstruction, and the
contrast kept read free of noise (`kept_paired`: the method's output for the realisations
minus its output for the same realisations with the noise-free discs subtracted, so the
noise cancels; 1 for the input by construction); per dose and
method: noise per pixel and as a 7.7 mm box mean (across realisations, in disc-free water),
the NPS mean frequency and its ratio to the input's, the TTF's f50 at +15 and +120 HU.
Prints two tables and, as its LAST line, one JSON object
{dose_percent: {method: {"inserts": {diameter_mm: {...}}, "pixel_noise_hu", ...}}}.

    # defaults: about 16 min on 2 shared cores (with the paired contrast)
    python benchmarks/bench_detectability.py
    python benchmarks/bench_detectability.py --realisations 24 --doses 0.1 1.0 --ttf-realisations 8
    python benchmarks/bench_detectability.py --methods unet@medium bm3d
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
from slab_support import INPUT, widest_context

from ipv2.errors import InputError
from ipv2.evaluate.low_contrast import (
    ensemble_noise,
    insert_contrast,
    observer_data_for,
    paired_contrast_kept,
    water_nps,
)
from ipv2.evaluate.observer import CHANNEL_SETS, bootstrap_weights, detectability, paired_difference
from ipv2.evaluate.report import json_ready
from ipv2.evaluate.ttf import disc_ttf
from ipv2.models.registry import DEFAULT_MODEL
from ipv2.phantom.low_contrast import (
    DEFAULT_PIXEL_MM,
    DEFAULT_SIZE,
    INSERTS,
    TTF_ROD_CONTRASTS_HU,
    noise_free_reference,
    render_low_contrast_slice,
    render_ttf_slice,
    simulate_realisations,
)
from ipv2.volume import Volume

DOSES = (0.01, 0.02, 0.10, 0.25, 0.55, 1.00)
DEFAULT_METHODS = tuple(f"{DEFAULT_MODEL}@{strength}" for strength in ("low", "medium", "high"))
REALISATIONS = 80
TTF_REALISATIONS = 24
BOOTSTRAPS = 2000
KERNEL = "standard"
TTF_SEED_OFFSET = 1  # the rods' slice takes the next seed: its noise is not the discs' noise
# The neighbouring slices of slab position j take seed + j * NEIGHBOUR_SEED_STEP: far from the
# seeds a user gives and from the rods' offset, so no two slices share noise.
NEIGHBOUR_SEED_STEP = 1_000_003
DENOISE_CHUNK = 32


def simulate_neighbours(slice_, dose: float, count: int, seed: int, context: int) -> list[np.ndarray]:
    """Realisations of the 2 `context` slices around each scored one, slab position -k .. -1, 1 .. k."""
    positions = [j for j in range(-context, context + 1) if j]
    return [
        simulate_realisations(slice_, dose, count, seed=seed + (index + 1) * NEIGHBOUR_SEED_STEP, kernel=KERNEL)
        for index, _ in enumerate(positions)
    ]


def as_slabs(stack: np.ndarray, neighbours: list[np.ndarray], context: int) -> np.ndarray:
    """(n * (2 context + 1), H, W): realisation i's slab, its slices in order, then realisation i + 1's."""
    if context == 0:
        return stack
    if len(neighbours) < 2 * context:
        raise ValueError(f"{len(neighbours)} neighbouring realisations for a model reading {context} on each side")
    # `neighbours` may hold more positions than this model reads: the nearest ones are taken.
    widest = len(neighbours) // 2
    before, after = neighbours[widest - context : widest], neighbours[widest : widest + context]
    slabs = np.stack([*before, stack, *after], axis=1)
    return slabs.reshape((-1,) + stack.shape[1:])


def _denoise_stack(stack: np.ndarray, method: str, pixel_mm: float, neighbours=()) -> np.ndarray:
    from ipv2.denoise.classical import CLASSICAL_DENOISERS, denoise_volume_classical
    from ipv2.denoise.inference import denoise_volume, resolve_model

    spacing = (pixel_mm, pixel_mm, 1.0)
    if method in CLASSICAL_DENOISERS:
        return np.concatenate(
            [
                denoise_volume_classical(Volume(stack[i : i + 1], spacing=spacing), method).array
                for i in range(len(stack))
            ]
        )
    name, _, strength = method.partition("@")
    model = resolve_model(name)
    # Realisations are denoised together, each slice's noise level measured on itself; a 2.5D
    # model reads each inside its own slab, whose centre is kept (the slab's outer slices read
    # the next slab and are discarded).
    depth = 2 * model.context_slices + 1
    slabs = as_slabs(stack, list(neighbours), model.context_slices)
    step = DENOISE_CHUNK * depth
    return np.concatenate(
        [
            denoise_volume(
                Volume(np.ascontiguousarray(slabs[i : i + step]), spacing=spacing),
                model,
                device="cpu",
                strength=strength or "medium",
            ).array[model.context_slices :: depth]
            for i in range(0, len(slabs), step)
        ]
    )


def _ttf_figures(images: np.ndarray, ttf_slice, noise_hu: float) -> dict:
    figures = {}
    for contrast in sorted(set(TTF_ROD_CONTRASTS_HU)):
        rods = [site for site in ttf_slice.sites if site.contrast_hu == contrast]
        result = disc_ttf(
            images,
            [ttf_slice.centre_px(site) for site in rods],
            rods[0].diameter_mm / 2.0 / ttf_slice.pixel_mm,
            ttf_slice.pixel_mm,
            noise_hu=noise_hu,
        )
        figures[f"{contrast:g}"] = {
            key: result[key]
            for key in ("f50_cycles_per_mm", "f10_cycles_per_mm", "contrast_hu", "cnr_total", "reliable")
        }
    return figures


def evaluate_dose(dose: float, methods, args, phantom, ttf_slice, reference, disc_reference, context: int = 0) -> dict:
    """`context`: the most neighbouring slices any of `methods` reads (`widest_context`)."""
    started = time.perf_counter()
    noisy = simulate_realisations(phantom, dose, args.realisations, seed=args.seed, kernel=KERNEL)
    noisy_rods = simulate_realisations(
        ttf_slice, dose, args.ttf_realisations, seed=args.seed + TTF_SEED_OFFSET, kernel=KERNEL
    )
    neighbours = simulate_neighbours(phantom, dose, args.realisations, args.seed, context)
    neighbour_rods = simulate_neighbours(ttf_slice, dose, args.ttf_realisations, args.seed + TTF_SEED_OFFSET, context)
    weights = bootstrap_weights(args.realisations, args.bootstraps, seed=args.seed)
    results, baseline = {}, {}
    for method in (INPUT,) + tuple(methods):
        method_started = time.perf_counter()
        images = noisy if method == INPUT else _denoise_stack(noisy, method, phantom.pixel_mm, neighbours)
        # The same realisations without the discs (rods: in the neighbours too): what the
        # method makes of the discs alone.
        without = (
            noisy - disc_reference
            if method == INPUT
            else _denoise_stack(
                noisy - disc_reference,
                method,
                phantom.pixel_mm,
                [image - disc_reference for image in neighbours],
            )
        )
        rods = noisy_rods if method == INPUT else _denoise_stack(noisy_rods, method, phantom.pixel_mm, neighbour_rods)
        noise = ensemble_noise(images, phantom)
        nps = water_nps(images, phantom)
        inserts = {}
        for diameter, _ in INSERTS:
            entry = insert_contrast(images, phantom, diameter, reference)
            paired = paired_contrast_kept(images, without, phantom, diameter, disc_reference)
            entry["paired_contrast_kept"], entry["paired_contrast_kept_ci"] = (
                paired["contrast_kept"],
                paired["contrast_kept_ci"],
            )
            for channel_set in CHANNEL_SETS:
                data = observer_data_for(images, phantom, diameter, channel_set)
                observed = detectability(data, weights)
                entry[channel_set] = {key: observed[key] for key in ("d_prime", "d_prime_ci", "auc", "auc_ci")}
                if method == INPUT:
                    baseline[(diameter, channel_set)] = data
                else:
                    entry[channel_set]["vs_input"] = paired_difference(data, baseline[(diameter, channel_set)], weights)
            inserts[f"{diameter:g}"] = entry
        results[method] = {
            "inserts": inserts,
            **noise,
            "nps_mean_cycles_per_mm": None if nps is None else nps["mean_cycles_per_mm"],
            "nps_peak_cycles_per_mm": None if nps is None else nps["peak_cycles_per_mm"],
            "ttf": _ttf_figures(rods, ttf_slice, noise["pixel_noise_hu"]),
            "seconds": time.perf_counter() - method_started,
        }
    input_frequency = results[INPUT]["nps_mean_cycles_per_mm"]
    input_lesion = results[INPUT]["lesion_noise_hu"]
    for figures in results.values():
        frequency = figures["nps_mean_cycles_per_mm"]
        figures["nps_mean_ratio"] = None if frequency is None or not input_frequency else frequency / input_frequency
        figures["lesion_noise_reduction"] = (
            input_lesion / figures["lesion_noise_hu"] if figures["lesion_noise_hu"] else None
        )
    print(f"dose {100 * dose:g}%: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return results


def _cell(value, digits=2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _interval(pair, digits=2) -> str:
    return "-" if pair is None else f"[{pair[0]:.{digits}f},{pair[1]:.{digits}f}]"


def print_tables(results: dict) -> None:
    header = (
        f"{'dose':>6} {'method':<14}{'disc':>6}{'d_LG':>7}{'95% CI':>15}{'d-d_in':>8}{'95% CI':>16}"
        f"{'d_DDOG':>8}{'AUC_LG':>8}{'contrast':>10}{'kept':>7}{'kept_paired':>12}{'95% CI':>14}"
    )
    print(header)
    print("-" * len(header))
    for dose, methods in results.items():
        for method, figures in methods.items():
            for diameter, entry in figures["inserts"].items():
                lg, dog = entry["laguerre_gauss"], entry["dense_dog"]
                versus = lg.get("vs_input")
                print(
                    f"{dose:>5}% {method:<14}{diameter + 'mm':>6}{_cell(lg['d_prime']):>7}"
                    f"{_interval(lg['d_prime_ci']):>15}"
                    f"{_cell(versus['difference'] if versus else None):>8}"
                    f"{_interval(versus['difference_ci'] if versus else None):>16}"
                    f"{_cell(dog['d_prime']):>8}{_cell(lg['auc'], 3):>8}"
                    f"{_cell(entry['contrast_hu'], 1):>10}{_cell(entry['contrast_kept']):>7}"
                    f"{_cell(entry['paired_contrast_kept']):>12}{_interval(entry['paired_contrast_kept_ci']):>14}"
                )
    print()
    header = (
        f"{'dose':>6} {'method':<14}{'noise_px':>9}{'noise_7.7mm':>12}{'lesion_x':>9}{'nps_mean':>9}"
        f"{'nps_ratio':>10}{'f50@15HU':>9}{'f50@120HU':>10}{'s':>6}"
    )
    print(header)
    print("-" * len(header))
    for dose, methods in results.items():
        for method, figures in methods.items():
            ttf = figures["ttf"]
            f50 = {key: value["f50_cycles_per_mm"] for key, value in ttf.items()}
            reliable = {key: "" if value["reliable"] else "*" for key, value in ttf.items()}
            print(
                f"{dose:>5}% {method:<14}{_cell(figures['pixel_noise_hu']):>9}{_cell(figures['lesion_noise_hu']):>12}"
                f"{_cell(figures['lesion_noise_reduction']):>9}{_cell(figures['nps_mean_cycles_per_mm'], 3):>9}"
                f"{_cell(figures['nps_mean_ratio']):>10}{_cell(f50.get('15'), 3) + reliable.get('15', ''):>9}"
                f"{_cell(f50.get('120'), 3) + reliable.get('120', ''):>10}{figures['seconds']:>6.0f}"
            )
    print("(* TTF below TG-233's total contrast-to-noise ratio of 15: unreliable)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--realisations",
        type=int,
        default=REALISATIONS,
        help=f"noise realisations of the disc slice per dose (default {REALISATIONS}: three "
        "ROIs per disc size and six signal-absent ROIs each)",
    )
    parser.add_argument(
        "--ttf-realisations",
        type=int,
        default=TTF_REALISATIONS,
        help=f"realisations of the rods' slice per dose (default {TTF_REALISATIONS})",
    )
    parser.add_argument(
        "--doses",
        type=float,
        nargs="+",
        default=list(DOSES),
        help="dose fractions (default 0.01 0.02 0.10 0.25 0.55 1.0)",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        default=list(DEFAULT_METHODS),
        help="MODEL@STRENGTH (bundled name or checkpoint; strength low, medium, high or a number), "
        f"bm3d or nlm (default {' '.join(DEFAULT_METHODS)}); the input is always scored",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the realisations and the bootstrap (default 0)")
    parser.add_argument(
        "--bootstraps", type=int, default=BOOTSTRAPS, help=f"bootstrap draws for the intervals (default {BOOTSTRAPS})"
    )
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE, help=f"pixels per side (default {DEFAULT_SIZE})")
    parser.add_argument(
        "--pixel-mm", type=float, default=DEFAULT_PIXEL_MM, help=f"pixel size in mm (default {DEFAULT_PIXEL_MM})"
    )
    args = parser.parse_args(argv)
    if args.realisations < 8:
        parser.error(f"--realisations {args.realisations}: at least 8 are needed for the observer's covariance")
    if args.ttf_realisations < 2:
        parser.error(f"--ttf-realisations {args.ttf_realisations}: at least 2 are needed")
    if args.bootstraps < 100:
        parser.error(f"--bootstraps {args.bootstraps}: at least 100 are needed for a 95% interval")
    if args.seed < 0:
        parser.error(f"--seed {args.seed}: a non-negative integer is needed")
    for dose in args.doses:
        if not 0.0 < dose <= 1.0:
            parser.error(f"--doses {dose:g}: a dose is a fraction of full dose, above 0 and at most 1")
    if INPUT in args.methods:
        parser.error("--methods: the input is always scored; leave it out")
    phantom = render_low_contrast_slice(args.size, args.pixel_mm)
    ttf_slice = render_ttf_slice(args.size, args.pixel_mm)
    reference = noise_free_reference(phantom, kernel=KERNEL)
    disc_reference = reference - noise_free_reference(
        render_low_contrast_slice(args.size, args.pixel_mm, discs=False), kernel=KERNEL
    )
    # Every method runs once on the reference (model found, strength valid) before the long work.
    try:  # every model found before minutes of work
        context = widest_context(args.methods)
    except InputError as error:
        parser.error(f"--methods: {error}")
    for method in args.methods:
        _denoise_stack(reference[None], method, phantom.pixel_mm, [reference[None]] * (2 * context))
    started = time.perf_counter()
    results = {
        f"{100 * dose:g}": evaluate_dose(
            dose, args.methods, args, phantom, ttf_slice, reference, disc_reference, context
        )
        for dose in args.doses
    }
    print_tables(results)
    print(
        f"{args.realisations} realisations x (3 discs per size, 6 disc-free sites) per dose, "
        f"{args.ttf_realisations} of the rods; {time.perf_counter() - started:.0f} s"
    )
    print(json.dumps(json_ready(results, digits=4)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
