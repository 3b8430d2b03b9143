"""Ablation: which training pairs make a denoiser restore background and lung parenchyma?

On built-in phantoms (training and test pairs from different seeds), each architecture is
trained under each pairing strategy and scored on the test uLDCT against the IPv2 label and
against the true clean volume, which phantoms have and real scans do not.

Strategies: `naive` (uLDCT -> NDCT, misaligned lungs and all), `ipv1`, `ipv2_rb` (Remove
Background only), `ipv2_an` (Add noise only), `ipv2` (both), `ipv2m` (IPv2 with every motion
rule) and each motion rule alone on top of IPv2: `ipv2m_background` (agreed background),
`ipv2m_field` (lung field) and `ipv2m_blend` (stitch blend).

The quick setting is small but not easy: its phantom size and dose are chosen so that the
uLDCT's noise in soft tissue and lung is that of the default 512x512 pair at 2% (within
20%); both are measured and printed at the start of every run.

    python benchmarks/bench_ablation.py --quick --threads 1   # 192x192 phantoms on a shared 2-core CPU
    python benchmarks/bench_ablation.py --quick --steps 20 --strategies ipv1,ipv2m --architectures unet  # smoke
    python benchmarks/bench_ablation.py             # the full setting (the default 512x512 pair), for a GPU

Prints the uLDCT noise against the default pair's, how far each strategy's training target
lies from the noise-free scene its input shows (which is what a network learns to paint),
a table, the background and lung split near and far from their borders, verdicts per
architecture, then as its last line one JSON object
{architecture: {strategy: {region: rmse_hu}}} of RMSE against the truth.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import torch
from scipy import ndimage

from ipv2.evaluate import evaluate_volumes
from ipv2.inference import denoise_volume
from ipv2.io import write_volume
from ipv2.masks import compute_region_masks
from ipv2.pairs import disagreement_band, lung_field, purification_region, stitch_weights
from ipv2.phantom import TISSUES, generate_phantom_pair
from ipv2.purify import PurifyOptions, purify_volumes
from ipv2.purify.pipeline import simulate_ndct
from ipv2.training import TrainConfig, train

STRATEGIES = ("naive", "ipv1", "ipv2_rb", "ipv2_an", "ipv2", "ipv2m", "ipv2m_background", "ipv2m_field",
              "ipv2m_blend")
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
    train_seeds: List[int]
    test_seed: int
    steps: int
    patch: int
    batch: int
    lr: float
    loss: str
    warmup_steps: int
    architectures: Dict[str, dict] = field(default_factory=dict)


# Narrower variants of the registered networks keep the quick run within 30 minutes on two
# cores for nine strategies: 400 steps of 8 patches of 40^2 (measured 0.47 s per step for the
# three networks together, wall, on the shared machine). Mean squared error, as the bundled
# weights are trained: with L1, a target that equals the input over most of a patch (IPv1's
# lung and background) pins the median correction at zero and a short run ends where it
# started. 192 pixels over the phantom's 358 mm are 1.86 mm pixels, which average the noise
# down; at 1.1% dose the uLDCT's noise is the default 512x512 pair's at 2% (measured: soft
# tissue 49 against 52 HU, lung 45 against 49 HU, on the phantom with textured lungs and
# the upper abdomen).
QUICK = Setting(size=192, dose=0.011, train_slices=12, test_slices=8, train_seeds=[11], test_seed=1000, steps=400,
                patch=40, batch=8, lr=1e-3, loss="mse", warmup_steps=25,
                architectures={"unet": {"widths": [8, 16, 32, 64]}, "dncnn": {"depth": 8, "width": 32},
                               "redcnn": {"width": 32}})
FULL = Setting(size=REFERENCE_SIZE, dose=REFERENCE_DOSE, train_slices=48, test_slices=24, train_seeds=[11, 12, 13],
               test_seed=1000, steps=4000, patch=96, batch=16, lr=2e-4, loss="mse", warmup_steps=200,
               architectures={"unet": {}, "dncnn": {}, "redcnn": {}, "restormer": {}})


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def edge_bands(masks) -> Dict[str, np.ndarray]:
    """Background and lung split at EDGE_PX pixels (in-plane) from their borders.

    Breathing moves the body outline and the lungs between the two scans, so an NDCT-taken
    target is wrong near those borders and right away from them: the split shows which effect
    a region's RMSE holds.
    """
    near = np.ones((1, 2 * EDGE_PX + 1, 2 * EDGE_PX + 1), dtype=bool)
    background_near = ndimage.binary_dilation(~masks.background, structure=near) & masks.background
    lung_core = ndimage.binary_erosion(masks.lung, structure=near) & masks.lung
    return {"background far": masks.background & ~background_near, "background near": background_near,
            "lung core": lung_core, "lung edge": masks.lung & ~lung_core}


def uldct_noise(pair) -> Dict[str, float]:
    """Standard deviation of `uldct - truth` (the noise alone) in soft tissue and lung parenchyma, HU."""
    noise = pair.uldct.array.astype(np.float64) - pair.truth.array
    tissues = pair.tissues.array
    return {name: float(np.std(noise[np.isin(tissues, [TISSUES[t].id for t in names])]))
            for name, names in NOISE_TISSUES.items()}


def noise_match(setting: "Setting", device: str) -> str:
    """The setting's uLDCT noise against the default pair's, one line per tissue."""
    reference = uldct_noise(generate_phantom_pair(size=REFERENCE_SIZE, slices=REFERENCE_SLICES, seed=setting.test_seed,
                                                  dose=REFERENCE_DOSE, slice_mm=2.5, device=device))
    ours = uldct_noise(generate_phantom_pair(size=setting.size, slices=REFERENCE_SLICES, seed=setting.test_seed,
                                             dose=setting.dose, slice_mm=2.5, device=device))
    lines = [f"uLDCT noise (std of uLDCT - truth), this setting ({setting.size}x{setting.size}, dose {setting.dose:g}) "
             f"against the default {REFERENCE_SIZE}x{REFERENCE_SIZE} pair at dose {REFERENCE_DOSE:g}:"]
    for name in NOISE_TISSUES:
        ratio = ours[name] / reference[name]
        within = "within" if abs(ratio - 1.0) <= NOISE_TOLERANCE else "NOT within"
        lines.append(f"  {name:<12}{ours[name]:7.1f} HU against {reference[name]:7.1f} HU "
                     f"({ratio:.2f}x, {within} {NOISE_TOLERANCE:.0%})")
    return "\n".join(lines)


def band_rmse(prediction, truth, bands: Dict[str, np.ndarray]) -> Dict[str, float]:
    error = prediction.array.astype(np.float64) - truth.array
    return {name: float(np.sqrt(np.mean(error[mask] ** 2))) if mask.any() else float("nan")
            for name, mask in bands.items()}


PAIR_REGIONS = ("band", "field holes", "body near field", "all")
NEAR_FIELD_PX = 3


def simulated_share(options: Optional[PurifyOptions], masks) -> np.ndarray:
    """`w`, the share of sim(gt) in each voxel of the strategy's training input."""
    if options is None or not options.add_noise:
        return np.zeros(masks.shape, dtype=np.float32)
    rules = options.motion_rules
    region = purification_region(masks, options.remove_background, bool(rules and rules.lung_field))
    return stitch_weights(region, masks.background, rules.stitch_blend_px if rules else 0)


def pair_consistency(pair, masks, options: Optional[PurifyOptions], target) -> Dict[str, float]:
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
    regions = {"band": disagreement_band(masks), "field holes": field & ~masks.lung,
               "body near field": ndimage.binary_dilation(field, structure=near) & ~field & ~masks.background,
               "all": np.ones(masks.shape, dtype=bool)}
    return {name: float(np.sqrt(np.mean(error[mask] ** 2))) if mask.any() else float("nan")
            for name, mask in regions.items()}


def consistency_table(consistency: Dict[str, Dict[str, float]], seed: int) -> str:
    head = f"{'strategy':<18}" + "".join(f"{name:>17}" for name in PAIR_REGIONS)
    lines = [f"Training target against the noise-free scene its input shows, RMSE in HU (phantom seed {seed})",
             head, "-" * len(head)]
    for strategy, by_region in consistency.items():
        lines.append(f"{strategy:<18}" + "".join(f"{by_region[name]:>17.1f}" for name in PAIR_REGIONS))
    return "\n".join(lines)


def training_pairs(setting: Setting, strategies, device: str, work: Path):
    """Writes each training phantom's pair under each strategy; returns folders by strategy and
    the first phantom's `pair_consistency` by strategy."""
    folders: Dict[str, List[Path]] = {strategy: [] for strategy in strategies}
    consistency: Dict[str, Dict[str, float]] = {}
    for seed in setting.train_seeds:
        pair = generate_phantom_pair(size=setting.size, slices=setting.train_slices, seed=seed, dose=setting.dose)
        masks = compute_region_masks(pair.uldct.array, pair.ndct.array, spacing=pair.uldct.spacing)
        options_of = {s: PurifyOptions(seed=seed, device=device, dose=setting.dose, **STRATEGY_OPTIONS[s]).checked()
                      for s in strategies if s != "naive"}
        simulated = None
        if any(options.add_noise for options in options_of.values()):
            simulated = simulate_ndct(pair.ndct, PurifyOptions(seed=seed, device=device, dose=setting.dose).checked(),
                                      None)
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
            if seed == setting.train_seeds[0]:
                consistency[strategy] = pair_consistency(pair, masks, options, target)
        log(f"training pairs of phantom seed {seed} written")
    return folders, consistency


def run(setting: Setting, architectures, strategies, device: str, work: Path) -> dict:
    started, cpu_started = time.perf_counter(), time.process_time()
    test = generate_phantom_pair(size=setting.size, slices=setting.test_slices, seed=setting.test_seed,
                                 dose=setting.dose)
    purified = purify_volumes(test.uldct, test.ndct, PurifyOptions(mode="ipv2", seed=setting.test_seed, device=device,
                                                                   dose=setting.dose))
    labelmap = purified.masks.labelmap()
    baseline = evaluate_volumes(test.uldct, purified.eval_label, labelmap, test.truth)
    bands = edge_bands(purified.masks)
    baseline["bands"] = band_rmse(test.uldct, test.truth, bands)
    log(f"test pair ready ({time.perf_counter() - started:.0f} s)")
    folders, consistency = training_pairs(setting, strategies, device, work)
    log(consistency_table(consistency, setting.train_seeds[0]))

    results: Dict[str, Dict[str, dict]] = {"uLDCT (no denoising)": {"-": baseline}}
    for architecture in architectures:
        results[architecture] = {}
        for strategy in strategies:
            begun = time.perf_counter()
            checkpoint = work / "models" / f"{architecture}_{strategy}.safetensors"
            config = TrainConfig(data=[str(f) for f in folders[strategy]], out=str(checkpoint), model=architecture,
                                 model_args=setting.architectures.get(architecture, {}), steps=setting.steps,
                                 patch=setting.patch, batch=setting.batch, lr=setting.lr, loss=setting.loss,
                                 warmup_steps=setting.warmup_steps, seed=0, device=device, checkpoint_every=0)
            train(config)
            denoised = denoise_volume(test.uldct, model=str(checkpoint), device=device)
            results[architecture][strategy] = evaluate_volumes(denoised, purified.eval_label, labelmap, test.truth)
            results[architecture][strategy]["bands"] = band_rmse(denoised, test.truth, bands)
            log(f"{architecture:<10} {strategy:<16} trained and scored in {time.perf_counter() - begun:.0f} s")
    # CPU time too: wall time on a shared machine says little about the benchmark itself.
    log(f"total {time.perf_counter() - started:.0f} s wall, {time.process_time() - cpu_started:.0f} s CPU")
    return results, consistency_table(consistency, setting.train_seeds[0])


def table(results: dict) -> str:
    head = (f"{'architecture':<22}{'strategy':<18}" + "".join(f"{'truth ' + r[:4]:>11}" for r in REGIONS)
            + "".join(f"{'label ' + r[:4]:>11}" for r in REGIONS) + f"{'SSIM lung':>10}")
    lines = ["RMSE in HU against the true clean volume (truth) and the IPv2 label (label); SSIM vs truth",
             head, "-" * len(head)]
    for architecture, by_strategy in results.items():
        for strategy, report in by_strategy.items():
            truth = report["fidelity"]["prediction_vs_truth"]
            label = report["fidelity"]["prediction_vs_label"]
            lines.append(f"{architecture:<22}{strategy:<18}" + "".join(f"{truth[r]['rmse_hu']:>11.1f}" for r in REGIONS)
                         + "".join(f"{label[r]['rmse_hu']:>11.1f}" for r in REGIONS)
                         + f"{truth['lung']['ssim']:>10.3f}")
    return "\n".join(lines)


def band_table(results: dict) -> str:
    head = f"{'architecture':<22}{'strategy':<18}" + "".join(f"{band:>17}" for band in BANDS)
    lines = [f"RMSE in HU against the truth, background and lung split at {EDGE_PX} pixels from their borders",
             head, "-" * len(head)]
    for architecture, by_strategy in results.items():
        for strategy, report in by_strategy.items():
            lines.append(f"{architecture:<22}{strategy:<18}"
                         + "".join(f"{report['bands'][band]:>17.1f}" for band in BANDS))
    return "\n".join(lines)


VERDICTS = (("ipv2", "ipv1", "IPv2 beats IPv1"), ("ipv2m", "ipv1", "IPv2m beats IPv1"),
            ("ipv2m", "ipv2", "IPv2m beats IPv2"))


def verdict(results: dict) -> str:
    """Whether a strategy beats another against the truth in background and lung, per architecture."""
    lines = []
    for strategy, other, claim in VERDICTS:
        for architecture, by_strategy in results.items():
            if strategy not in by_strategy or other not in by_strategy:
                continue
            parts = []
            for region in ("background", "lung"):
                ours = by_strategy[strategy]["fidelity"]["prediction_vs_truth"][region]["rmse_hu"]
                theirs = by_strategy[other]["fidelity"]["prediction_vs_truth"][region]["rmse_hu"]
                parts.append(f"{region} {'yes' if ours < theirs else 'NO'} ({ours:.1f} vs {theirs:.1f} HU)")
            lines.append(f"{claim} for {architecture}: " + ", ".join(parts))
    return "\n".join(lines)


def rmse_json(results: dict) -> dict:
    return {architecture: {strategy: {region: round(report["fidelity"]["prediction_vs_truth"][region]["rmse_hu"], 2)
                                      for region in REGIONS}
                           for strategy, report in by_strategy.items()}
            for architecture, by_strategy in results.items() if not architecture.startswith("uLDCT")}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small phantoms and networks; minutes on a CPU")
    parser.add_argument("--architectures", help="comma-separated registered models (default: the setting's)")
    parser.add_argument("--strategies", default=",".join(STRATEGIES), help="comma-separated subset of "
                        + ", ".join(STRATEGIES))
    parser.add_argument("--steps", type=int, help="training steps per run (default: the setting's)")
    parser.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's choice); 1 runs "
                        "far faster on a machine whose cores other jobs are using")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--work", help="keep pairs and models here (default: a temporary folder)")
    args = parser.parse_args(argv)

    setting = QUICK if args.quick else FULL
    if args.steps:
        setting.steps = args.steps
    if args.threads:
        torch.set_num_threads(args.threads)
    architectures = args.architectures.split(",") if args.architectures else list(setting.architectures)
    strategies = [s for s in args.strategies.split(",") if s]
    unknown = sorted(set(strategies) - set(STRATEGIES))
    if unknown:
        parser.error(f"unknown strategies {unknown}; choose from {', '.join(STRATEGIES)}")
    log(f"setting: {'quick' if args.quick else 'full'}, {setting.size}x{setting.size} phantoms at dose "
        f"{setting.dose:g}, {setting.steps} steps of {setting.batch} patches of {setting.patch}^2, {setting.loss} loss, lr {setting.lr}, "
        f"{torch.get_num_threads()} threads, architectures {architectures}")
    matched = noise_match(setting, args.device)
    log(matched)
    if args.work:
        results, consistency = run(setting, architectures, strategies, args.device, Path(args.work))
    else:
        with tempfile.TemporaryDirectory(prefix="ipv2-ablation-") as work:
            results, consistency = run(setting, architectures, strategies, args.device, Path(work))
    print(matched)
    print(consistency)
    print(table(results))
    print(band_table(results))
    print(verdict(results))
    print(json.dumps(rmse_json(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
