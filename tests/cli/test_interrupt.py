"""Ctrl-C and SIGTERM end every command the same clean way; training keeps its state."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ipv2.cli.main import main
from ipv2.contract import EXIT_CANCELLED
from ipv2.errors import Cancelled
from ipv2.models.checkpoint import load_checkpoint, read_checkpoint
from ipv2.progress import Monitor, cancel_on_signals, parse_progress_line
from ipv2.training import TrainConfig, train
from ipv2.training.loop import Trainer
from tests.support.training_pairs import tiny_train_argv

REPO = Path(__file__).resolve().parents[2]


def _config(pair_dir, out, **overrides):
    settings = dict(
        data=[str(pair_dir)],
        out=str(out),
        model="unet",
        model_args={"widths": [4, 8]},
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


def _assert_same_weights(a, b):
    a, b = load_checkpoint(a).model.state_dict(), load_checkpoint(b).model.state_dict()
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM])
def test_signal_during_training_saves_the_state_and_says_how_to_resume(pair_dir, tmp_path, signal_number):
    out = tmp_path / "m.safetensors"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ipv2",
            "train",
            "--data",
            str(pair_dir),
            "--model-arg",
            "widths=[4,8]",
            "--out",
            str(out),
            "--steps",
            "100000",
            "--patch",
            "24",
            "--batch",
            "2",
            "--device",
            "cpu",
            "--checkpoint-every",
            "0",
            "--progress",
            "json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        for line in process.stdout:
            record = parse_progress_line(line)
            if record and record.get("stage") == "train" and record.get("done", 0) >= 3:
                break
        process.send_signal(signal_number)
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == EXIT_CANCELLED, err
    state = tmp_path / "m.train-state.pt"
    assert "Traceback" not in err
    assert str(state) in err and "--resume" in err and "nothing was written" not in err
    _, _, training = read_checkpoint(state)
    assert training["step"] >= 3  # not lost back to the last periodic checkpoint (none here)
    assert not out.exists()


def test_keyboard_interrupt_between_steps_is_a_cancel_that_resumes_exactly(pair_dir, tmp_path):
    train(_config(pair_dir, tmp_path / "whole.safetensors"))

    def interrupt(stage, done, total):
        if stage == "train" and done == 3:
            raise KeyboardInterrupt

    with pytest.raises(Cancelled, match="after step 3"):
        train(_config(pair_dir, tmp_path / "split.safetensors"), Monitor(interrupt))
    _, _, training = read_checkpoint(tmp_path / "split.train-state.pt")
    assert training["step"] == 3
    train(_config(pair_dir, tmp_path / "split.safetensors", resume=True))
    _assert_same_weights(tmp_path / "whole.safetensors", tmp_path / "split.safetensors")


def test_keyboard_interrupt_within_a_weight_update_keeps_the_last_periodic_state(pair_dir, tmp_path, monkeypatch):
    original = Trainer.train_step

    def interrupted_fifth_step(self):
        if self.step == 4:
            self.updating = True  # as if Ctrl-C landed inside optimizer.step()
            raise KeyboardInterrupt
        return original(self)

    monkeypatch.setattr(Trainer, "train_step", interrupted_fifth_step)
    with pytest.raises(Cancelled, match="within step 5"):
        train(_config(pair_dir, tmp_path / "m.safetensors"))
    _, _, training = read_checkpoint(tmp_path / "m.train-state.pt")
    assert training["step"] == 4  # the periodic state, not the half-updated weights


def test_cli_reports_the_kept_state_after_a_keyboard_interrupt(pair_dir, tmp_path, capsys, monkeypatch):
    import ipv2.services.train as train_service  # the training `ipv2 train` runs

    def interrupt_at_step_two(config, monitor, on_step=None):
        monitor._callback = lambda stage, done, total: (
            (_ for _ in ()).throw(KeyboardInterrupt) if stage == "train" and done == 2 else None
        )
        return train(config, monitor, on_step)

    monkeypatch.setattr(train_service, "train", interrupt_at_step_two)
    code = main(tiny_train_argv(pair_dir, tmp_path / "m.safetensors", 5, "none", "--checkpoint-every", "0"))
    assert code == EXIT_CANCELLED
    err = capsys.readouterr().err
    assert str(tmp_path / "m.train-state.pt") in err and "--resume" in err and "nothing was written" not in err


def test_interrupt_while_the_parser_is_built_is_a_clean_exit(monkeypatch, capsys):
    import ipv2.cli.main as cli_main

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_main, "build_parser", interrupted)
    assert main(["models"]) == EXIT_CANCELLED
    assert "interrupted" in capsys.readouterr().err


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM])
def test_first_signal_cancels_and_a_second_interrupts(signal_number):
    monitor = Monitor()
    before = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    with cancel_on_signals(monitor):
        os.kill(os.getpid(), signal_number)
        with pytest.raises(Cancelled):
            monitor.check()
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal_number)  # the handler runs as soon as kill returns
    # The handlers in place before come back (a shell may start a background job with SIGINT ignored).
    assert {number: signal.getsignal(number) for number in before} == before


def test_sigterm_outside_any_monitor_is_an_interrupt(monkeypatch, capsys):
    import ipv2.cli.models as models_cli

    def terminated(args):
        os.kill(os.getpid(), signal.SIGTERM)
        raise AssertionError("SIGTERM did not end the command")

    monkeypatch.setattr(models_cli, "run", terminated)  # the parser takes run() when it is built
    assert main(["models"]) == EXIT_CANCELLED
    assert "ipv2 models: interrupted" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
