import json

import numpy as np
import pytest
import torch

from ipv2.cli.main import main
from ipv2.errors import Cancelled, InputError
from ipv2.io.png_dataset import write_png_slice
from ipv2.models.checkpoint import load_checkpoint, read_checkpoint
from ipv2.models.normalization import Normalization
from ipv2.progress import Monitor
from ipv2.testing import chest_like
from ipv2.training import PatchSampler, TrainConfig, load_pairs, train
from ipv2.training.augment import augment_pair
from ipv2.training.data import TrainingPair
from tests.support.training_pairs import tiny_train_argv, write_training_pair

TINY = {"widths": [4, 8]}


@pytest.fixture
def pair_dir(tmp_path):
    return write_training_pair(tmp_path / "scan_a")


def _config(pair_dir, out, **overrides):
    settings = dict(
        data=[str(pair_dir)],
        out=str(out),
        model="unet",
        model_args=TINY,
        steps=6,
        patch=24,
        batch=4,
        lr=3e-3,
        seed=3,
        device="cpu",
        checkpoint_every=2,
    )
    settings.update(overrides)
    return TrainConfig(**settings)


def _weights(path):
    return load_checkpoint(path).model.state_dict()


def _assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6)


def test_patches_are_a_function_of_seed_and_step(pair_dir):
    pairs = load_pairs([str(pair_dir)])
    sampler = PatchSampler(pairs, 16, Normalization.for_kind("hu"), context_slices=1, seed=5)
    first, first_target = sampler.batch(7, 6)
    again, again_target = PatchSampler(pairs, 16, Normalization.for_kind("hu"), 1, seed=5).batch(7, 6)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first_target, again_target)
    assert first.shape == (6, 3, 16, 16) and first_target.shape == (6, 1, 16, 16)
    assert not np.array_equal(first, sampler.batch(8, 6)[0])
    # A process's share of the global batch is the same items a single process draws.
    np.testing.assert_array_equal(sampler.batch(7, 6, start=3, size=3)[0], first[3:])
    assert 0.0 <= first.min() and first.max() <= 1.0


def test_a_context_model_learns_from_slices_with_both_neighbours():
    # Three slabs of three slices, slice levels 100 * slab + slice: a patch tells where it came from.
    levels = np.repeat(100.0 * np.arange(3), 3) + np.tile(np.arange(3), 3)
    inputs = np.broadcast_to(levels[:, None, None], (9, 16, 16)).astype(np.float32)
    slabs = [
        TrainingPair(f"slab{i}", inputs[3 * i : 3 * i + 3].copy(), inputs[3 * i : 3 * i + 3].copy(), "hu")
        for i in range(3)
    ]
    normalization = Normalization.for_kind("hu")
    sampler = PatchSampler(slabs, 16, normalization, context_slices=1, seed=2)
    assert sampler.total_slices == 3
    batch, target = sampler.batch(0, 400)
    values = normalization.from_model(batch[:, :, 0, 0])
    centres = normalization.from_model(target[:, 0, 0, 0])
    assert set(np.round(centres) % 100) == {1.0}  # every target is a slab's centre
    single = np.all(np.isclose(values, centres[:, None], atol=1e-2), axis=1)
    assert 0.05 < single.mean() < 0.15  # SINGLE_SLICE_FRACTION see the centre as its own neighbours
    np.testing.assert_allclose(values[~single], centres[~single, None] + [-1.0, 0.0, 1.0], atol=1e-2)
    # A 2D model learns from every slice.
    assert PatchSampler(slabs, 16, normalization, seed=2).total_slices == 9


def test_augmentation_moves_input_and_target_together():
    inputs = np.arange(2 * 16, dtype=np.float32).reshape(2, 4, 4)
    target = inputs[1:2].copy()
    for rotations in range(4):
        for flip in (False, True):
            new_inputs, new_target = augment_pair(inputs, target, rotations, flip)
            np.testing.assert_array_equal(new_inputs[1:2], new_target)


def test_patch_larger_than_slices_is_an_input_error(pair_dir):
    with pytest.raises(InputError, match="--patch 96 is larger"):
        PatchSampler(load_pairs([str(pair_dir)]), 96, Normalization.for_kind("hu"))


def test_data_paths_are_checked(tmp_path, pair_dir):
    with pytest.raises(InputError, match="no such training data"):
        load_pairs([str(tmp_path / "nowhere")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="found no training pairs"):
        load_pairs([str(tmp_path / "empty")])
    # A folder of scans, and a comma-joined file pair, both work.
    write_training_pair(tmp_path / "many" / "scan_b", seed=1)
    write_training_pair(tmp_path / "many" / "scan_c", seed=2)
    assert len(load_pairs([str(tmp_path / "many")])) == 2
    pair = f"{pair_dir / 'train_input.nrrd'},{pair_dir / 'train_target.nrrd'}"
    assert load_pairs([pair])[0].slices == 4


def test_short_training_lowers_the_loss(pair_dir, tmp_path):
    result = train(
        _config(
            pair_dir,
            tmp_path / "model.safetensors",
            model_args={"widths": [8, 16]},
            steps=80,
            patch=32,
            lr=5e-3,
            loss="mse",
            checkpoint_every=0,
            val=[str(pair_dir)],
        )
    )
    assert np.mean(result.losses[-10:]) < 0.85 * np.mean(result.losses[:4])
    assert result.validation["rmse"] < result.validation["input_rmse"]
    record = load_checkpoint(tmp_path / "model.safetensors").metadata
    assert record["training"]["steps"] == 80
    assert record["validation"]["unit"] == "HU"
    assert record["data"]["pairs"] == 1 and record["data"]["slices"] == 4


def test_same_seed_gives_the_same_weights(pair_dir, tmp_path):
    train(_config(pair_dir, tmp_path / "a.safetensors", steps=3))
    train(_config(pair_dir, tmp_path / "b.safetensors", steps=3))
    _assert_same_weights(_weights(tmp_path / "a.safetensors"), _weights(tmp_path / "b.safetensors"))


def test_cancel_then_resume_equals_an_uninterrupted_run(pair_dir, tmp_path):
    train(_config(pair_dir, tmp_path / "whole.safetensors"))

    monitor = Monitor()
    monitor._callback = lambda stage, done, total: monitor.cancel() if stage == "train" and done == 3 else None
    with pytest.raises(Cancelled):
        train(_config(pair_dir, tmp_path / "split.safetensors"), monitor)
    assert not (tmp_path / "split.safetensors").exists()
    _, _, training = read_checkpoint(tmp_path / "split.train-state.pt")
    assert training["step"] == 3  # saved at the step where it stopped, between the periodic ones

    result = train(_config(pair_dir, tmp_path / "split.safetensors", resume=True))
    assert result.steps == 6
    _assert_same_weights(_weights(tmp_path / "whole.safetensors"), _weights(tmp_path / "split.safetensors"))


def test_resume_after_a_crash_continues_from_the_last_periodic_checkpoint(pair_dir, tmp_path):
    train(_config(pair_dir, tmp_path / "whole.pt", model="dncnn", model_args={"depth": 4, "width": 8}))

    def crash(stage, done, total):
        if stage == "train" and done == 5:
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError, match="power cut"):
        train(
            _config(pair_dir, tmp_path / "crashed.pt", model="dncnn", model_args={"depth": 4, "width": 8}),
            Monitor(crash),
        )
    _, _, training = read_checkpoint(tmp_path / "crashed.train-state.pt")
    assert training["step"] == 4
    train(_config(pair_dir, tmp_path / "crashed.pt", model="dncnn", model_args={"depth": 4, "width": 8}, resume=True))
    _assert_same_weights(_weights(tmp_path / "whole.pt"), _weights(tmp_path / "crashed.pt"))


def test_resume_with_other_settings_is_refused(pair_dir, tmp_path):
    train(_config(pair_dir, tmp_path / "m.safetensors", steps=2))
    with pytest.raises(InputError, match="differs in lr"):
        train(_config(pair_dir, tmp_path / "m.safetensors", steps=2, lr=1e-2, resume=True))
    with pytest.raises(InputError, match="no training state"):
        train(_config(pair_dir, tmp_path / "other.safetensors", resume=True))


def test_bad_settings_are_input_errors(pair_dir, tmp_path):
    with pytest.raises(InputError, match="--loss"):
        train(_config(pair_dir, tmp_path / "m.pt", loss="huber"))
    with pytest.raises(InputError, match="either --steps or --epochs"):
        train(_config(pair_dir, tmp_path / "m.pt", epochs=1))


def test_png_layout_trains_in_8_bit_units(tmp_path):
    root = tmp_path / "png"
    rng = np.random.default_rng(0)
    for index in range(3):
        clean = ((chest_like((1, 40, 40), seed=index)[0] + 1024) / 8).clip(0, 255)
        noisy = (clean + rng.normal(0, 12, clean.shape)).clip(0, 255)
        write_png_slice(clean.astype(np.uint8), root / "gt" / f"{index:03d}.png")
        write_png_slice(noisy.astype(np.uint8), root / "lq" / f"{index:03d}.png")
    result = train(_config(root, tmp_path / "png.safetensors", steps=2, patch=32, val=[str(root)]))
    assert result.validation["unit"] == "8-bit levels"
    assert load_checkpoint(tmp_path / "png.safetensors").normalization.kind == "png8"


def test_epochs_set_the_number_of_steps(pair_dir, tmp_path):
    # 4 slices of 48x48 in patches of 24: 16 patch positions; batches of 4: 4 steps per epoch.
    result = train(_config(pair_dir, tmp_path / "e.safetensors", steps=None, epochs=0.5))
    assert result.steps == 2


def test_cli_train_then_denoise(pair_dir, tmp_path, capsys):
    out = tmp_path / "cli.safetensors"
    code = main(
        [
            "train",
            "--data",
            str(pair_dir),
            "--val",
            str(pair_dir),
            "--model",
            "unet",
            "--model-arg",
            "widths=[4,8]",
            "--out",
            str(out),
            "--steps",
            "3",
            "--patch",
            "24",
            "--batch",
            "2",
            "--device",
            "cpu",
            "--progress",
            "none",
            "--seed",
            "1",
        ]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["steps"] == 3 and summary["validation"]["input_rmse"] > 0
    denoised = tmp_path / "denoised.nrrd"
    assert (
        main(
            [
                "denoise",
                "--model",
                str(out),
                "--in",
                str(pair_dir / "train_input.nrrd"),
                "--out",
                str(denoised),
                "--device",
                "cpu",
                "--progress",
                "none",
            ]
        )
        == 0
    )
    assert denoised.is_file()


def test_cli_train_reports_bad_data(tmp_path, capsys):
    code = main(["train", "--data", str(tmp_path / "none"), "--out", str(tmp_path / "m.pt"), "--progress", "none"])
    assert code == 2
    assert "no such training data" in capsys.readouterr().err


def test_cli_json_progress_carries_the_loss(pair_dir, tmp_path, capsys):
    from ipv2.progress import parse_progress_line

    code = main(tiny_train_argv(pair_dir, tmp_path / "m.safetensors", 2, "json"))
    assert code == 0
    records = [parse_progress_line(line) for line in capsys.readouterr().out.splitlines()]
    losses = [r for r in records if r and r.get("stage") == "train" and "loss" in r]
    assert [r["done"] for r in losses] == [1, 2] and all(r["loss"] > 0 for r in losses)


def test_cancelled_cli_run_says_how_to_resume(pair_dir, tmp_path, capsys, monkeypatch):
    import ipv2.services.train as train_service  # the training `ipv2 train` runs

    def cancel_at_step_two(config, monitor, on_step=None):
        monitor._callback = lambda stage, done, total: monitor.cancel() if done == 2 else None
        return train(config, monitor, on_step)

    monkeypatch.setattr(train_service, "train", cancel_at_step_two)
    code = main(tiny_train_argv(pair_dir, tmp_path / "m.safetensors", 5))
    assert code == 130
    assert "--resume" in capsys.readouterr().err
    assert (tmp_path / "m.train-state.pt").is_file() and not (tmp_path / "m.safetensors").exists()
