"""Writing a phantom pair: volumes, preview figure and, on request, the authors' PNG layout."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Union

import numpy as np

from ipv2.display import LUNG_WINDOW, Window
from ipv2.io import atomic_output_dir, write_labelmap, write_volume
from ipv2.io.png_dataset import write_png_slice
from ipv2.phantom.deformation import write_deformation
from ipv2.phantom.preview import render_preview
from ipv2.phantom.tissues import LABEL_NAMES
from ipv2.progress import Monitor

PathLike = Union[str, os.PathLike[str]]
VOLUME_FILES = ("ndct.nrrd", "uldct.nrrd", "truth.nrrd", "labels.nrrd", "deformation.nrrd")
OUTPUT_FILES = VOLUME_FILES + ("phantom.json", "preview.png")


def to_8bit(hu: np.ndarray, window: Window = LUNG_WINDOW) -> np.ndarray:
    """HU to 8-bit through a window, as the authors' PNG slices are stored."""
    return np.rint(window.normalised(hu) * 255.0).astype(np.uint8)


def png_slice_name(seed: int, index: int) -> str:
    return f"phantom{seed}_{index:03d}.png"


def write_phantom(
    pair, out_dir: PathLike, png: bool = False, preview: bool = True, monitor: Monitor | None = None
) -> dict[str, Path]:
    """Writes ndct, uldct, truth, labels and deformation NRRDs, phantom.json, preview.png and
    with `png` the folders png/lq (uLDCT) and png/gt (NDCT). All files appear at once, when
    everything is written. The deformation is written on its own coarse grid
    (`ipv2.phantom.deformation`), which phantom.json's "deformation_grid" describes."""
    monitor = monitor if monitor is not None else Monitor()
    out_dir = Path(out_dir)
    steps = 6 + (1 if png else 0)
    with atomic_output_dir(out_dir) as tmp:
        monitor.step("writing phantom", 0, steps)
        # Scanners store whole HU in 16 bits; the truth keeps its fractions.
        scans = {
            "gt": pair.ndct.with_array(np.rint(pair.ndct.array)),
            "lq": pair.uldct.with_array(np.rint(pair.uldct.array)),
        }
        write_volume(scans["gt"], tmp / "ndct.nrrd", dtype=np.int16)
        monitor.step("writing phantom", 1, steps)
        write_volume(scans["lq"], tmp / "uldct.nrrd", dtype=np.int16)
        monitor.step("writing phantom", 2, steps)
        write_volume(pair.truth, tmp / "truth.nrrd", dtype=np.float32)
        monitor.step("writing phantom", 3, steps)
        write_labelmap(pair.labels.array, pair.truth, tmp / "labels.nrrd")
        stored = write_deformation(pair.deformation, tmp / "deformation.nrrd")
        monitor.step("writing phantom", 4, steps)
        record = dict(pair.parameters or {})
        record["labels"] = {str(k): v for k, v in LABEL_NAMES.items()}
        record["deformation"] = (
            "displacement D in mm, components (x, y, z) in LPS: the uLDCT-state point p "
            "shows the tissue found at p + D(p) in the NDCT; stored on a coarser grid of its "
            "own spanning the same box, to be interpolated linearly (ITK's "
            "DisplacementFieldTransform does)"
        )
        record["deformation_grid"] = {
            "size": [int(n) for n in stored.shape[:3][::-1]],
            "spacing_mm": list(stored.spacing),
            "origin_mm": list(stored.origin),
        }
        (tmp / "phantom.json").write_text(json.dumps(record, indent=2) + "\n")
        if preview:
            render_preview(pair, tmp / "preview.png")
        monitor.step("writing phantom", 5, steps)
        if png:
            seed = int((pair.parameters or {}).get("seed", 0))
            for sub, volume in scans.items():
                for index, hu_slice in enumerate(volume.array):
                    write_png_slice(to_8bit(hu_slice), tmp / "png" / sub / png_slice_name(seed, index))
            monitor.step("writing phantom", 6, steps)
        monitor.step("writing phantom", steps, steps)
    written = {name.split(".")[0]: out_dir / name for name in VOLUME_FILES}
    written["parameters"] = out_dir / "phantom.json"
    if preview:
        written["preview"] = out_dir / "preview.png"
    if png:
        written["png"] = out_dir / "png"
    return written
