"""The commands the Slicer panels run (ipv2.protocol) are the ones the command line takes.

Each command's `to_argv` is parsed by the real `ipv2` parser, as `python -m ipv2` would parse
it, and nothing is run: the parsed options must be the command's, and the files the parser
was pointed at must be the ones the command's tables name. A flag renamed or a default
changed on one side fails here, not in a user's Slicer.
"""

import importlib
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from ipv2 import contract
from ipv2.cli.main import build_parser
from ipv2.protocol import (
    DenoiseCommand,
    EvaluateCommand,
    ExitCode,
    PurifyCommand,
    PurifySettings,
    TrainCommand,
)


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "work folder"  # a space, as in a Windows user's temporary folder


def parsed(command, folder):
    args = build_parser().parse_args(command.to_argv(folder))
    assert args.command == command.COMMAND
    assert args.func is importlib.import_module(f"ipv2.cli.{command.COMMAND}").run
    assert args.progress == "json"  # the panel reads the progress records
    return args


@pytest.mark.parametrize(
    "command",
    [
        DenoiseCommand(model="unet", device="cpu", strength="high"),
        DenoiseCommand(model="nlm", device="cuda:1", strength="low"),
        DenoiseCommand(model="restormer", strength_lung="low", strength_body="high"),
        DenoiseCommand(model="/models/my unet.safetensors"),
    ],
    ids=["network", "classical", "region strengths", "checkpoint"],
)
def test_the_denoise_command_is_the_command_lines(command, folder):
    args = parsed(command, folder)
    assert (args.model, args.device, args.uncompressed) == (command.model, command.device, True)
    assert Path(args.input) == command.input_files(folder)["input"]
    assert Path(args.out) == command.output_file(folder, "denoised")
    assert Path(args.removed) == command.output_file(folder, "removed")
    if command.classical:  # the backend measures the noise and would refuse a strength
        assert "--strength" not in command.to_argv(folder) and args.strength_lung is args.strength_body is None
    elif command.region_strengths:
        assert (args.strength_lung, args.strength_body) == (command.strength_lung, command.strength_body)
        assert "--strength" not in command.to_argv(folder)
    else:
        assert args.strength == command.strength and args.strength_lung is None
    regions = command.output_file(folder, "regions") if command.region_strengths else None
    assert (None if args.regions is None else Path(args.regions)) == regions


def test_the_denoise_account_is_where_the_backend_writes_it(folder):
    from ipv2.io.denoise_record import account_path

    command = DenoiseCommand()
    args = parsed(command, folder)
    assert args.account  # the panel shows it
    assert account_path(Path(args.out)) == command.output_file(folder, "account")


@pytest.mark.parametrize(
    "settings",
    [
        PurifySettings(),
        PurifySettings(mode="ipv1", remove_background=False, add_noise=False, weak="bm3d"),
        PurifySettings(mode="ipv2m", add_noise=False, weak="tv", dose=0.05, seed=7, simulate_mode="seed"),
        PurifySettings(remove_background=False, dose=1.0, device="cpu"),
    ],
    ids=["defaults", "ipv1", "ipv2m", "no background"],
)
def test_the_purify_command_runs_with_the_options_the_panel_chose(settings, folder):
    from ipv2.cli.purify import _options
    from ipv2.purify.options import PurifyOptions

    command = PurifyCommand(**{field.name: getattr(settings, field.name) for field in fields(PurifySettings)})
    args = parsed(command, folder)
    chosen = {field.name: getattr(command, field.name) for field in fields(PurifySettings)}
    assert _options(args) == PurifyOptions(**chosen).checked()
    assert (Path(args.lq), Path(args.gt)) == (command.input_files(folder)["uldct"], command.input_files(folder)["ndct"])
    assert args.out == command.output_folder(folder) and args.uncompressed


def test_the_purify_outputs_are_the_files_the_backend_writes(folder):
    from ipv2.purify.outputs import VOLUME_OUTPUTS

    command = PurifyCommand()
    assert tuple(command.output_names().values()) == VOLUME_OUTPUTS == contract.PURIFY_OUTPUT_FILES
    assert command.output_folder(folder) not in command.input_files(folder).values()
    assert all(path.parent == folder for path in command.input_files(folder).values())


def test_the_panels_options_are_the_backends_purify_options():
    """The options a panel offers are the backend's own fields, with the same defaults."""
    from ipv2.purify.options import PurifyOptions

    assert issubclass(PurifyOptions, PurifySettings)
    assert PurifyOptions() == PurifyOptions(**{field.name: field.default for field in fields(PurifySettings)})


def test_the_train_command_trains_on_the_pairs_it_wrote_and_the_folders_given(folder, tmp_path):
    pytest.importorskip("torch")
    from ipv2.io import write_volume
    from ipv2.testing import chest_like
    from ipv2.training.data import training_files
    from ipv2.volume import Volume

    given = tmp_path / "purified"
    command = TrainCommand(
        model="redcnn",
        steps=25,
        seed=3,
        device="cpu",
        scene_pairs=2,
        pair_folders=(str(given),),
        checkpoint_suffix=".safetensors",
    )
    args = parsed(command, folder)
    assert (args.model, args.steps, args.seed, args.device) == ("redcnn", 25, 3, "cpu")
    assert Path(args.out) == command.output_file(folder, "checkpoint") == folder / "checkpoint.safetensors"
    volume = Volume(chest_like((2, 16, 16)), spacing=(0.7, 0.7, 2.5))
    written = list(command.input_files(folder).values())
    for path in written + [given / contract.TRAIN_INPUT_FILE, given / contract.TRAIN_TARGET_FILE]:
        write_volume(volume, path)
    # `ipv2 train --data` finds exactly the pairs the panel wrote, and the folder the user gave.
    assert sorted(training_files(args.data)) == sorted(
        written + [given / contract.TRAIN_INPUT_FILE, given / contract.TRAIN_TARGET_FILE]
    )


@pytest.mark.parametrize("truth", [False, True])
def test_the_evaluate_command_is_the_command_lines(truth, folder):
    command = EvaluateCommand(truth=truth)
    args = parsed(command, folder)
    inputs = command.input_files(folder)
    assert set(inputs) == {"prediction", "label", "masks"} | ({"truth"} if truth else set())
    assert [Path(args.pred), Path(args.label), Path(args.masks)] == [
        inputs["prediction"],
        inputs["label"],
        inputs["masks"],
    ]
    assert (None if args.truth is None else Path(args.truth)) == inputs.get("truth")
    assert Path(args.out) == command.output_file(folder, "report")
    assert Path(args.figure) == command.output_file(folder, "figure")


def test_exit_codes_are_the_contracts_and_the_command_lines(tmp_path):
    assert (ExitCode.OK, ExitCode.USER_ERROR, ExitCode.CANCELLED) == (
        contract.EXIT_OK,
        contract.EXIT_USER_ERROR,
        contract.EXIT_CANCELLED,
    )
    refused = subprocess.run(
        [sys.executable, "-m", "ipv2", "purify", "--out", str(tmp_path / "out"), "--progress", "none"],
        capture_output=True,
        text=True,
    )
    assert refused.returncode == ExitCode.USER_ERROR, refused.stderr
    assert "give both --lq ULDCT and --gt NDCT" in refused.stderr


def test_the_protocol_imports_no_heavy_package():
    """The panels import it on Slicer's main thread."""
    script = (
        "import sys; import ipv2.protocol; "
        "print(sorted(name for name in ('torch', 'scipy', 'skimage', 'SimpleITK', 'matplotlib', 'ipv2.io') "
        "if name in sys.modules))"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"
