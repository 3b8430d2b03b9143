"""The region masks against the phantom's true labels, per acquisition variant, on held-out seeds.

For each variant of `ipv2.phantom.ACQUISITION_VARIANTS` and each seed, a phantom pair is
generated and its masks computed from the uLDCT and NDCT as `ipv2 purify` computes them.
The masks of a pair are the union of what is dark in either breathing state, so the truth is
the union too: a voxel is truly background when it is background in either state, and truly
lung field when it is lung field (lung, airways, pulmonary vessels, nodules, tumour) in either.
Background is the method's: dark and outside the patient (air, padding, the couch's foam and
air layers), so the couch's dense shell, which is not dark, is not counted in it.

Figures per variant (the worst seed):
- Dice of the background mask, and of the lung field, against the truth
  (Dice = 2|A and B| / (|A| + |B|));
- gas truly outside the lungs (stomach, bowel; in either state, where neither state shows
  lung field) labelled lung, in mL;
- the share of the true lung labelled lung, and whether the masks warned of a lung cut by
  the field of view (the cropped variant must reach 90% or warn).
Targets: background Dice >= 0.97, lung field Dice >= 0.95, other gas as lung < 1 mL.

The seeds default to 9001-9003: no test, figure or rule of the project was made on them.
Prints a table and, as its LAST line, one JSON object {variant: {figure: value}}.

    python benchmarks/bench_masks_truth.py [--seeds 9001 9002 9003] [--variants default cropped]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from ipv2.masks import compute_region_masks
from ipv2.phantom import generate_phantom_pair, phantom_variant
from ipv2.phantom import tissues as phantom_tissues
from ipv2.phantom.variants import ACQUISITION_VARIANTS

TARGETS = {"background_dice": 0.97, "lung_field_dice": 0.95, "other_gas_as_lung_ml": 1.0, "lung_recall": 0.90}


def dice(found: np.ndarray, truth: np.ndarray) -> float:
    total = int(np.count_nonzero(found)) + int(np.count_nonzero(truth))
    return 1.0 if total == 0 else 2.0 * np.count_nonzero(found & truth) / total


# The masks' lung field holds their lung, airways included: so does the truth here.
LUNG_FIELD_IDS = [phantom_tissues.tissue_id(name) for name in phantom_tissues.LUNG_FIELD_TISSUES + ("airway lumen",)]
# The method's background is dark (the part of the dark mask connected to the border): the
# couch's dense shell is outside the patient but not dark, so it is not background to it.
TABLE_SHELL = phantom_tissues.tissue_id("table shell")
LUNG_IDS = [phantom_tissues.tissue_id(name) for name in ("lung parenchyma", "airway lumen", "airway lumen in lung")]


def true_regions(pair):
    """(background, lung field, other gas, lung) of the pair, each the union over both
    breathing states."""
    background = lung_field = other_gas = lung = False
    for tissues in (pair.tissues.array, pair.ndct_tissues.array):
        labels = phantom_tissues.TISSUE_TO_LABEL[tissues]
        background = background | ((labels == phantom_tissues.LABEL_BACKGROUND) & (tissues != TABLE_SHELL))
        lung_field = lung_field | np.isin(tissues, LUNG_FIELD_IDS)
        lung = lung | np.isin(tissues, LUNG_IDS)
        other_gas = other_gas | (labels == phantom_tissues.LABEL_OTHER_GAS)
    # Gas in one state where the other shows lung is lung to the masks of the pair, rightly.
    return background, lung_field & ~background, other_gas & ~lung_field & ~background, lung & ~background


def score(variant: str, seed: int) -> dict:
    start = time.perf_counter()
    pair = generate_phantom_pair(*phantom_variant(variant, seed=seed))
    masks = compute_region_masks(pair.uldct, pair.ndct)
    background, field, other_gas, lung = true_regions(pair)
    sx, sy, sz = pair.uldct.spacing
    voxel_ml = sx * sy * sz / 1000.0
    warned = any("field of view" in warning for warning in masks.warnings)
    return {
        "background_dice": dice(masks.background, background),
        "lung_field_dice": dice(masks.lung_field, field),
        "other_gas_as_lung_ml": float(np.count_nonzero(other_gas & masks.lung) * voxel_ml),
        "lung_recall": float(np.count_nonzero(lung & masks.lung) / max(1, np.count_nonzero(lung))),
        "cut_lung_warning": bool(warned),
        "seconds": time.perf_counter() - start,
    }


def worst(scores) -> dict:
    """The worst seed's figure for each measure (lowest Dice and recall, most misplaced gas)."""
    return {
        "background_dice": min(s["background_dice"] for s in scores),
        "lung_field_dice": min(s["lung_field_dice"] for s in scores),
        "other_gas_as_lung_ml": max(s["other_gas_as_lung_ml"] for s in scores),
        "lung_recall": min(s["lung_recall"] for s in scores),
        "cut_lung_warning": any(s["cut_lung_warning"] for s in scores),
        "seconds": sum(s["seconds"] for s in scores),
    }


def verdict(variant: str, figures: dict) -> str:
    missed = []
    if figures["background_dice"] < TARGETS["background_dice"]:
        missed.append("background")
    if figures["lung_field_dice"] < TARGETS["lung_field_dice"]:
        missed.append("lung field")
    if figures["other_gas_as_lung_ml"] >= TARGETS["other_gas_as_lung_ml"]:
        missed.append("other gas")
    if figures["lung_recall"] < TARGETS["lung_recall"] and not figures["cut_lung_warning"]:
        missed.append("lung recall")
    return "met" if not missed else "missed: " + ", ".join(missed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[9001, 9002, 9003])
    parser.add_argument("--variants", nargs="+", default=list(ACQUISITION_VARIANTS), choices=list(ACQUISITION_VARIANTS))
    args = parser.parse_args()

    results = {}
    print(
        f"{'variant':<14} {'bg Dice':>8} {'field Dice':>10} {'gas as lung mL':>15} {'lung recall':>12} "
        f"{'warned':>7} {'s':>6}  verdict"
    )
    for variant in args.variants:
        figures = worst([score(variant, seed) for seed in args.seeds])
        results[variant] = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in figures.items()}
        print(
            f"{variant:<14} {figures['background_dice']:>8.4f} {figures['lung_field_dice']:>10.4f} "
            f"{figures['other_gas_as_lung_ml']:>15.2f} {figures['lung_recall']:>12.3f} "
            f"{str(figures['cut_lung_warning']):>7} {figures['seconds']:>6.0f}  {verdict(variant, figures)}",
            flush=True,
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
