"""Regenerates the bundled weights in Resources/Models from real anatomy and the phantom.

1. Training pairs from real normal-dose CT (`--realct`, the folder described in its own
   README; train volumes only, the validation chest is never trained on): each pair is one
   slice under a randomly drawn acquisition (`ipv2.training.acquisitions`: dose 1% to 50%
   and full dose, four reconstruction kernels, pixel spacing 0.5 to 1.0 mm, electronic noise
   on or off), written once to --work.
2. Each registered model is trained on them, noise-conditioned (one network for every dose,
   with the strength control of ipv2.denoise.strength on top) with the L1-plus-gradient
   loss, seeded, on the CPU, and stored as float16 safetensors with its record.
3. Validation during training: pairs drawn the same way from the held-out real chest.
   Model card: RMSE against the truth on a held-out phantom (the noise-free scan of the
   same chest, so `uldct - truth` is the noise alone), and the table of all bundled models
   in docs/models.md is rewritten between its markers. `benchmarks/bench_quality.py` gives
   the full validation on the held-out real chest.

Run from the repository root:
`python benchmarks/train_bundled.py --realct PATH/TO/realct [--models unet dncnn]`.
Pairs and the phantom are kept in --work so that a rerun only trains.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from ipv2.denoise.inference import denoise_volume
from ipv2.device_names import require_device_name
from ipv2.errors import InputError
from ipv2.io import read_volume, write_volume
from ipv2.models.bundled import bundled_models_dir
from ipv2.models.checkpoint import load_checkpoint, save_checkpoint
from ipv2.models.registry import DEFAULT_MODEL, MODEL_REGISTRY, count_parameters, gflops_per_slice
from ipv2.phantom import (
    SCORED_REGION_LABELS,
    Acquisition,
    PhantomOptions,
    generate_phantom_pair,
)
from ipv2.phantom.code_digest import phantom_code_digest
from ipv2.progress import Monitor, TqdmProgress
from ipv2.training import TrainConfig, train
from ipv2.training.acquisitions import acquired_pairs
from ipv2.volume import Volume

TRAIN_VOLUMES = ("chest_ricord_1", "abdomen_pancreatic_001")
VALIDATION_VOLUME = "chest_ricord_2"
SOURCES = {
    "chest_ricord_1": "TCIA MIDRC-RICORD-1A, patient 419639-001012, whole chest, 512x512x248, 0.703 mm; "
    "licence not stated by the copy it came from (TCIA collection: cite it, research use)",
    "abdomen_pancreatic_001": "TCIA Pancreatic-CT-CBCT-SEG, patient 001, abdomen with the lung bases, 512x512x134, "
    "1.074 mm; CC BY 4.0, stated with the data",
    "chest_ricord_2": "TCIA MIDRC-RICORD-1A, patient 419639-000082, whole chest (validation only, never trained on); "
    "licence as chest_ricord_1",
}
ATTRIBUTION = (
    "Contains data from The Cancer Imaging Archive (TCIA): MIDRC-RICORD-1A and Pancreatic-CT-CBCT-SEG collections."
)
TRAIN_PAIRS, VALIDATION_PAIRS, PAIR_SEED, VALIDATION_SEED_PAIRS = 480, 24, 1, 2
VALIDATION_SEED = 13
PHANTOM_ACQUISITION = Acquisition.resolve(512, 16, pixel_mm=0.7, slice_mm=2.5)
PHANTOM_DOSE = 0.02

# Compact widths keep the files small and CPU training to minutes; the default trains longest.
# RED-CNN, ten plain ReLU layers without normalisation, diverges into dead units at lr 1e-3
# (Adam moves every weight by about lr per step whatever its gradient); 3e-4 learns steadily.
RECIPES = {
    # The default reads one slice on each side (2.5D): noise differs from slice to slice while
    # anatomy and lesions mostly do not, which is what lets it lower the noise at a lesion's
    # scale without flattening the lesion.
    "unet": {"model_args": {}, "steps": 8000, "patch": 64, "batch": 16, "lr": 1e-3, "context_slices": 1},
    "dncnn": {"model_args": {"depth": 10, "width": 32}, "steps": 1200, "patch": 64, "batch": 8, "lr": 1e-3},
    "redcnn": {"model_args": {"width": 24}, "steps": 1200, "patch": 64, "batch": 8, "lr": 3e-4},
    "restormer": {
        "model_args": {"width": 16, "blocks": [1, 1, 2], "heads": [1, 2, 4], "refinement_blocks": 1},
        "steps": 1200,
        "patch": 48,
        "batch": 8,
        "lr": 5e-4,
    },
}
SETTINGS = {
    "loss": "l1_grad",
    "noise_conditioning": True,
    "seed": 0,
    "checkpoint_every": 100,
    "half_weights": True,
    "warmup_steps": 100,
}


def _read_real(folder: Path, name: str):
    path = folder / f"{name}.nrrd"
    if not path.is_file():
        raise SystemExit(f"--realct {folder}: {path.name} is missing (see the data README for the three volumes)")
    volume = read_volume(path)
    return name, volume.array, volume.pixel_spacing_mm, volume.spacing[2]


def _write_pair(sub: Path, inputs, targets, spacing_mm: float, sources, acquisitions) -> str:
    sub.mkdir(parents=True, exist_ok=True)
    spacing = (spacing_mm, spacing_mm, 1.0)
    write_volume(Volume(inputs, spacing=spacing), sub / "train_input.nrrd", compress=False)
    write_volume(Volume(targets, spacing=spacing), sub / "train_target.nrrd", compress=False)
    (sub / "acquisitions.json").write_text(
        json.dumps([{"source": source, **a.to_dict()} for source, a in zip(sources, acquisitions)], indent=1)
    )
    return str(sub)


def _write_pairs(volumes, count: int, seed: int, folder: Path, context_slices: int = 0) -> list:
    """The acquired pairs of `volumes`, one sub-folder per pixel spacing (per slab for a 2.5D
    model: a slab's neighbours must not be another pair's slices); returns the folders."""
    if (folder / "done.json").is_file():
        return json.loads((folder / "done.json").read_text())["folders"]
    folders = []
    for group in acquired_pairs(volumes, count, seed, Monitor(TqdmProgress()), context_slices=context_slices):
        name = f"{group.volume}_{group.spacing_mm:.1f}mm"
        if group.slab_depth == 1:
            folders.append(
                _write_pair(
                    folder / name, group.inputs, group.targets, group.spacing_mm, group.sources, group.acquisitions
                )
            )
            continue
        for index, (inputs, targets) in enumerate(group.slabs()):
            folders.append(
                _write_pair(
                    folder / f"{name}_{index:03d}",
                    inputs,
                    targets,
                    group.spacing_mm,
                    group.sources[index : index + 1],
                    group.acquisitions[index : index + 1],
                )
            )
    (folder / "done.json").write_text(json.dumps({"folders": folders}))
    return folders


def prepare_data(work: Path, realct: Path, context_slices: int = 0) -> dict:
    """Real-anatomy training and validation pairs (slabs for a 2.5D model) and the held-out
    phantom, made once in `work`."""
    tag = f"_context{context_slices}" if context_slices else ""
    train_volumes = [_read_real(realct, name) for name in TRAIN_VOLUMES]
    train_dirs = _write_pairs(train_volumes, TRAIN_PAIRS, PAIR_SEED, work / f"real_train{tag}", context_slices)
    del train_volumes
    val_dirs = _write_pairs(
        [_read_real(realct, VALIDATION_VOLUME)],
        VALIDATION_PAIRS,
        VALIDATION_SEED_PAIRS,
        work / f"real_validation{tag}",
        context_slices,
    )
    # Named by the phantom's code, so that a phantom kept from earlier code is not scored on.
    held_out = work / f"heldout_{VALIDATION_SEED}_{phantom_code_digest()}"
    if not (held_out / "labels.nrrd").is_file():
        pair = generate_phantom_pair(
            PHANTOM_ACQUISITION,
            PhantomOptions(seed=VALIDATION_SEED, dose=PHANTOM_DOSE),
            device="cpu",
            monitor=Monitor(TqdmProgress()),
        )
        held_out.mkdir(parents=True, exist_ok=True)
        write_volume(pair.uldct, held_out / "train_input.nrrd")
        write_volume(pair.truth, held_out / "train_target.nrrd")
        write_volume(pair.labels, held_out / "labels.nrrd", dtype=np.uint8)
    return {"train": train_dirs, "validation": val_dirs, "phantom": str(held_out)}


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
    for name, ids in SCORED_REGION_LABELS.items():
        region = np.isin(labels, ids)
        figures[f"{name}_input_rmse_hu"] = round(region_rmse(uldct.array, truth, region), 1)
        figures[f"{name}_rmse_hu"] = round(region_rmse(denoised, truth, region), 1)
    figures["cpu_seconds_per_slice"] = round(seconds / uldct.shape[0], 3)
    return figures


CARD = """# {name}: {description}

Architecture: {reference}; arguments `{arch_args}`; {params:,} parameters;
{gflops:.1f} GFLOPs per 512x512 slice; {context}; noise-conditioned (channel 0 is the input's measured
noise level over {noise_scale:g} HU; `ipv2 denoise --strength` sets the dose multiple the result
aims at, `ipv2.denoise.strength`). Weights stored as float16 safetensors.

**For research use only.** Not a medical device. Trained on simulated low-dose versions of
two real normal-dose scans; validated on a third, held-out real scan with simulated noise
and on a held-out phantom, not on real low-dose acquisitions.

## Data
{attribution}

| volume | use | source and licence |
|---|---|---|
{source_rows}

{pairs} training pairs, each one normal-dose slice (with its neighbours for a 2.5D model,
each slice with its own noise) under a randomly drawn acquisition
(`ipv2.training.acquisitions`): dose log-uniform from 1% to 50% of the source's, 15% of
the pairs at full dose (input = target, so clean scans come back unchanged); kernel smooth,
standard, sharp or lung (plain ramp); pixel spacing 0.5 to 1.0 mm; electronic noise on or
off; for a 2.5D model, neighbouring slices 1 to 5 mm apart. Standard-kernel pairs insert the
missing noise into the slice (target: the slice);
other kernels take the full low-dose reconstruction as input and its noise-free twin as
target. Regenerate with `python benchmarks/train_bundled.py --realct DIR --models {name}`.

## Settings
`ipv2 train` with {steps} steps, patches {patch}x{patch}, batch {batch}, AdamW (lr {lr:g},
{warmup} warm-up steps, cosine schedule), {loss} loss, seed {seed}, on the CPU;
normalisation: HU clipped to [{low:g}, {high:g}] and scaled to [0, 1]. Training took
{minutes:g} min.

## Validation
Held-out real chest ({validation_volume}), {val_pairs} pairs drawn like the training
pairs: RMSE {val_input_rmse:.1f} HU at the input, {val_rmse:.1f} HU denoised (whole slices).
`python benchmarks/bench_quality.py --realct DIR` gives the full table per dose and kernel
(README, "Denoising quality on a real chest").

Held-out phantom (seed {val_seed}, 2% dose, standard kernel), RMSE in HU against its truth
(the noise-free scan of the same chest, so the uLDCT's error is its noise alone):

| region | uLDCT input | denoised |
|---|---|---|
| lung (parenchyma, vessels, nodules, airways, tumour) | {lung_input_rmse_hu} | {lung_rmse_hu} |
| body (chest wall, mediastinum, bone, upper abdomen with its gas) | {body_input_rmse_hu} | {body_rmse_hu} |

CPU time while validating: {cpu_seconds_per_slice} s per slice.

## Task-based figures
The real-chest validation RMSE is of the network's estimate alone; the phantom table is of
`ipv2 denoise` at its default strength, medium. What a reader needs, detectability,
contrast kept, noise power spectrum and task transfer function at each strength, comes
from `python benchmarks/bench_detectability.py --methods {name}@low {name}@medium
{name}@high` and, for small lesions in the held-out real chest,
`python benchmarks/bench_lesions.py --realct DIR`.
"""


def write_card(name: str, checkpoint: Path, figures: dict, minutes: float) -> Path:
    loaded = load_checkpoint(checkpoint)
    record = loaded.metadata
    training = record["training"]
    config = training["config"]
    validation = record.get("validation") or {}
    spec = MODEL_REGISTRY[name]
    rows = [
        f"| {volume} | {'validation' if volume == VALIDATION_VOLUME else 'training'} | {text} |"
        for volume, text in SOURCES.items()
    ]
    text = CARD.format(
        name=name,
        description=spec.description,
        reference=spec.reference,
        arch_args=json.dumps(loaded.arch_args),
        params=count_parameters(loaded.model),
        gflops=gflops_per_slice(loaded.model, in_channels=loaded.in_channels),
        noise_scale=loaded.noise_scale_hu or 0,
        context=(
            f"2.5D: reads {loaded.context_slices} neighbouring slice(s) on each side"
            if loaded.context_slices
            else "2D: reads one slice at a time"
        ),
        attribution=ATTRIBUTION,
        source_rows="\n".join(rows),
        pairs=record["data"]["slices"] // (2 * loaded.context_slices + 1),
        steps=training["steps"],
        patch=config["patch"],
        batch=config["batch"],
        lr=config["lr"],
        warmup=config["warmup_steps"],
        loss=config["loss"].upper().replace("_GRAD", "+gradient"),
        seed=config["seed"],
        low=loaded.normalization.low,
        high=loaded.normalization.high,
        minutes=minutes,
        validation_volume=VALIDATION_VOLUME,
        val_pairs=VALIDATION_PAIRS,
        val_input_rmse=validation.get("input_rmse", float("nan")),
        val_rmse=validation.get("rmse", float("nan")),
        val_seed=VALIDATION_SEED,
        **figures,
    )
    path = checkpoint.with_suffix(".md")
    path.write_text(text)
    return path


TABLE_START, TABLE_END = "<!-- bundled table start -->", "<!-- bundled table end -->"


def bundled_table(out: Path) -> str:
    """The docs table of every bundled model, from the figures stored in each file's record."""
    rows = [
        "| model (bundled size) | training (CPU) | real chest RMSE, input -> denoised "
        "| phantom lung RMSE, input -> denoised | phantom body |",
        "|---|---|---|---|---|",
    ]
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
        validation = loaded.metadata.get("validation") or {}
        rows.append(
            f"| {label} | {loaded.metadata['training']['steps']} steps, "
            f"{figures['training_minutes']:g} min | {validation.get('input_rmse', float('nan')):.1f} -> "
            f"{validation.get('rmse', float('nan')):.1f} | {figures['lung_input_rmse_hu']} -> "
            f"{figures['lung_rmse_hu']} | {figures['body_input_rmse_hu']} -> {figures['body_rmse_hu']} |"
        )
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


def recipe_config(
    name: str,
    data: dict,
    work: Path,
    *,
    registered_size: bool = False,
    device: str = "cpu",
    steps_scale: float = 1.0,
    validation_slices: int = VALIDATION_PAIRS,
) -> TrainConfig:
    """The training run of one model: its bundled recipe, or with `registered_size` the same
    recipe at the size `ipv2.models.registry` registers (too slow for a CPU, a GPU's work)."""
    recipe = dict(RECIPES[name])
    recipe["steps"] = max(1, int(recipe["steps"] * steps_scale))
    if registered_size:
        recipe["model_args"] = {}
    folder = work / "registered" if registered_size else work
    return TrainConfig(
        data=data["train"],
        val=data["validation"],
        out=str(folder / f"{name}.safetensors"),
        model=name,
        val_slices=validation_slices,
        device=device,
        **recipe,
        **SETTINGS,
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--realct",
        required=True,
        type=Path,
        help="folder of the real normal-dose volumes (chest_ricord_1, chest_ricord_2, abdomen_pancreatic_001 .nrrd)",
    )
    parser.add_argument("--models", nargs="+", default=list(RECIPES), choices=list(RECIPES))
    parser.add_argument("--work", default="build/bundled-training", help="folder for the pairs and the phantom")
    parser.add_argument("--out", default=str(bundled_models_dir()), help="folder of the bundled weights")
    parser.add_argument("--docs", default="docs/models.md", help="documentation whose bundled table is rewritten")
    parser.add_argument("--retrain", action="store_true", help="train again models already trained in --work")
    parser.add_argument("--steps-scale", type=float, default=1.0, help="scale every recipe's steps (quick trials)")
    # Small batches gain little from a second thread, and on a shared machine two threads
    # spin-waiting for each other run many times slower than one.
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for training and validation")
    parser.add_argument(
        "--validation-slices", type=int, default=VALIDATION_PAIRS, help="validation pairs scored during training"
    )
    parser.add_argument("--device", default="cpu", help="where to train: cpu, cuda or cuda:N")
    parser.add_argument(
        "--registered-sizes",
        action="store_true",
        help="train each model at its registered size into --work/registered instead of "
        "rebuilding the bundled weights (a GPU's work)",
    )
    args = parser.parse_args(argv)
    try:  # before the pairs are made, minutes of work
        args.device = require_device_name(args.device, "--device")
    except InputError as error:
        parser.error(str(error))
    torch.set_num_threads(max(1, args.threads))
    work, out = Path(args.work), Path(args.out)
    prepared: dict[int, dict] = {}
    for name in args.models:
        context = int(RECIPES[name].get("context_slices", 0))
        if context not in prepared:
            prepared[context] = prepare_data(work, args.realct, context)
        data = prepared[context]
        checkpoint = out / f"{name}.safetensors"
        config = recipe_config(
            name,
            data,
            work,
            registered_size=args.registered_sizes,
            device=args.device,
            steps_scale=args.steps_scale,
            validation_slices=args.validation_slices,
        )
        # An interrupted regeneration continues where it stopped, with identical results.
        config.resume = config.state_path.is_file() and not Path(config.out).is_file()
        started = time.perf_counter()
        if args.retrain or not Path(config.out).is_file():
            train(config, Monitor(TqdmProgress()))
            minutes = round((time.perf_counter() - started) / 60, 1)
            Path(config.out).with_suffix(".minutes").write_text(f"{minutes}\n")
        minutes_file = Path(config.out).with_suffix(".minutes")
        minutes = float(minutes_file.read_text()) if minutes_file.is_file() else 0.0
        figures = evaluate_on_phantom(Path(config.out), Path(data["phantom"]))
        loaded = load_checkpoint(config.out)
        validation = loaded.metadata.get("validation") or {}
        print(
            json.dumps(
                {
                    "model": name,
                    "arch_args": loaded.arch_args,
                    "device": args.device,
                    "minutes": minutes,
                    "validation_rmse_hu": validation.get("rmse"),
                    **figures,
                }
            ),
            flush=True,
        )
        if args.registered_sizes:
            continue
        record = {**loaded.metadata, "phantom_evaluation": {**figures, "training_minutes": minutes}}
        save_checkpoint(checkpoint, loaded.model.state_dict(), record, half=True)
        write_card(name, checkpoint, figures, minutes)
    if args.registered_sizes:
        return 0
    table = bundled_table(out)
    if update_docs_table(Path(args.docs), table):
        print(f"updated the bundled table in {args.docs}")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
