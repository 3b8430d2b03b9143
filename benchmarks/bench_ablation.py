r"""Ablation: which training pairs make a denoiser restore background and lung parenchyma?

On built-in phantoms (training and test pairs from different seeds), each architecture is
trained under each pairing strategy and scored on the test uLDCT against the IPv2 label and
against the true clean volume, which phantoms have and real scans do not.

Strategies: `naive` (uLDCT -> NDCT, misaligned lungs and all), `ipv1`, `ipv2_rb` (Remove
Background only), `ipv2_an` (Add noise only), `ipv2` (both), `ipv2m` (IPv2 with every motion
rule) and each motion rule alone on top of IPv2: `ipv2m_background` (agreed background),
`ipv2m_field` (lung field) and `ipv2m_blend` (stitch blend).

`--seeds N` repeats the whole ablation N times with the training phantoms, the test phantom
and the training seed all changed together (seed k moves every phantom seed by
k*SEED_STRIDE and trains with seed k; no replicate's test phantom is any replicate's
training phantom). Each cell is the mean over seeds with its 95% Student-t interval, and
every strategy is compared with `ipv1` and with `ipv2` seed by seed: the mean paired
difference of RMSE against the truth, its 95% t-interval over the per-seed differences, and
the verdict "wins" or "loses" only where that interval excludes zero (and lies beyond the
tables' resolution, NEGLIGIBLE_HU), "ties" otherwise (`ipv2.evaluate.paired_intervals`).
Replicate 0 is the single run's seeds.

The quick setting is small but not easy: its phantom size and dose are chosen so that the
uLDCT's noise in soft tissue and lung is that of the default 512x512 pair at 2% (within
20%); both are measured and printed at the start of every run. Torch runs with
deterministic algorithms and a fixed thread count (one for the quick setting unless
`--threads` says otherwise): the same command gives the same figures.

    python benchmarks/bench_ablation.py --quick --seeds 5 \
        --strategies ipv1,ipv2_an,ipv2,ipv2m,ipv2m_background,ipv2m_field,ipv2m_blend
    python benchmarks/bench_ablation.py --quick --steps 20 --strategies ipv1,ipv2m --architectures unet  # smoke
    # the full setting (the default 512x512 pair), for a GPU:
    python benchmarks/bench_ablation.py --seeds 5 --device cuda

Prints the uLDCT noise against the default pair's, how far each strategy's training target
lies from the noise-free scene its input shows (which is what a network learns to paint),
a table of means with intervals, the background and lung split near and far from their
borders, the paired differences and verdicts per architecture, the strategies that win
against `ipv2` in background and lung for every architecture, then as its last line one
JSON object {"seeds", "threads", "wall_s", "rmse_hu": {architecture: {strategy: {region:
{mean, low, high, count, per_seed}}}}, "paired": {architecture: {strategy: {reference:
{region: {mean, low, high, count, verdict}}}}}, "wins_against_ipv2_everywhere": [...]}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from scipy import ndimage

from ipv2.denoise.inference import denoise_volume
from ipv2.errors import InputError
from ipv2.evaluate import evaluate_volumes
from ipv2.evaluate.paired_intervals import Interval, mean_interval, paired_difference, verdict
from ipv2.evaluate.report import json_ready
from ipv2.io import write_volume
from ipv2.masks import compute_region_masks
from ipv2.phantom import TISSUES, Acquisition, PhantomOptions, generate_phantom_pair
from ipv2.purify import PurifyOptions, purify_volumes
from ipv2.purify.pairs import disagreement_band, lung_field, purification_region, stitch_weights
from ipv2.purify.pipeline import simulate_ndct
from ipv2.training import TrainConfig, train

STRATEGIES = ("naive", "ipv1", "ipv2_rb", "ipv2_an", "ipv2", "ipv2m", "ipv2m_background", "ipv2m_field", "ipv2m_blend")
REGIONS = ("background", "lung", "body")
EDGE_PX = 2
BANDS = ("background far", "background near", "lung core", "lung edge")
STRATEGY_OPTIONS = {
    "ipv1": dict(mode="ipv1"),
    "ipv2_rb": dict(mode="ipv2", remove_background=True, add_noise=False),
    "ipv2_an": dict(mode="ipv2", remove_background=False, add_noise=True),
    "ipv2": dict(mode="ipv2", remove_background=True, add_noise=True),
    "ipv2m": dict(mode="ipv2m"),
    "ipv2m_background": dict(mode="ipv2m", agreed_background=True, lung_field=False, stitch_blend_px=0),
    "ipv2m_field": dict(mode="ipv2m", agreed_background=False, lung_field=True, stitch_blend_px=0),
    "ipv2m_blend": dict(mode="ipv2m", agreed_background=False, lung_field=False),
}
# The uLDCT noise the quick setting must match, and how closely.
REFERENCE_SIZE, REFERENCE_DOSE, REFERENCE_SLICES = 512, 0.02, 4
NOISE_TOLERANCE = 0.20
SOFT_TISSUES = ("fat", "muscle", "blood", "myocardium", "liver", "spleen")
NOISE_TISSUES = {"soft tissue": SOFT_TISSUES, "lung": ("lung parenchyma",)}


@dataclass
class Setting:
    size: int
    dose: float
    train_slices: int
    test_slices: int
    train_seeds: list[int]
    test_seed: int
    steps: int
    patch: int
    batch: int
    lr: float
    loss: str
    warmup_steps: int
    architectures: dict[str, dict] = field(default_factory=dict)


# Narrower variants of the registered networks and 300 steps of 8 patches of 32^2 keep five
# seeds of seven strategies within the hour on one core of the shared 2-core machine
# (measured 0.32 s per step of 40^2 for the three networks together, one thread; the
# denoising of the test phantom adds 5 s per strategy). Mean squared error, as the bundled
# weights are trained: with L1, a target that equals the input over most of a patch (IPv1's
# lung and background) pins the median correction at zero and a short run ends where it
# started. 192 pixels over the phantom's 358 mm are 1.86 mm pixels, which average the noise
# down; at 1.1% dose the uLDCT's noise is the default 512x512 pair's at 2% (measured: soft
# tissue 49 against 52 HU, lung 45 against 49 HU, on the phantom with textured lungs and
# the upper abdomen).
QUICK = Setting(
    size=192,
    dose=0.011,
    train_slices=12,
    test_slices=8,
    train_seeds=[11],
    test_seed=1000,
    steps=300,
    patch=32,
    batch=8,
    lr=1e-3,
    loss="mse",
    warmup_steps=25,
    architectures={"unet": {"widths": [8, 16, 32, 64]}, "dncnn": {"depth": 8, "width": 32}, "redcnn": {"width": 32}},
)
FULL = Setting(
    size=REFERENCE_SIZE,
    dose=REFERENCE_DOSE,
    train_slices=48,
    test_slices=24,
    train_seeds=[11, 12, 13],
    test_seed=1000,
    steps=4000,
    patch=96,
    batch=16,
    lr=2e-4,
    loss="mse",
    warmup_steps=200,
    architectures={"unet": {}, "dncnn": {}, "redcnn": {}, "restormer": {}},
)


# Seed k of `--seeds` moves every phantom seed by k*SEED_STRIDE; the settings' own phantom
# seeds lie below it, so no replicate's test phantom is any replicate's training phantom.
SEED_STRIDE = 1000
QUICK_THREADS = 1


@dataclass(frozen=True)
class Replicate:
    """One seed of the ablation: its training phantoms, test phantom and training seed."""

    index: int
    train_seeds: list[int]
    test_seed: int
    training_seed: int


def replicates(setting: Setting, count: int) -> list[Replicate]:
    """The `count` seeds of a run; seed 0 is the setting's own phantoms with training seed 0."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise InputError(f"--seeds {count!r} must be a whole number of at least 1")
    runs = [
        Replicate(
            index=k,
            train_seeds=[seed + k * SEED_STRIDE for seed in setting.train_seeds],
            test_seed=setting.test_seed + k * SEED_STRIDE,
            training_seed=k,
        )
        for k in range(count)
    ]
    trained = {seed for run_ in runs for seed in run_.train_seeds}
    tested = {run_.test_seed for run_ in runs}
    if trained & tested or len(tested) != count:
        raise InputError(
            f"phantom seeds {sorted(trained & tested)} would be both trained on and tested; "
            f"the setting's seeds must differ modulo {SEED_STRIDE}"
        )
    return runs


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def edge_bands(masks) -> dict[str, np.ndarray]:
    """Background and lung split at EDGE_PX pixels (in-plane) from their borders.

    Breathing moves the body outline and the lungs between the two scans, so an NDCT-taken
    target is wrong near those borders and right away from them: the split shows which effect
    a region's RMSE holds.
    """
    near = np.ones((1, 2 * EDGE_PX + 1, 2 * EDGE_PX + 1), dtype=bool)
    background_near = ndimage.binary_dilation(~masks.background, structure=near) & masks.background
    lung_core = ndimage.binary_erosion(masks.lung, structure=near) & masks.lung
    return {
        "background far": masks.background & ~background_near,
        "background near": background_near,
        "lung core": lung_core,
        "lung edge": masks.lung & ~lung_core,
    }


def uldct_noise(pair) -> dict[str, float]:
    """Standard deviation of `uldct - truth` (the noise alone) in soft tissue and lung parenchyma, HU."""
    noise = pair.uldct.array.astype(np.float64) - pair.truth.array
    tissues = pair.tissues.array
    return {
        name: float(np.std(noise[np.isin(tissues, [TISSUES[t].id for t in names])]))
        for name, names in NOISE_TISSUES.items()
    }


def noise_match(setting: Setting, device: str) -> str:
    """The setting's uLDCT noise against the default pair's, one line per tissue."""
    reference = uldct_noise(
        generate_phantom_pair(
            Acquisition.resolve(REFERENCE_SIZE, REFERENCE_SLICES, slice_mm=2.5),
            PhantomOptions(seed=setting.test_seed, dose=REFERENCE_DOSE),
            device=device,
        )
    )
    ours = uldct_noise(
        generate_phantom_pair(
            Acquisition.resolve(setting.size, REFERENCE_SLICES, slice_mm=2.5),
            PhantomOptions(seed=setting.test_seed, dose=setting.dose),
            device=device,
        )
    )
    lines = [
        f"uLDCT noise (std of uLDCT - truth), this setting ({setting.size}x{setting.size}, dose {setting.dose:g}) "
        f"against the default {REFERENCE_SIZE}x{REFERENCE_SIZE} pair at dose {REFERENCE_DOSE:g}:"
    ]
    for name in NOISE_TISSUES:
        ratio = ours[name] / reference[name]
        within = "within" if abs(ratio - 1.0) <= NOISE_TOLERANCE else "NOT within"
        lines.append(
            f"  {name:<12}{ours[name]:7.1f} HU against {reference[name]:7.1f} HU "
            f"({ratio:.2f}x, {within} {NOISE_TOLERANCE:.0%})"
        )
    return "\n".join(lines)


def band_rmse(prediction, truth, bands: dict[str, np.ndarray]) -> dict[str, float]:
    error = prediction.array.astype(np.float64) - truth.array
    return {
        name: float(np.sqrt(np.mean(error[mask] ** 2))) if mask.any() else float("nan") for name, mask in bands.items()
    }


PAIR_REGIONS = ("band", "field holes", "body near field", "all")
NEAR_FIELD_PX = 3


def simulated_share(options: PurifyOptions | None, masks) -> np.ndarray:
    """`w`, the share of sim(gt) in each voxel of the strategy's training input."""
    if options is None or not options.add_noise:
        return np.zeros(masks.shape, dtype=np.float32)
    rules = options.motion_rules
    region = purification_region(masks, options.remove_background, bool(rules and rules.lung_field))
    return stitch_weights(region, masks.background, rules.stitch_blend_px if rules else 0)


def pair_consistency(pair, masks, options: PurifyOptions | None, target) -> dict[str, float]:
    """RMSE of the training target against the noise-free scene its input shows, by region.

    The input shows the uLDCT's breathing state where it is the uLDCT and the NDCT's where it
    is sim(gt): the scene is `w*ndct_clean + (1-w)*truth`. What is left is the target's noise
    plus whatever it takes from the other breathing state, which a network learns to paint.
    Regions: the background band the scans disagree on, the lung field's holes (vessels,
    nodules), the body within NEAR_FIELD_PX pixels of the lung field, and everything.
    """
    share = simulated_share(options, masks)
    scene = share * pair.ndct_clean.array + (1.0 - share) * pair.truth.array
    error = np.asarray(target.array, dtype=np.float64) - scene
    field = lung_field(masks)
    near = np.ones((1, 2 * NEAR_FIELD_PX + 1, 2 * NEAR_FIELD_PX + 1), dtype=bool)
    regions = {
        "band": disagreement_band(masks),
        "field holes": field & ~masks.lung,
        "body near field": ndimage.binary_dilation(field, structure=near) & ~field & ~masks.background,
        "all": np.ones(masks.shape, dtype=bool),
    }
    return {
        name: float(np.sqrt(np.mean(error[mask] ** 2))) if mask.any() else float("nan")
        for name, mask in regions.items()
    }


def consistency_table(consistency: dict[str, dict[str, float]], seed: int) -> str:
    head = f"{'strategy':<18}" + "".join(f"{name:>17}" for name in PAIR_REGIONS)
    lines = [
        f"Training target against the noise-free scene its input shows, RMSE in HU (phantom seed {seed})",
        head,
        "-" * len(head),
    ]
    for strategy, by_region in consistency.items():
        lines.append(f"{strategy:<18}" + "".join(f"{by_region[name]:>17.1f}" for name in PAIR_REGIONS))
    return "\n".join(lines)


def training_pairs(setting: Setting, train_seeds: list[int], strategies, device: str, work: Path):
    """Writes each training phantom's pair under each strategy; returns folders by strategy and
    the first phantom's `pair_consistency` by strategy."""
    folders: dict[str, list[Path]] = {strategy: [] for strategy in strategies}
    consistency: dict[str, dict[str, float]] = {}
    for seed in train_seeds:
        pair = generate_phantom_pair(
            Acquisition.resolve(setting.size, setting.train_slices), PhantomOptions(seed=seed, dose=setting.dose)
        )
        masks = compute_region_masks(pair.uldct.array, pair.ndct.array, spacing=pair.uldct.spacing)
        options_of = {
            s: PurifyOptions(seed=seed, device=device, dose=setting.dose, **STRATEGY_OPTIONS[s]).checked()
            for s in strategies
            if s != "naive"
        }
        simulated = None
        if any(options.add_noise for options in options_of.values()):
            simulated = simulate_ndct(
                pair.ndct, PurifyOptions(seed=seed, device=device, dose=setting.dose).checked(), None
            )
        for strategy in strategies:
            folder = work / "train" / strategy / f"seed{seed}"
            options = None
            if strategy == "naive":
                inputs, target = pair.uldct, pair.ndct
            else:
                options = options_of[strategy]
                # Only the agreed background puts weak(lq) in a training target; elsewhere the
                # label is not needed and the weak denoiser is skipped.
                if not options.agreed_background:
                    options = PurifyOptions(**{**options.as_dict(), "weak": "none"})
                result = purify_volumes(pair.uldct, pair.ndct, options, masks=masks, simulated_gt=simulated)
                inputs, target = result.train_input, result.train_target
            write_volume(inputs, folder / "train_input.nrrd")
            write_volume(target, folder / "train_target.nrrd")
            folders[strategy].append(folder)
            if seed == train_seeds[0]:
                consistency[strategy] = pair_consistency(pair, masks, options, target)
        log(f"training pairs of phantom seed {seed} written")
    return folders, consistency


def run(setting: Setting, replicate: Replicate, architectures, strategies, device: str, work: Path):
    """One seed of the ablation: results {architecture: {strategy: report}} and the first
    training phantom's target-consistency table."""
    started, cpu_started = time.perf_counter(), time.process_time()
    work = work / f"seed{replicate.index}"
    test = generate_phantom_pair(
        Acquisition.resolve(setting.size, setting.test_slices),
        PhantomOptions(seed=replicate.test_seed, dose=setting.dose),
    )
    purified = purify_volumes(
        test.uldct, test.ndct, PurifyOptions(mode="ipv2", seed=replicate.test_seed, device=device, dose=setting.dose)
    )
    labelmap = purified.masks.labelmap()
    baseline = evaluate_volumes(test.uldct, purified.eval_label, labelmap, test.truth)
    bands = edge_bands(purified.masks)
    baseline["bands"] = band_rmse(test.uldct, test.truth, bands)
    log(
        f"seed {replicate.index}: test pair of phantom seed {replicate.test_seed} ready "
        f"({time.perf_counter() - started:.0f} s)"
    )
    folders, consistency = training_pairs(setting, replicate.train_seeds, strategies, device, work)
    log(consistency_table(consistency, replicate.train_seeds[0]))

    results: dict[str, dict[str, dict]] = {"uLDCT (no denoising)": {"-": baseline}}
    for architecture in architectures:
        results[architecture] = {}
        for strategy in strategies:
            begun = time.perf_counter()
            checkpoint = work / "models" / f"{architecture}_{strategy}.safetensors"
            config = TrainConfig(
                data=[str(f) for f in folders[strategy]],
                out=str(checkpoint),
                model=architecture,
                model_args=setting.architectures.get(architecture, {}),
                steps=setting.steps,
                patch=setting.patch,
                batch=setting.batch,
                lr=setting.lr,
                loss=setting.loss,
                warmup_steps=setting.warmup_steps,
                seed=replicate.training_seed,
                device=device,
                checkpoint_every=0,
            )
            train(config)
            denoised = denoise_volume(test.uldct, model=str(checkpoint), device=device)
            results[architecture][strategy] = evaluate_volumes(denoised, purified.eval_label, labelmap, test.truth)
            results[architecture][strategy]["bands"] = band_rmse(denoised, test.truth, bands)
            log(
                f"seed {replicate.index} {architecture:<10} {strategy:<16} trained and scored in "
                f"{time.perf_counter() - begun:.0f} s"
            )
    # CPU time too: wall time on a shared machine says little about the benchmark itself.
    log(
        f"seed {replicate.index}: {time.perf_counter() - started:.0f} s wall, "
        f"{time.process_time() - cpu_started:.0f} s CPU"
    )
    return results, consistency_table(consistency, replicate.train_seeds[0])


BASELINE = "uLDCT (no denoising)"
REFERENCES = ("ipv1", "ipv2")
VERDICT_REGIONS = ("background", "lung")
# What a change of thread count moved a cell by (seed 0's U-Net, one thread against two:
# at most 0.05 HU in background and lung), and half the tables' 0.1 HU: an interval that
# clears zero by less carries no verdict.
NEGLIGIBLE_HU = 0.05


def verdict_of(difference: Interval) -> str:
    return verdict(difference, negligible=NEGLIGIBLE_HU)


def per_seed(runs: list[dict], architecture: str, strategy: str, region: str, against: str = "truth") -> list[float]:
    """One seed's RMSE in HU per entry, against the truth or the IPv2 label."""
    key = "prediction_vs_truth" if against == "truth" else "prediction_vs_label"
    return [results[architecture][strategy]["fidelity"][key][region]["rmse_hu"] for results in runs]


def cell(interval: Interval) -> str:
    """`mean [low, high]`, or the mean alone with one seed."""
    if interval.count < 2:
        return f"{interval.mean:.1f}"
    return f"{interval.mean:.1f} [{interval.low:.1f}, {interval.high:.1f}]"


def signed_cell(difference: Interval) -> str:
    if difference.count < 2:
        return f"{difference.mean:+.1f}"
    return f"{difference.mean:+.1f} [{difference.low:+.1f}, {difference.high:+.1f}]"


def table(runs: list[dict]) -> str:
    width = 22
    head = (
        f"{'architecture':<22}{'strategy':<18}"
        + "".join(f"{'truth ' + r[:4]:>{width}}" for r in REGIONS)
        + f"{'label lung':>12}{'SSIM lung':>10}"
    )
    lines = [
        f"RMSE in HU against the true clean volume (truth), mean over {len(runs)} seed(s) [95% t-interval]; "
        "the IPv2 label's lung RMSE and SSIM in the lung against the truth, means",
        head,
        "-" * len(head),
    ]
    for architecture, by_strategy in runs[0].items():
        for strategy in by_strategy:
            truth = "".join(
                f"{cell(mean_interval(per_seed(runs, architecture, strategy, r))):>{width}}" for r in REGIONS
            )
            label = np.mean(per_seed(runs, architecture, strategy, "lung", against="label"))
            ssim = np.mean(
                [results[architecture][strategy]["fidelity"]["prediction_vs_truth"]["lung"]["ssim"] for results in runs]
            )
            lines.append(f"{architecture:<22}{strategy:<18}{truth}{label:>12.1f}{ssim:>10.3f}")
    return "\n".join(lines)


def band_table(runs: list[dict]) -> str:
    head = f"{'architecture':<22}{'strategy':<18}" + "".join(f"{band:>17}" for band in BANDS)
    lines = [
        f"RMSE in HU against the truth, background and lung split at {EDGE_PX} pixels from their borders, "
        f"mean over {len(runs)} seed(s)",
        head,
        "-" * len(head),
    ]
    for architecture, by_strategy in runs[0].items():
        for strategy in by_strategy:
            lines.append(
                f"{architecture:<22}{strategy:<18}"
                + "".join(
                    f"{np.mean([r[architecture][strategy]['bands'][band] for r in runs]):>17.1f}" for band in BANDS
                )
            )
    return "\n".join(lines)


def trained(runs: list[dict]) -> dict[str, list[str]]:
    return {
        architecture: list(by_strategy) for architecture, by_strategy in runs[0].items() if architecture != BASELINE
    }


def paired(runs: list[dict]) -> dict[str, dict[str, dict[str, dict[str, Interval]]]]:
    """{architecture: {strategy: {reference: {region: interval of strategy - reference}}}} against the truth."""
    return {
        architecture: {
            strategy: {
                reference: {
                    region: paired_difference(
                        per_seed(runs, architecture, strategy, region), per_seed(runs, architecture, reference, region)
                    )
                    for region in REGIONS
                }
                for reference in REFERENCES
                if reference in strategies and reference != strategy
            }
            for strategy in strategies
        }
        for architecture, strategies in trained(runs).items()
    }


def paired_table(differences) -> str:
    width = 30
    head = f"{'architecture':<14}{'strategy':<18}{'against':<9}" + "".join(f"{region:>{width}}" for region in REGIONS)
    lines = [
        "Paired difference of RMSE against the truth, strategy minus reference, HU: mean over seeds "
        "[95% t-interval of the per-seed differences] and the verdict (wins/loses only where the "
        "interval excludes zero)",
        head,
        "-" * len(head),
    ]
    for architecture, by_strategy in differences.items():
        for strategy, by_reference in by_strategy.items():
            for reference, by_region in by_reference.items():
                cells = "".join(f"{signed_cell(d) + ' ' + verdict_of(d):>{width}}" for d in by_region.values())
                lines.append(f"{architecture:<14}{strategy:<18}{reference:<9}{cells}")
    return "\n".join(lines)


def winners_against_ipv2(differences) -> list[str]:
    """Strategies whose paired interval against `ipv2` excludes zero in their favour in the
    background and the lung for every architecture: the rule `ipv2 purify`'s default follows."""
    candidates = {s for by_strategy in differences.values() for s in by_strategy}
    return sorted(
        s
        for s in candidates
        if all(
            s in by_strategy
            and "ipv2" in by_strategy[s]
            and all(verdict_of(by_strategy[s]["ipv2"][r]) == "wins" for r in VERDICT_REGIONS)
            for by_strategy in differences.values()
        )
    )


def summary_json(runs: list[dict], differences, threads: int, wall_s: float) -> dict:
    def interval_of(values):
        return {
            **{k: round(v, 2) for k, v in mean_interval(values).as_dict().items() if k != "count"},
            "count": len(values),
            "per_seed": [round(v, 2) for v in values],
        }

    rmse = {
        architecture: {
            strategy: {region: interval_of(per_seed(runs, architecture, strategy, region)) for region in REGIONS}
            for strategy in strategies
        }
        for architecture, strategies in trained(runs).items()
    }
    pairs = {
        architecture: {
            strategy: {
                reference: {
                    region: {
                        **{k: round(v, 2) for k, v in d.as_dict().items() if k != "count"},
                        "count": d.count,
                        "verdict": verdict_of(d),
                    }
                    for region, d in by_region.items()
                }
                for reference, by_region in by_reference.items()
            }
            for strategy, by_reference in by_strategy.items()
        }
        for architecture, by_strategy in differences.items()
    }
    return {
        "seeds": len(runs),
        "threads": threads,
        "wall_s": round(wall_s),
        "rmse_hu": rmse,
        "paired": pairs,
        "wins_against_ipv2_everywhere": winners_against_ipv2(differences),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small phantoms and networks; minutes on a CPU")
    parser.add_argument(
        "--seeds",
        type=int,
        default=1,
        help="repeat with this many seeds (phantoms and training "
        "together) and report means, 95%% intervals and paired verdicts (default: 1)",
    )
    parser.add_argument("--architectures", help="comma-separated registered models (default: the setting's)")
    parser.add_argument(
        "--strategies", default=",".join(STRATEGIES), help="comma-separated subset of " + ", ".join(STRATEGIES)
    )
    parser.add_argument("--steps", type=int, help="training steps per run (default: the setting's)")
    parser.add_argument(
        "--threads",
        type=int,
        help=f"CPU threads for torch (default: {QUICK_THREADS} with --quick, "
        "torch's choice otherwise); results are reproducible at a fixed count",
    )
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--work", help="keep pairs and models here (default: a temporary folder)")
    args = parser.parse_args(argv)

    setting = QUICK if args.quick else FULL
    if args.steps is not None:
        if args.steps < 1:
            parser.error(f"--steps {args.steps} must be at least 1")
        setting.steps = args.steps
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads {args.threads} must be at least 1")
    try:
        seeds = replicates(setting, args.seeds)
    except InputError as error:
        parser.error(str(error))
    architectures = [a for a in (args.architectures.split(",") if args.architectures else setting.architectures) if a]
    strategies = [s for s in args.strategies.split(",") if s]
    unknown = sorted(set(strategies) - set(STRATEGIES))
    if unknown:
        parser.error(f"unknown strategies {unknown}; choose from {', '.join(STRATEGIES)}")
    if args.work and Path(args.work).exists() and any(Path(args.work).iterdir()):
        parser.error(
            f"--work {args.work} is not empty; give a new or empty folder so that nothing of yours is overwritten"
        )

    # Same command, same figures: deterministic kernels where torch has them (a warning
    # names any op without one), a fixed thread count, and cuBLAS's fixed workspace on a GPU.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    threads = args.threads or (QUICK_THREADS if args.quick else torch.get_num_threads())
    torch.set_num_threads(threads)
    log(
        f"setting: {'quick' if args.quick else 'full'}, {setting.size}x{setting.size} phantoms at dose "
        f"{setting.dose:g}, {setting.steps} steps of {setting.batch} patches of {setting.patch}^2, "
        f"{setting.loss} loss, "
        f"lr {setting.lr}, {threads} threads, deterministic algorithms, {len(seeds)} seed(s), "
        f"architectures {architectures}, strategies {strategies}"
    )
    started = time.perf_counter()
    matched = noise_match(setting, args.device)
    log(matched)
    runs, consistency = [], None
    with tempfile.TemporaryDirectory(prefix="ipv2-ablation-") as scratch:
        work = Path(args.work) if args.work else Path(scratch)
        for replicate in seeds:
            results, table_text = run(setting, replicate, architectures, strategies, args.device, work)
            runs.append(results)
            consistency = consistency or table_text
            log(f"{replicate.index + 1} of {len(seeds)} seeds done, {time.perf_counter() - started:.0f} s wall so far")
    wall_s = time.perf_counter() - started
    differences = paired(runs)
    winners = winners_against_ipv2(differences)
    print(matched)
    print(consistency)
    print(table(runs))
    print(band_table(runs))
    print(paired_table(differences))
    print(
        "Wins against ipv2 in background and lung for every architecture: "
        + (", ".join(winners) if winners else "none")
    )
    print(f"{len(seeds)} seed(s) in {wall_s:.0f} s wall ({wall_s / 60:.1f} min), {threads} thread(s)")
    print(json.dumps(json_ready(summary_json(runs, differences, threads, wall_s))))  # one seed: no interval, null
    return 0


if __name__ == "__main__":
    sys.exit(main())
