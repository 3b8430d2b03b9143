"""The three-view comparison of docs and README, made from the backend's own outputs.

Generates a held-out phantom uLDCT (2% dose), runs `ipv2 denoise --removed` on it as a user
would (default model and strength), and draws the middle slice of the input, the denoised
scan and the removed image (input minus output) side by side in the soft-tissue window
(removed: +-3x the measured noise), as the Denoise panel's Compare shows them. Writes
`docs/images/denoise_compare.png` and copies the account beside it as
`docs/images/denoise_compare.denoise.json`.

    python benchmarks/figure_denoise_compare.py [--out docs/images]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from ipv2.cli.main import main as ipv2_main
from ipv2.io import read_volume, write_volume
from ipv2.phantom import Acquisition, PhantomOptions, generate_phantom_pair

SEED = 23  # a phantom no model was trained or validated on
SOFT_WINDOW = (40.0, 400.0)  # level, width


def _window(image: np.ndarray, level: float, width: float) -> np.ndarray:
    return np.clip((image - (level - width / 2)) / width, 0.0, 1.0)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    args = parser.parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        pair = generate_phantom_pair(Acquisition.resolve(512, 8), PhantomOptions(seed=SEED, dose=0.02), device="cpu")
        write_volume(pair.uldct, work / "uldct.nrrd")
        code = ipv2_main(
            [
                "denoise",
                "--in",
                str(work / "uldct.nrrd"),
                "--out",
                str(work / "denoised.nrrd"),
                "--removed",
                str(work / "removed.nrrd"),
                "--device",
                "cpu",
                "--progress",
                "none",
            ]
        )
        if code != 0:
            return code
        account = json.loads((work / "denoised.denoise.json").read_text())
        images = [read_volume(work / name).array for name in ("uldct.nrrd", "denoised.nrrd", "removed.nrrd")]
        middle = images[0].shape[0] // 2
        noise = float(account.get("measured_noise_hu") or 50.0)
        panels = [
            _window(images[0][middle], *SOFT_WINDOW),
            _window(images[1][middle], *SOFT_WINDOW),
            _window(images[2][middle], 0.0, 6.0 * noise),
        ]
        titles = ["input (2% dose)", f"denoised ({account['model']})", "removed (input - denoised)"]
        figure, axes = plt.subplots(1, 3, figsize=(15, 5.4))
        for axis, panel, title in zip(axes, panels, titles):
            axis.imshow(panel, cmap="gray", vmin=0, vmax=1)
            axis.set_title(title)
            axis.axis("off")
        soft = account["regions"]["soft_tissue"]
        figure.suptitle(
            f"soft-tissue noise {soft['noise_before_hu']} -> {soft['noise_after_hu']} HU; "
            f"NPS mean frequency x{account['texture']['ratio']}; structure check: "
            f"{len(account['structure_check']['flagged_slices'])} slices flagged"
        )
        figure.tight_layout()
        args.out.mkdir(parents=True, exist_ok=True)
        figure.savefig(args.out / "denoise_compare.png", dpi=80)
        shutil.copyfile(work / "denoised.denoise.json", args.out / "denoise_compare.denoise.json")
    print(f"written {args.out / 'denoise_compare.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
