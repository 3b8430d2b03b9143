"""Training pairs and the patches drawn from them.

A `--data` path is one of:
- a folder holding `train_input.*` and `train_target.*` volumes (what `ipv2 purify` writes);
- two volume files joined by a comma, `INPUT,TARGET`;
- the authors' PNG layout, a folder with `lq/` (input) and `gt/` (target) slices;
- a folder whose sub-folders are any of the above (one per scan).

Patches are a pure function of (seed, step): resuming at step k draws exactly the patches
an uninterrupted run would have drawn, whatever happened before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ipv2.denoise.inference import slab_of
from ipv2.errors import InputError
from ipv2.input_checks import require_ct, require_same_grid
from ipv2.io.png_dataset import open_png_dataset
from ipv2.io.suffixes import VOLUME_SUFFIXES
from ipv2.io.volumes import read_volume
from ipv2.models.conditioning import NOISE_SCALE_HU, slice_noise_levels
from ipv2.models.normalization import Normalization
from ipv2.progress import Monitor
from ipv2.training.augment import augment_pair

INPUT_STEM, TARGET_STEM = "train_input", "train_target"
# The share of a 2.5D model's patches whose neighbours are the centre slice itself: what the
# model reads at a volume's ends and in a one-slice scan, where it must denoise as a 2D model.
SINGLE_SLICE_FRACTION = 0.1


def centre_slices(depth: int, context_slices: int) -> np.ndarray:
    """The slices of a `depth`-slice volume a model with `context_slices` learns from and is
    scored on: those with every neighbour inside the volume, or all if none has (a one-slice pair)."""
    if depth >= 2 * context_slices + 1:
        return np.arange(context_slices, depth - context_slices)
    return np.arange(depth)


@dataclass
class TrainingPair:
    name: str
    inputs: np.ndarray  # (z, y, x) float32, HU or 8-bit levels
    target: np.ndarray
    kind: str  # "hu" or "png8"
    noise_hu: np.ndarray | None = None  # per input slice, for noise-conditioned models

    def noise_levels(self) -> np.ndarray:
        """The input slices' noise levels in HU (`ipv2.models.conditioning`), measured once."""
        if self.noise_hu is None:
            self.noise_hu = slice_noise_levels(self.inputs)
        return self.noise_hu

    @property
    def slices(self) -> int:
        return self.inputs.shape[0]


def _volume_file(folder: Path, stem: str) -> Path | None:
    for suffix in VOLUME_SUFFIXES:
        candidate = folder / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def _is_png_layout(folder: Path) -> bool:
    return (folder / "lq").is_dir() and (folder / "gt").is_dir()


@dataclass(frozen=True)
class PairSource:
    """Where one training pair is read from, found without reading a voxel.

    `kind` "volumes": `input` and `target` are volume files (or DICOM folders); "png":
    `input` is a dataset folder with lq/ and gt/.
    """

    name: str
    kind: str
    input: Path
    target: Path | None = None

    def files(self) -> list[Path]:
        """Every file (or DICOM folder) that loading this pair reads."""
        if self.kind == "png":
            dataset = open_png_dataset(self.input)
            return [dataset.lq_dir / n for n in dataset.names] + [dataset.gt_dir / n for n in dataset.names]
        return [self.input, self._target()]

    def load(self) -> TrainingPair:
        return _png_pair(self.input) if self.kind == "png" else _volume_pair(self.input, self._target(), self.name)

    def _target(self) -> Path:
        if self.target is None:  # find_pair_sources gives every "volumes" source its target
            raise ValueError(f"{self.name}: a {self.kind} source without a target volume")
        return self.target


def _volume_pair(input_path: Path, target_path: Path, name: str) -> TrainingPair:
    inputs, target = read_volume(input_path), read_volume(target_path)
    require_ct(inputs, str(input_path))
    require_ct(target, str(target_path))
    # Voxel (k, j, i) of the input must be voxel (k, j, i) of the target: same size, spacing, orientation.
    require_same_grid(inputs, target, f"{name}: input", "target")
    return TrainingPair(
        name, inputs.array.astype(np.float32, copy=False), target.array.astype(np.float32, copy=False), "hu"
    )


def _png_pair(folder: Path) -> TrainingPair:
    dataset = open_png_dataset(folder)
    inputs: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    for slice_name in dataset.names:
        lq, gt = dataset.read_pair(slice_name)
        if lq.shape != gt.shape:
            raise InputError(f"{folder}: slice {slice_name} is {lq.shape} in lq/ but {gt.shape} in gt/")
        if inputs and lq.shape != inputs[0].shape:
            raise InputError(
                f"{folder}: slice {slice_name} is {lq.shape}, the others {inputs[0].shape}; "
                "slices of one dataset must share a size"
            )
        inputs.append(lq)
        targets.append(gt)
    return TrainingPair(str(folder), np.stack(inputs).astype(np.float32), np.stack(targets).astype(np.float32), "png8")


def find_pair_sources(path_text: str) -> list[PairSource]:
    """The pairs a `--data` path names (see the module docstring), without reading them."""
    if "," in path_text:
        parts = [p.strip() for p in path_text.split(",")]
        if len(parts) != 2 or not all(parts):
            raise InputError(f"{path_text}: a file pair is written INPUT,TARGET")
        missing = [part for part in parts if not Path(part).exists()]
        if missing:
            raise InputError(f"{path_text}: no such file {missing[0]}")
        return [PairSource(path_text, "volumes", Path(parts[0]), Path(parts[1]))]
    path = Path(path_text)
    if not path.exists():
        raise InputError(f"{path}: no such training data file or folder")
    if path.is_file():
        raise InputError(
            f"{path}: a single file; give a folder with {INPUT_STEM} and {TARGET_STEM} volumes, "
            "a pair INPUT,TARGET, or a PNG dataset folder"
        )
    if _is_png_layout(path):
        return [PairSource(str(path), "png", path)]
    input_file, target_file = _volume_file(path, INPUT_STEM), _volume_file(path, TARGET_STEM)
    if input_file and target_file:
        return [PairSource(str(path), "volumes", input_file, target_file)]
    if input_file or target_file:
        absent = TARGET_STEM if input_file else INPUT_STEM
        raise InputError(f"{path}: has one volume of the pair but no {absent} volume")
    sources = []
    for child in sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if _is_png_layout(child) or (_volume_file(child, INPUT_STEM) and _volume_file(child, TARGET_STEM)):
            sources.extend(find_pair_sources(str(child)))
    if not sources:
        raise InputError(
            f"{path}: found no training pairs ({INPUT_STEM}/{TARGET_STEM} volumes or lq/ and gt/ "
            "PNG folders) in it or its sub-folders"
        )
    return sources


def training_files(paths: Sequence[str]) -> list[Path]:
    """Every file that training on `paths` reads: what no output of the run may replace."""
    return [file for path in paths for source in find_pair_sources(str(path)) for file in source.files()]


def load_pairs(paths: Sequence[str], what: str = "training data", monitor: Monitor | None = None) -> list[TrainingPair]:
    monitor = monitor or Monitor()
    sources = [source for path in paths for source in find_pair_sources(str(path))]
    pairs = [source.load() for source in monitor.track(sources, f"load {what}")]
    kinds = sorted({pair.kind for pair in pairs})
    if len(kinds) > 1:
        raise InputError(f"{what}: mixes CT volumes in HU with 8-bit PNG slices; train on one kind at a time")
    return pairs


def data_summary(pairs: Sequence[TrainingPair]) -> dict:
    return {
        "kind": pairs[0].kind if pairs else None,
        "pairs": len(pairs),
        "slices": int(sum(pair.slices for pair in pairs)),
        "slice_shapes": sorted({f"{p.inputs.shape[1]}x{p.inputs.shape[2]}" for p in pairs}),
        "sources": [Path(pair.name).name or pair.name for pair in pairs],
    }


class PatchSampler:
    """Random patches with flips and quarter turns, drawn as a function of (seed, step).

    With `noise_conditioning` each input patch gains channel 0, its slice's noise level over
    NOISE_SCALE_HU (`ipv2.models.conditioning`). With `context_slices` k the patches are
    centred on slices with k neighbours on each side inside their pair (`centre_slices`), and
    SINGLE_SLICE_FRACTION of them see the centre slice in place of its neighbours.
    """

    def __init__(
        self,
        pairs: Sequence[TrainingPair],
        patch: int,
        normalization: Normalization,
        context_slices: int = 0,
        seed: int = 0,
        noise_conditioning: bool = False,
    ):
        if not pairs:
            raise InputError("training data: no pairs")
        for pair in pairs:
            _, height, width = pair.inputs.shape
            if patch > min(height, width):
                raise InputError(
                    f"--patch {patch} is larger than the {height}x{width} slices of {pair.name}; "
                    f"use --patch {min(height, width)} or less"
                )
        self.pairs = list(pairs)
        self.patch = patch
        self.normalization = normalization
        self.context_slices = context_slices
        self.seed = seed
        self.noise_conditioning = noise_conditioning
        if noise_conditioning:
            for pair in self.pairs:
                pair.noise_levels()
        self._centres = [centre_slices(pair.slices, context_slices) for pair in self.pairs]
        self._slice_starts = np.cumsum([0] + [centres.size for centres in self._centres])

    @property
    def total_slices(self) -> int:
        """The slices patches are centred on."""
        return int(self._slice_starts[-1])

    def patches_per_epoch(self) -> int:
        """Non-overlapping patch positions over every slice: what one pass over the data means here."""
        count = 0
        for pair in self.pairs:
            depth, height, width = pair.inputs.shape
            count += depth * int(np.ceil(height / self.patch)) * int(np.ceil(width / self.patch))
        return count

    def batch(
        self, step: int, global_size: int, start: int = 0, size: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Items [start, start + size) of the global batch of `step`: inputs (B, C, p, p), targets (B, 1, p, p)."""
        size = global_size - start if size is None else size
        rng = np.random.default_rng([self.seed, step])
        slice_ids = rng.integers(0, self.total_slices, size=global_size)
        corners = rng.random((global_size, 2))
        rotations = rng.integers(0, 4, size=global_size)
        flips = rng.integers(0, 2, size=global_size)
        p, k = self.patch, self.context_slices
        single = rng.random(global_size) < SINGLE_SLICE_FRACTION if k else np.zeros(global_size, bool)
        extra = 1 if self.noise_conditioning else 0
        inputs = np.empty((size, extra + 1 + 2 * k, p, p), dtype=np.float32)
        targets = np.empty((size, 1, p, p), dtype=np.float32)
        for out_index, item in enumerate(range(start, start + size)):
            pair_index = int(np.searchsorted(self._slice_starts, slice_ids[item], side="right") - 1)
            pair = self.pairs[pair_index]
            z = int(self._centres[pair_index][slice_ids[item] - self._slice_starts[pair_index]])
            depth, height, width = pair.inputs.shape
            y = int(corners[item, 0] * (height - p + 1))
            x = int(corners[item, 1] * (width - p + 1))
            neighbours = np.full(2 * k + 1, z) if single[item] else slab_of([z], k, depth)[0]
            patch_in = pair.inputs[neighbours, y : y + p, x : x + p]
            patch_target = pair.target[z : z + 1, y : y + p, x : x + p]
            patch_in, patch_target = augment_pair(patch_in, patch_target, int(rotations[item]), bool(flips[item]))
            inputs[out_index, extra:] = self.normalization.to_model(patch_in)
            if extra:
                inputs[out_index, 0] = pair.noise_levels()[z] / NOISE_SCALE_HU
            targets[out_index] = self.normalization.to_model(patch_target)
        return inputs, targets
