"""Regenerates the bundled weights in Resources/Models from the built-in phantom.

1. Phantom pairs (misaligned NDCT/uLDCT with known truth): two for training, one held out.
2. `ipv2 purify` (IPv2: Remove Background + Add noise) turns each training pair into a
   purified pair. The held-out uLDCT is validated against the noise-free reconstruction of
   its truth (the mean of four full-dose simulations): the image a perfect denoiser would
   give. The truth itself is sharper than any simulated reconstruction (the simulator's
   resolution costs about 85 HU RMSE in the lung even without noise), so RMSE against the
   truth mostly measures resolution; it is reported too.
3. Each registered model is trained on the purified pairs (seeded, CPU) and stored as
   float16 safetensors with its record; its model card is written beside it with the RMSE
   against the truth in the lung and the body of the held-out phantom.

Run from the repository root: `python benchmarks/train_bundled.py [--models unet dncnn]`.
The phantom and purified pairs are kept in --work so that a rerun only trains.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from ipv2.checkpoint import load_checkpoint, save_checkpoint
from ipv2.inference import denoise_volume
from ipv2.io import read_volume, write_volume
from ipv2.models.bundled import bundled_models_dir
from ipv2.models.registry import MODEL_REGISTRY, count_parameters, gflops_per_slice
from ipv2.phantom import LABEL_AIRWAY, LABEL_BODY, LABEL_LUNG, LABEL_NODULE, LABEL_VESSEL, generate_phantom_pair
from ipv2.progress import Monitor, TqdmProgress
from ipv2.purify import PurifyOptions, purify_volumes
from ipv2.simulate import simulate_low_dose
from ipv2.training import TrainConfig, train

TRAIN_SEEDS = (11, 12)
VALIDATION_SEED = 13
REFERENCE_SEED = 100
PHANTOM = {"size": 512, "slices": 16, "pixel_mm": 0.7, "slice_mm": 2.5, "dose": 0.02}
LUNG_LABELS = (LABEL_LUNG, LABEL_VESSEL, LABEL_NODULE, LABEL_AIRWAY)

# Compact widths keep the files small and CPU training to minutes; the default trains longest.
# The short runs of the heavier models make usable starting points, not finished denoisers.
RECIPES = {
    "unet": {"model_args": {}, "steps": 1200, "patch": 64, "batch": 8, "lr": 1e-3},
    "dncnn": {"model_args": {"depth": 10, "width": 32}, "steps": 500, "patch": 64, "batch": 8, "lr": 1e-3},
    "redcnn": {"model_args": {"width": 24}, "steps": 350, "patch": 64, "batch": 8, "lr": 1e-3},
    "restormer": {"model_args": {"width": 16, "blocks": [1, 1, 2], "heads": [1, 2, 4], "refinement_blocks": 1},
                  "steps": 60, "patch": 48, "batch": 4, "lr": 1e-3},
}
SETTINGS = {"loss": "mse", "seed": 0, "device": "cpu", "checkpoint_every": 100, "half_weights": True}


def prepare_data(work: Path) -> dict:
    """Purified training pairs and the held-out phantom, made once and kept in `work`."""
    monitor = Monitor(TqdmProgress())
    train_dirs = []
    for seed in TRAIN_SEEDS:
        folder = work / f"purified_{seed}"
        train_dirs.append(str(folder))
        if (folder / "train_target.nrrd").is_file():
            continue
        pair = generate_phantom_pair(seed=seed, device="cpu", monitor=monitor, **PHANTOM)
        result = purify_volumes(pair.uldct, pair.ndct, PurifyOptions(seed=seed, device="cpu"), monitor)
        folder.mkdir(parents=True, exist_ok=True)
        write_volume(result.train_input, folder / "train_input.nrrd")
        write_volume(result.train_target, folder / "train_target.nrrd")
    held_out = work / f"heldout_{VALIDATION_SEED}"
    if not (held_out / "labels.nrrd").is_file():
        pair = generate_phantom_pair(seed=VALIDATION_SEED, device="cpu", monitor=monitor, **PHANTOM)
        held_out.mkdir(parents=True, exist_ok=True)
        reference = np.mean([simulate_low_dose(pair.truth.array, dose=1.0, pixel_spacing_mm=PHANTOM["pixel_mm"],
                                               seed=REFERENCE_SEED + k, device="cpu") for k in range(4)], axis=0)
        write_volume(pair.uldct, held_out / "train_input.nrrd")
        write_volume(pair.truth.with_array(reference.astype(np.float32)), held_out / "train_target.nrrd")
        write_volume(pair.truth, held_out / "truth.nrrd")
        write_volume(pair.labels, held_out / "labels.nrrd", dtype=np.uint8)
    return {"train": train_dirs, "validation": str(held_out)}


def region_rmse(result: np.ndarray, truth: np.ndarray, region: np.ndarray) -> float:
    return float(np.sqrt(np.mean((result[region] - truth[region]) ** 2)))


def evaluate_on_phantom(checkpoint: Path, held_out: Path) -> dict:
    uldct = read_volume(held_out / "train_input.nrrd")
    references = {"reference": read_volume(held_out / "train_target.nrrd").array,
                  "truth": read_volume(held_out / "truth.nrrd").array}
    labels = read_volume(held_out / "labels.nrrd").array.astype(np.uint8)
    started = time.perf_counter()
    denoised = denoise_volume(uldct, model=str(checkpoint), device="cpu").array
    seconds = time.perf_counter() - started
    regions = {"lung": np.isin(labels, LUNG_LABELS), "body": labels == LABEL_BODY}
    figures = {}
    for reference_name, reference in references.items():
        for name, region in regions.items():
            figures[f"{name}_rmse_vs_{reference_name}_hu"] = round(region_rmse(denoised, reference, region), 1)
            figures[f"{name}_input_rmse_vs_{reference_name}_hu"] = round(
                region_rmse(uldct.array, reference, region), 1)
    figures["cpu_seconds_per_slice"] = round(seconds / uldct.shape[0], 3)
    return figures


CARD = """# {name}: {description}

Architecture: {reference}; arguments `{arch_args}`; {params:,} parameters;
{gflops:.1f} GFLOPs per 512x512 slice. Weights stored as float16 safetensors.

**Trained on synthetic data only, for research use only.** Not a medical device; not
validated on patient scans.

## Data
Built-in chest phantom (`ipv2.phantom`), {size}x{size}x{slices} voxels of {pixel_mm} x {pixel_mm} x
{slice_mm} mm, uLDCT simulated at {dose_percent:g}% dose with the physical simulator. Training:
phantom seeds {train_seeds} purified with IPv2 (`ipv2 purify`: Remove Background, Add noise),
{slices_total} slices. Validation: phantom seed {val_seed} (held out), its uLDCT against its
noise-free truth.

## Settings
`ipv2 train` with {steps} steps, patches {patch}x{patch}, batch {batch}, AdamW (lr {lr:g},
cosine schedule), {loss} loss, seed {seed}, on the CPU; normalisation: HU clipped to
[{low:g}, {high:g}] and scaled to [0, 1]. Regenerate with `python benchmarks/train_bundled.py
--models {name}`.

## Validation (held-out phantom, RMSE in HU)
Against the noise-free reconstruction of the truth (mean of four full-dose simulations of
the noise-free phantom: the image a perfect denoiser would give):

| region | uLDCT input | denoised |
|---|---|---|
| lung (parenchyma, vessels, nodules, airways) | {lung_input_rmse_vs_reference_hu} | {lung_rmse_vs_reference_hu} |
| body (chest wall, mediastinum, bone) | {body_input_rmse_vs_reference_hu} | {body_rmse_vs_reference_hu} |

Against the noise-free phantom itself, which is sharper than any simulated reconstruction
(the reconstruction alone, without noise, is about 85 HU RMSE from it in the lung), so these
figures mostly measure resolution that no denoiser trained on reconstructed scans recovers:

| region | uLDCT input | denoised |
|---|---|---|
| lung | {lung_input_rmse_vs_truth_hu} | {lung_rmse_vs_truth_hu} |
| body | {body_input_rmse_vs_truth_hu} | {body_rmse_vs_truth_hu} |

CPU time while validating: {cpu_seconds_per_slice} s per slice.
"""


def write_card(name: str, checkpoint: Path, figures: dict) -> Path:
    loaded = load_checkpoint(checkpoint)
    record = loaded.metadata
    training = record["training"]
    spec = MODEL_REGISTRY[name]
    text = CARD.format(
        name=name, description=spec.description, reference=spec.reference,
        arch_args=json.dumps(loaded.arch_args), params=count_parameters(loaded.model),
        gflops=gflops_per_slice(loaded.model), size=PHANTOM["size"], slices=PHANTOM["slices"],
        pixel_mm=PHANTOM["pixel_mm"], slice_mm=PHANTOM["slice_mm"], dose_percent=100 * PHANTOM["dose"],
        train_seeds=", ".join(map(str, TRAIN_SEEDS)), val_seed=VALIDATION_SEED,
        slices_total=record["data"]["slices"], steps=training["steps"], patch=training["config"]["patch"],
        batch=training["config"]["batch"], lr=training["config"]["lr"], loss=training["config"]["loss"].upper(),
        seed=training["config"]["seed"], low=loaded.normalization.low, high=loaded.normalization.high,
        **figures)
    path = checkpoint.with_suffix(".md")
    path.write_text(text)
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(RECIPES), choices=list(RECIPES))
    parser.add_argument("--work", default="build/bundled-training", help="folder for phantoms and purified pairs")
    parser.add_argument("--out", default=str(bundled_models_dir()), help="folder of the bundled weights")
    parser.add_argument("--retrain", action="store_true", help="train again models already trained in --work")
    parser.add_argument("--steps-scale", type=float, default=1.0, help="scale every recipe's steps (quick trials)")
    args = parser.parse_args(argv)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    work, out = Path(args.work), Path(args.out)
    data = prepare_data(work)
    for name in args.models:
        recipe = dict(RECIPES[name])
        recipe["steps"] = max(1, int(recipe["steps"] * args.steps_scale))
        checkpoint = out / f"{name}.safetensors"
        config = TrainConfig(data=data["train"], val=[data["validation"]], out=str(work / f"{name}.safetensors"),
                             model=name, **recipe, **SETTINGS)
        # An interrupted regeneration continues where it stopped, with identical results.
        config.resume = config.state_path.is_file() and not Path(config.out).is_file()
        started = time.perf_counter()
        if args.retrain or not Path(config.out).is_file():
            train(config, Monitor(TqdmProgress()))
        minutes = (time.perf_counter() - started) / 60
        figures = evaluate_on_phantom(Path(config.out), Path(data["validation"]))
        loaded = load_checkpoint(config.out)
        record = {**loaded.metadata, "phantom_evaluation": figures}
        save_checkpoint(checkpoint, loaded.model.state_dict(), record, half=True)
        write_card(name, checkpoint, figures)
        print(json.dumps({"model": name, "minutes": round(minutes, 1), **figures}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
