"""`ipv2 train` under hostile or careless use: outputs over its own data, interrupts, divergence."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ipv2.cli.main import main
from ipv2.io import write_volume
from ipv2.testing import chest_like
from ipv2.volume import Volume

TINY_ARGS = [
    "--model-arg",
    "widths=[4,8]",
    "--steps",
    "2",
    "--patch",
    "24",
    "--batch",
    "2",
    "--device",
    "cpu",
    "--progress",
    "none",
]


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
@pytest.mark.parametrize("name", ["train_input.nrrd", "train_target.nrrd"])
def test_out_naming_a_volume_inside_the_data_folder_is_refused(pair_dir, name, overwrite, capsys):
    target = pair_dir / name
    before = target.read_bytes()
    assert main(["train", "--data", str(pair_dir), "--out", str(target)] + TINY_ARGS + overwrite) == 2
    err = capsys.readouterr().err
    assert "would replace the training data file" in err and "--out" in err
    assert target.read_bytes() == before
    assert not (pair_dir / f"{target.stem}.train-state.pt").exists()


def test_out_naming_half_of_a_file_pair_is_refused(pair_dir, capsys):
    inputs, target = pair_dir / "train_input.nrrd", pair_dir / "train_target.nrrd"
    before = target.read_bytes()
    code = main(["train", "--data", f"{inputs},{target}", "--out", str(target), "--overwrite"] + TINY_ARGS)
    assert code == 2
    assert "would replace the training data file" in capsys.readouterr().err
    assert target.read_bytes() == before


def test_out_reaching_the_data_through_a_link_or_the_validation_set_is_refused(pair_dir, tmp_path, capsys):
    link = tmp_path / "link.nrrd"
    link.symlink_to(pair_dir / "train_target.nrrd")
    hard = tmp_path / "hard.nrrd"
    hard.hardlink_to(pair_dir / "train_input.nrrd")
    elsewhere = tmp_path / "other"
    elsewhere.mkdir()
    for out in (link, hard):
        assert main(["train", "--data", str(pair_dir), "--out", str(out), "--overwrite"] + TINY_ARGS) == 2
    val_out = pair_dir / "train_input.nrrd"
    code = main(
        ["train", "--data", f"{hard},{link}", "--val", str(pair_dir), "--out", str(val_out), "--overwrite"] + TINY_ARGS
    )
    assert code == 2
    assert capsys.readouterr().err.count("would replace the training data file") == 3


def test_an_out_beside_the_data_is_accepted(pair_dir, capsys):
    assert main(["train", "--data", str(pair_dir), "--out", str(pair_dir / "model.safetensors")] + TINY_ARGS) == 0
    assert (pair_dir / "model.safetensors").is_file()


def _nan_after(steps):
    """A loss that is L1 for `steps` calls, then NaN: a run that diverges at step steps + 1."""
    calls = []

    def loss(prediction, target):
        calls.append(1)
        value = (prediction - target).abs().mean()
        return value * float("nan") if len(calls) > steps else value

    return loss


def test_diverged_training_stops_with_a_clear_error_and_saves_no_nan_model(pair_dir, tmp_path, monkeypatch, capsys):
    import torch

    import ipv2.training.loop as loop
    from ipv2.models.checkpoint import read_checkpoint

    monkeypatch.setattr(loop, "make_loss", lambda name: _nan_after(2))
    out = tmp_path / "m.safetensors"
    code = main(
        ["train", "--data", str(pair_dir), "--out", str(out), "--checkpoint-every", "1"]
        + [a if a != "2" else "6" for a in TINY_ARGS]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "training diverged at step 3: the loss is nan; no model was saved" in err and "--lr" in err
    assert not out.exists()
    record, state, training = read_checkpoint(tmp_path / "m.train-state.pt")
    assert training["step"] == 2  # the last finite state, not the diverged one
    assert all(bool(torch.isfinite(t).all()) for t in state.values() if t.is_floating_point())


def test_nan_weights_are_never_saved(pair_dir, tmp_path, monkeypatch):
    import torch

    import ipv2.training.loop as loop
    from ipv2.errors import TrainingDiverged
    from ipv2.training import TrainConfig, train

    original = loop.Trainer.train_step

    def poisoned(self):
        loss = original(self)
        with torch.no_grad():
            next(self.model.parameters()).fill_(float("inf"))  # as an overflow in the update would
        return loss

    monkeypatch.setattr(loop.Trainer, "train_step", poisoned)
    config = TrainConfig(
        data=[str(pair_dir)],
        out=str(tmp_path / "m.pt"),
        model_args={"widths": [4, 8]},
        steps=1,
        patch=24,
        batch=2,
        device="cpu",
        checkpoint_every=0,
    )
    with pytest.raises(TrainingDiverged, match="weight tensors hold NaN or infinite"):
        train(config)
    assert not (tmp_path / "m.pt").exists() and not (tmp_path / "m.train-state.pt").exists()


def test_pairs_on_different_grids_or_not_in_hu_are_refused(tmp_path, capsys):
    clean = chest_like((4, 48, 48), seed=0)
    folder = tmp_path / "spacing"
    write_volume(Volume(clean, spacing=(0.7, 0.7, 2.5)), folder / "train_input.nrrd")
    write_volume(Volume(clean, spacing=(0.9, 0.9, 2.5)), folder / "train_target.nrrd")
    assert main(["train", "--data", str(folder), "--out", str(tmp_path / "m.pt")] + TINY_ARGS) == 2
    assert "differ in voxel spacing" in capsys.readouterr().err
    folder = tmp_path / "gray"
    write_volume(Volume((clean + 1024) / 16, spacing=(0.7, 0.7, 2.5)), folder / "train_input.nrrd")  # 0..255
    write_volume(Volume(clean, spacing=(0.7, 0.7, 2.5)), folder / "train_target.nrrd")
    assert main(["train", "--data", str(folder), "--out", str(tmp_path / "m.pt")] + TINY_ARGS) == 2
    assert "Hounsfield units" in capsys.readouterr().err


DIVERGING_RANK = """
import os, sys
import ipv2.training.loop as loop
from ipv2.cli.main import main

original = loop.make_loss
def make_loss(name):
    loss = original(name)
    if os.environ["RANK"] == "1":  # only one process sees the NaN
        return lambda prediction, target: loss(prediction, target) * float("nan")
    return loss
loop.make_loss = make_loss
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("torchrun") is None, reason="torchrun is not on the PATH")
def test_a_run_diverging_in_one_process_stops_every_process(pair_dir, tmp_path):
    script = tmp_path / "diverge.py"
    script.write_text(DIVERGING_RANK)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    argv = [
        "train",
        "--data",
        str(pair_dir),
        "--out",
        str(tmp_path / "m.safetensors"),
        "--model-arg",
        "widths=[4,8]",
        "--steps",
        "50",
        "--patch",
        "24",
        "--batch",
        "2",
        "--device",
        "cpu",
        "--progress",
        "none",
    ]
    result = subprocess.run(
        ["torchrun", "--standalone", "--nproc_per_node", "2", str(script), *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode != 0
    assert result.stderr.count("training diverged at step 1") == 2  # both processes, neither left waiting
    assert not (tmp_path / "m.safetensors").exists()


def test_a_missing_half_of_a_file_pair_is_named_before_the_other_is_read(pair_dir, tmp_path, monkeypatch, capsys):
    import ipv2.io.volumes as volumes

    def refuse(path):
        raise AssertionError(f"read {path} before refusing")

    monkeypatch.setattr(volumes, "_read_file", refuse)
    code = main(
        [
            "train",
            "--data",
            f"{pair_dir / 'train_input.nrrd'},{tmp_path / 'nope.nrrd'}",
            "--out",
            str(tmp_path / "m.pt"),
        ]
        + TINY_ARGS
    )
    assert code == 2
    assert f"no such file {tmp_path / 'nope.nrrd'}" in capsys.readouterr().err


def test_a_new_run_does_not_replace_the_state_of_an_interrupted_one_unasked(pair_dir, tmp_path, capsys):
    state = tmp_path / "m.train-state.pt"
    state.write_bytes(b"hours of training")
    argv = ["train", "--data", str(pair_dir), "--out", str(tmp_path / "m.safetensors")] + TINY_ARGS
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert str(state) in err and "--resume" in err and "--overwrite" in err
    assert state.read_bytes() == b"hours of training"
    assert main(argv + ["--overwrite"]) == 0


def test_a_cancel_before_the_first_new_step_saves_nothing(pair_dir, tmp_path, capsys):
    from ipv2.errors import Cancelled
    from ipv2.progress import Monitor
    from ipv2.training import TrainConfig, train

    monitor = Monitor()
    # As Ctrl-C once the network is built, before its first step.
    monitor._callback = lambda stage, done, total: monitor.cancel() if stage == "train" else None
    config = TrainConfig(
        data=[str(pair_dir)],
        out=str(tmp_path / "m.pt"),
        model_args={"widths": [4, 8]},
        steps=2,
        patch=24,
        batch=2,
        device="cpu",
    )
    with pytest.raises(Cancelled):
        train(config, monitor)
    assert list(tmp_path.iterdir()) == [pair_dir]
