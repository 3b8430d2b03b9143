"""Which training loss keeps structure: the default network trained with each loss, same data and seed.

Trains the bundled default recipe (`train_bundled.py`: real-anatomy pairs, noise
conditioning) with `mse`, `l1` and `l1_grad` for the same number of steps, then scores each
on cases of the held-out real chest (`bench_quality.py`: RMSE, windowed SSIM, contrast of
small structures). Prints a table and, as its LAST line, one JSON object
{loss: {case: figures}}.

    python benchmarks/compare_losses.py --realct PATH/TO/realct [--steps 800] [--slices 2]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
from bench_quality import COLUMNS, chest_cases, print_table, regions_of, rounded_figures, run_method, score
from train_bundled import RECIPES, SETTINGS, prepare_data

from ipv2.training import TrainConfig, train
from ipv2.training.losses import LOSSES

CASES = ("chest_2pct_standard", "chest_10pct_sharp", "chest_full_dose")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--realct", required=True, type=Path, help="folder of the real normal-dose volumes")
    parser.add_argument(
        "--work",
        default="build/bundled-training",
        type=Path,
        help="the pairs of train_bundled.py (made there if missing)",
    )
    parser.add_argument("--steps", type=int, default=800, help="training steps per loss (default 800)")
    parser.add_argument("--slices", type=int, default=2, help="slices per scored case (default 2)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads")
    args = parser.parse_args(argv)
    torch.set_num_threads(max(1, args.threads))
    data = prepare_data(args.work, args.realct)
    cases = [case for case in chest_cases(args.realct, args.slices) if case.name in CASES]
    results = {}
    for loss in LOSSES:
        out = args.work / "losses" / f"unet_{loss}_{args.steps}.safetensors"
        if not out.is_file():
            settings = {**SETTINGS, "loss": loss, "checkpoint_every": 0, "half_weights": False}
            recipe = {**RECIPES["unet"], "steps": args.steps}
            train(TrainConfig(data=data["train"], out=str(out), model="unet", **recipe, **settings))
        results[loss] = {}
        for case in cases:
            output, _ = run_method(str(out), case.noisy, case.grid, case.slab_depth)
            reference = case.reference[case.centres]
            figures = score(output[case.centres], reference, regions_of(reference, case.grid), case.grid)
            results[loss][case.name] = rounded_figures(figures)
    print_table(results, [case.name for case in cases], COLUMNS, label="loss")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
