"""Regenerates the bundled weights in Resources/Models from the built-in phantom.

1. Phantom pairs (misaligned NDCT/uLDCT with known truth): two for training, one held out.
2. `ipv2 purify` (IPv2: Remove Background + Add noise) turns each training pair into a
   purified pair. The held-out uLDCT is validated against the phantom's truth: the noise-free
   scan of the same chest (same projection and reconstruction, no noise), so `uldct - truth`
   is the noise alone and a perfect denoiser would reach the truth.
3. Each registered model is trained on the purified pairs (seeded, CPU) and stored as
   float16 safetensors with its record; its model card is written beside it with the RMSE
   against the truth in the lung and the body of the held-out phantom, and the table of all
   bundled models in docs/models.md is rewritten between its markers.

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
from ipv2.models.registry import DEFAULT_MODEL, MODEL_REGISTRY, count_parameters, gflops_per_slice
from ipv2.phantom import LABEL_AIRWAY, LABEL_BODY, LABEL_LUNG, LABEL_NODULE, LABEL_VESSEL, generate_phantom_pair
from ipv2.progress import Monitor, TqdmProgress
from ipv2.purify import PurifyOptions, purify_volumes
from ipv2.training import TrainConfig, train

TRAIN_SEEDS = (11, 12)
VALIDATION_SEED = 13
PHANTOM = {"size": 512, "slices": 16, "pixel_mm": 0.7, "slice_mm": 2.5, "dose": 0.02}
LUNG_LABELS = (LABEL_LUNG, LABEL_VESSEL, LABEL_NODULE, LABEL_AIRWAY)

# Compact widths keep the files small and CPU training to minutes; the default trains longest.
# RED-CNN, ten plain ReLU layers without normalisation, diverges into dead units at lr 1e-3
# (Adam moves every weight by about lr per step whatever its gradient); 3e-4 learns steadily.
RECIPES = {
    "unet": {"model_args": {}, "steps": 5000, "patch": 64, "batch": 16, "lr": 1e-3},
    "dncnn": {"model_args": {"depth": 10, "width": 32}, "steps": 1500, "patch": 64, "batch": 8, "lr": 1e-3},
    "redcnn": {"model_args": {"width": 24}, "steps": 1500, "patch": 64, "batch": 8, "lr": 3e-4},
    "restormer": {"model_args": {"width": 16, "blocks": [1, 1, 2], "heads": [1, 2, 4], "refinement_blocks": 1},
                  "steps": 1500, "patch": 48, "batch": 8, "lr": 5e-4},
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
        # Written as an input/target pair so that training's own validation reports against the truth.
        write_volume(pair.uldct, held_out / "train_input.nrrd")
        write_volume(pair.truth, held_out / "train_target.nrrd")
        write_volume(pair.labels, held_out / "labels.nrrd", dtype=np.uint8)
    return {"train": train_dirs, "validation": str(held_out)}


def region_rmse(result: np.ndarray, truth: np.ndarray, region: np.ndarray) -> float:
    return float(np.sqrt(np.mean((result[region] - truth[region]) ** 2)))


def evaluate_on_phantom(checkpoint: Path, held_out: Path) -> dict:
    """RMSE in HU of the uLDCT input and of the denoised volume against the noise-free truth."""
    uldct = read_volume(held_out / "train_input.nrrd")
    truth = read_volume(held_out / "train_target.nrrd").array
    labels = read_volume(held_out / "labels.nrrd").array.astype(np.uint8)
    started = time.perf_counter()
    denoised = denoise_volume(uldct, model=str(checkpoint), device="cpu").array
    seconds = time.perf_counter() - started
    figures = {}
    for name, region in {"lung": np.isin(labels, LUNG_LABELS), "body": labels == LABEL_BODY}.items():
        figures[f"{name}_input_rmse_hu"] = round(region_rmse(uldct.array, truth, region), 1)
        figures[f"{name}_rmse_hu"] = round(region_rmse(denoised, truth, region), 1)
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
Against the phantom's truth: the noise-free scan of the same chest (same projection and
reconstruction, without noise), so the uLDCT's error is its noise alone and a perfect
denoiser would reach zero.

| region | uLDCT input | denoised |
|---|---|---|
| lung (parenchyma, vessels, nodules, airways) | {lung_input_rmse_hu} | {lung_rmse_hu} |
| body (chest wall, mediastinum, bone) | {body_input_rmse_hu} | {body_rmse_hu} |

Training took {minutes:g} min on one CPU thread.
CPU time while validating: {cpu_seconds_per_slice} s per slice.
"""


def write_card(name: str, checkpoint: Path, figures: dict, minutes: float) -> Path:
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
        minutes=minutes, **figures)
    path = checkpoint.with_suffix(".md")
    path.write_text(text)
    return path


TABLE_START, TABLE_END = "<!-- bundled table start -->", "<!-- bundled table end -->"


def bundled_table(out: Path) -> str:
    """The docs table of every bundled model, from the figures stored in each file's record."""
    rows = ["| model (bundled size) | training (CPU, one thread) | lung RMSE, input -> denoised | body |",
            "|---|---|---|---|"]
    for name in RECIPES:
        path = out / f"{name}.safetensors"
        if not path.is_file():
            continue
        loaded = load_checkpoint(path)
        figures = loaded.metadata.get("phantom_evaluation")
        if not figures or "lung_rmse_hu" not in figures:
            continue
        size = ", ".join(f"{key} {value}" for key, value in loaded.arch_args.items()) or "registered size"
        label = f"`{name}`" + (" (default)" if name == DEFAULT_MODEL else "") + f" ({size})"
        rows.append(f"| {label} | {loaded.metadata['training']['steps']} steps, "
                    f"{figures['training_minutes']:g} min | {figures['lung_input_rmse_hu']} -> "
                    f"{figures['lung_rmse_hu']} | {figures['body_input_rmse_hu']} -> {figures['body_rmse_hu']} |")
    return "\n".join(rows)


def update_docs_table(docs: Path, table: str) -> bool:
    if not docs.is_file():
        return False
    text = docs.read_text()
    if TABLE_START not in text or TABLE_END not in text:
        return False
    head, rest = text.split(TABLE_START, 1)
    _, tail = rest.split(TABLE_END, 1)
    docs.write_text(f"{head}{TABLE_START}\n{table}\n{TABLE_END}{tail}")
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(RECIPES), choices=list(RECIPES))
    parser.add_argument("--work", default="build/bundled-training", help="folder for phantoms and purified pairs")
    parser.add_argument("--out", default=str(bundled_models_dir()), help="folder of the bundled weights")
    parser.add_argument("--docs", default="docs/models.md", help="documentation whose bundled table is rewritten")
    parser.add_argument("--retrain", action="store_true", help="train again models already trained in --work")
    parser.add_argument("--steps-scale", type=float, default=1.0, help="scale every recipe's steps (quick trials)")
    # Small batches gain little from a second thread, and on a shared machine two threads
    # spin-waiting for each other run many times slower than one.
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for training and validation")
    args = parser.parse_args(argv)
    torch.set_num_threads(max(1, args.threads))
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
            minutes = round((time.perf_counter() - started) / 60, 1)
            Path(config.out).with_suffix(".minutes").write_text(f"{minutes}\n")
        minutes_file = Path(config.out).with_suffix(".minutes")
        minutes = float(minutes_file.read_text()) if minutes_file.is_file() else 0.0
        figures = evaluate_on_phantom(Path(config.out), Path(data["validation"]))
        loaded = load_checkpoint(config.out)
        record = {**loaded.metadata, "phantom_evaluation": {**figures, "training_minutes": minutes}}
        save_checkpoint(checkpoint, loaded.model.state_dict(), record, half=True)
        write_card(name, checkpoint, figures, minutes)
        print(json.dumps({"model": name, "minutes": minutes, **figures}), flush=True)
    table = bundled_table(out)
    if update_docs_table(Path(args.docs), table):
        print(f"updated the bundled table in {args.docs}")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
