"""The commands the Slicer panels run, as data: the backend's side of the boundary.

Each class below is one `python -m ipv2 <COMMAND>` as a panel runs it, in a work folder of
its own: the options the panel chooses (named as the command line's own dests), `to_argv`,
the command line after `-m ipv2`, and the tables of the files it reads there (`INPUTS`) and
writes into its output folder (`OUTPUTS`). The panels build every run from these and type no
flag or file name of their own; tests/cli/test_protocol.py parses each `to_argv` with the
command's real parser, so the two cannot drift apart.

Imports the contract only: the panels import this module on Slicer's main thread, where the
backend's packages (torch, scipy, SimpleITK) would freeze the application.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import ClassVar, Union

from ipv2.contract import (
    CLASSICAL_DENOISERS,
    DEFAULT_DEVICE,
    DEFAULT_DOSE,
    DEFAULT_MODE,
    DEFAULT_MODEL,
    DEFAULT_SIMULATE_MODE,
    DEFAULT_STRENGTH,
    DEFAULT_TRAIN_STEPS,
    DEFAULT_WEAK_DENOISER,
    EVAL_LABEL_FILE,
    EXIT_CANCELLED,
    EXIT_OK,
    EXIT_USER_ERROR,
    MASKS_FILE,
    REPORT_FILE,
    TRAIN_INPUT_FILE,
    TRAIN_TARGET_FILE,
)

PathLike = Union[str, Path]


class ExitCode(IntEnum):
    """How `python -m ipv2` ended; the values are the contract's."""

    OK = EXIT_OK
    USER_ERROR = EXIT_USER_ERROR
    CANCELLED = EXIT_CANCELLED


@dataclass(frozen=True)
class BackendCommand:
    """What every command shares: its name, its files, and JSON progress for the panel to read.

    `INPUTS`: role -> path inside the work folder, for the files the panel writes before the
    run. `OUTPUTS`: role -> file name inside the output folder (`OUTPUT_FOLDER` inside the
    work folder; the work folder itself when empty)."""

    COMMAND: ClassVar[str] = ""
    INPUTS: ClassVar[dict[str, str]] = {}
    OUTPUTS: ClassVar[dict[str, str]] = {}
    LABEL_INPUTS: ClassVar[frozenset[str]] = frozenset()  # input roles that are labelmaps, not HU
    OUTPUT_FOLDER: ClassVar[str] = ""

    def input_names(self) -> dict[str, str]:
        """The inputs of this run (`INPUTS`, or the part of them its options read)."""
        return dict(self.INPUTS)

    def input_files(self, folder: PathLike) -> dict[str, Path]:
        return {role: Path(folder) / name for role, name in self.input_names().items()}

    def output_names(self) -> dict[str, str]:
        return dict(self.OUTPUTS)

    def output_folder(self, folder: PathLike) -> Path:
        return Path(folder) / self.OUTPUT_FOLDER

    def output_files(self, folder: PathLike) -> dict[str, Path]:
        """Where the run in work folder `folder` writes each of its outputs."""
        return {role: self.output_folder(folder) / name for role, name in self.output_names().items()}

    def output_file(self, folder: PathLike, role: str) -> Path:
        return self.output_files(folder)[role]

    def to_argv(self, folder: PathLike) -> list[str]:
        """The command line after `python -m ipv2` for a run in work folder `folder`."""
        return [self.COMMAND, *self.options(Path(folder)), "--progress", "json"]

    def options(self, folder: Path) -> list[str]:
        raise NotImplementedError


@dataclass(frozen=True)
class DenoiseCommand(BackendCommand):
    """`ipv2 denoise` of one volume, with the removed image, the account and, for region-aware
    strengths, the region masks they used. The classical methods take no strength (they
    measure the noise), so none is passed for them; with `strength_lung` and `strength_body`
    those replace `strength`."""

    COMMAND: ClassVar[str] = "denoise"
    INPUTS: ClassVar[dict[str, str]] = {"input": "input.nrrd"}
    OUTPUTS: ClassVar[dict[str, str]] = {
        "denoised": "denoised.nrrd",
        "removed": "removed.nrrd",
        "regions": "regions.nrrd",  # with region-aware strengths only
        "account": "denoised.denoise.json",  # <name>.denoise.json beside <name>.nrrd
    }

    model: str = DEFAULT_MODEL
    device: str = DEFAULT_DEVICE
    strength: str = DEFAULT_STRENGTH
    strength_lung: str | None = None
    strength_body: str | None = None

    @property
    def classical(self) -> bool:
        return str(self.model).lower() in CLASSICAL_DENOISERS

    @property
    def region_strengths(self) -> bool:
        return not self.classical and self.strength_lung is not None and self.strength_body is not None

    def options(self, folder: Path) -> list[str]:
        strengths: list[str] = []
        if self.region_strengths:
            strengths = ["--strength-lung", str(self.strength_lung), "--strength-body", str(self.strength_body)]
            # The masks those strengths use are computed anyway: the backend writes them once.
            strengths += ["--regions", str(self.output_file(folder, "regions"))]
        elif not self.classical:
            strengths = ["--strength", self.strength]
        return [
            "--model",
            str(self.model),
            "--in",
            str(self.input_files(folder)["input"]),
            "--out",
            str(self.output_file(folder, "denoised")),
            "--removed",
            str(self.output_file(folder, "removed")),
            "--device",
            self.device,
            *strengths,
            "--uncompressed",  # the panel's reader takes a quarter of the time it takes on gzip
        ]


@dataclass(frozen=True)
class PurifySettings:
    """The choices of a purification that a panel offers; `ipv2.purify.options.PurifyOptions`
    adds the backend's own (the noise level, the motion rules) to these."""

    mode: str = DEFAULT_MODE
    remove_background: bool = True
    add_noise: bool = True
    weak: str = DEFAULT_WEAK_DENOISER
    dose: float = DEFAULT_DOSE
    seed: int = 0
    simulate_mode: str = DEFAULT_SIMULATE_MODE
    device: str = DEFAULT_DEVICE


@dataclass(frozen=True)
class PurifyCommand(BackendCommand, PurifySettings):
    """`ipv2 purify` of one uLDCT/NDCT pair, written uncompressed into the output folder. The
    IPv2 switches are passed only in the modes that have them."""

    COMMAND: ClassVar[str] = "purify"
    INPUTS: ClassVar[dict[str, str]] = {"uldct": "uldct.nrrd", "ndct": "ndct.nrrd"}
    OUTPUTS: ClassVar[dict[str, str]] = {
        "masks": MASKS_FILE,
        "train_input": TRAIN_INPUT_FILE,
        "train_target": TRAIN_TARGET_FILE,
        "eval_label": EVAL_LABEL_FILE,
        "report": REPORT_FILE,
    }
    OUTPUT_FOLDER: ClassVar[str] = "out"  # `--out` must be a folder of its own, apart from the inputs

    def options(self, folder: Path) -> list[str]:
        inputs = self.input_files(folder)
        switches = []
        if self.mode != "ipv1":  # IPv1 has neither switch
            switches = [
                "--remove-background" if self.remove_background else "--no-remove-background",
                "--add-noise" if self.add_noise else "--no-add-noise",
            ]
        return [
            "--lq",
            str(inputs["uldct"]),
            "--gt",
            str(inputs["ndct"]),
            "--out",
            str(self.output_folder(folder)),
            "--mode",
            self.mode,
            "--weak",
            self.weak,
            "--dose",
            repr(float(self.dose)),
            "--seed",
            str(int(self.seed)),
            "--simulate-mode",
            self.simulate_mode,
            "--device",
            self.device,
            *switches,
            "--uncompressed",
        ]


@dataclass(frozen=True)
class TrainCommand(BackendCommand):
    """`ipv2 train` on `scene_pairs` pairs written into the work folder (each a folder of
    `ipv2 purify`'s training input and target) and on the purified pair folders
    `pair_folders`. The checkpoint is written in the work folder, with `checkpoint_suffix`
    (its format: .pt or .safetensors)."""

    COMMAND: ClassVar[str] = "train"
    OUTPUTS: ClassVar[dict[str, str]] = {"checkpoint": "checkpoint"}
    PAIRS_FOLDER: ClassVar[str] = "pairs"

    model: str = DEFAULT_MODEL
    steps: int = DEFAULT_TRAIN_STEPS
    seed: int = 0
    device: str = DEFAULT_DEVICE
    scene_pairs: int = 0
    pair_folders: tuple[str, ...] = ()
    checkpoint_suffix: str = ".pt"

    @staticmethod
    def scene_pair_roles(index: int) -> tuple[str, str]:
        """The input roles of the training input and target of scene pair `index`."""
        return f"scene{index}/input", f"scene{index}/target"

    def scene_pair_folder(self, folder: PathLike, index: int) -> Path:
        return Path(folder) / self.PAIRS_FOLDER / f"scene{index}"

    def input_names(self) -> dict[str, str]:
        names = {}
        for index in range(self.scene_pairs):
            input_role, target_role = self.scene_pair_roles(index)
            names[input_role] = f"{self.PAIRS_FOLDER}/scene{index}/{TRAIN_INPUT_FILE}"
            names[target_role] = f"{self.PAIRS_FOLDER}/scene{index}/{TRAIN_TARGET_FILE}"
        return names

    def output_names(self) -> dict[str, str]:
        return {"checkpoint": self.OUTPUTS["checkpoint"] + self.checkpoint_suffix}

    def options(self, folder: Path) -> list[str]:
        pairs = [str(self.scene_pair_folder(folder, index)) for index in range(self.scene_pairs)]
        return [
            "--data",
            *pairs,
            *map(str, self.pair_folders),
            "--model",
            self.model,
            "--steps",
            str(int(self.steps)),
            "--seed",
            str(int(self.seed)),
            "--device",
            self.device,
            "--out",
            str(self.output_file(folder, "checkpoint")),
        ]


@dataclass(frozen=True)
class EvaluateCommand(BackendCommand):
    """`ipv2 evaluate` of a prediction against a label over the region masks, and against a
    true clean volume when `truth`; writes the report and its figure."""

    COMMAND: ClassVar[str] = "evaluate"
    INPUTS: ClassVar[dict[str, str]] = {
        "prediction": "prediction.nrrd",
        "label": "label.nrrd",
        "masks": MASKS_FILE,
        "truth": "truth.nrrd",
    }
    LABEL_INPUTS: ClassVar[frozenset[str]] = frozenset({"masks"})
    OUTPUTS: ClassVar[dict[str, str]] = {"report": "report.json", "figure": "figure.png"}

    truth: bool = False

    def input_names(self) -> dict[str, str]:
        return {role: name for role, name in self.INPUTS.items() if role != "truth" or self.truth}

    def options(self, folder: Path) -> list[str]:
        inputs = self.input_files(folder)
        truth = ["--truth", str(inputs["truth"])] if self.truth else []
        return [
            "--pred",
            str(inputs["prediction"]),
            "--label",
            str(inputs["label"]),
            "--masks",
            str(inputs["masks"]),
            "--out",
            str(self.output_file(folder, "report")),
            "--figure",
            str(self.output_file(folder, "figure")),
            *truth,
        ]
