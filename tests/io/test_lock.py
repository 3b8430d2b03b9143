"""Two runs on one output cannot both win: the second is refused at the start."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ipv2.cli.main import main
from ipv2.errors import InputError
from ipv2.io import write_volume
from ipv2.io.lock import EMPTY_LOCK_GRACE_S, lock_path, output_lock
from ipv2.testing import chest_like
from ipv2.volume import Volume

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def scan(tmp_path):
    return write_volume(Volume(chest_like((4, 48, 48)), spacing=(0.7, 0.7, 2.5)), tmp_path / "scan.nrrd")


def _denoise(scan, out):
    return ["denoise", "--model", "nlm", "--sigma", "20", "--in", str(scan), "--out", str(out), "--progress", "none"]


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _write_lock(out, owner):
    lock = lock_path(out)
    lock.write_text(json.dumps(owner) if owner is not None else "")
    return lock


def test_a_run_on_an_output_another_run_holds_is_refused(scan, tmp_path, capsys):
    out = tmp_path / "out.nrrd"
    with output_lock(out):
        assert main(_denoise(scan, out)) == 2
        err = capsys.readouterr().err
        assert f"PID {os.getpid()}" in err and "is writing it" in err and str(lock_path(out)) in err
        assert not out.exists()
    assert not lock_path(out).exists()
    assert main(_denoise(scan, out)) == 0
    assert out.is_file() and not lock_path(out).exists()


def test_the_lock_is_removed_after_a_failed_run_with_the_folders_it_made(scan, tmp_path):
    out = tmp_path / "new" / "deeper" / "out.nrrd"
    assert (
        main(["denoise", "--model", "no-such-model", "--in", str(scan), "--out", str(out), "--progress", "none"]) == 2
    )
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize(
    "owner_of",
    [
        lambda: {"pid": _dead_pid(), "host": socket.gethostname(), "started": "earlier"},
        lambda: {"pid": "garbage", "host": socket.gethostname()},
    ],
)
def test_a_stale_lock_of_a_dead_run_on_this_host_is_taken_over(scan, tmp_path, owner_of):
    out = tmp_path / "out.nrrd"
    _write_lock(out, owner_of())
    assert main(_denoise(scan, out)) == 0
    assert out.is_file() and not lock_path(out).exists()


def test_locks_that_cannot_be_shown_stale_are_respected(scan, tmp_path, capsys):
    out = tmp_path / "out.nrrd"
    lock = _write_lock(out, {"pid": _dead_pid(), "host": "another-machine", "started": "earlier"})
    assert main(_denoise(scan, out)) == 2
    assert "on another-machine" in capsys.readouterr().err
    lock.unlink()
    lock = _write_lock(out, {"pid": os.getppid(), "host": socket.gethostname()})  # a live process
    assert main(_denoise(scan, out)) == 2
    lock = _write_lock(out, None)  # being created right now by a run that has not written it yet
    assert main(_denoise(scan, out)) == 2
    assert not out.exists()
    old = time.time() - EMPTY_LOCK_GRACE_S - 5  # ... or left empty by a run killed while creating it
    os.utime(lock, (old, old))
    assert main(_denoise(scan, out)) == 0


def test_a_lock_from_another_host_is_refused_by_the_library_too(tmp_path):
    out = tmp_path / "folder"
    _write_lock(out, {"pid": 1, "host": "elsewhere"})
    with pytest.raises(InputError, match="--out .*folder: another ipv2 run"):
        with output_lock(out):
            pass


def test_two_runs_started_together_cannot_both_write(tmp_path):
    out = tmp_path / "phantom"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    argv = [
        sys.executable,
        "-m",
        "ipv2",
        "phantom",
        "--out",
        str(out),
        "--size",
        "64",
        "--slices",
        "4",
        "--device",
        "cpu",
        "--progress",
        "none",
    ]
    processes = [
        subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in processes]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    refused = next(err for code, err in results if code == 2)
    assert "is writing it" in refused or "already exists" in refused
    assert not lock_path(out, folder=True).exists() and (out / "uldct.nrrd").is_file()


def test_a_folder_output_is_locked_from_inside(tmp_path, capsys):
    out = tmp_path / "phantom"
    argv = ["phantom", "--out", str(out), "--size", "64", "--slices", "4", "--device", "cpu", "--progress", "none"]
    with output_lock(out, folder=True) as lock:
        assert lock == out / ".ipv2-lock"
        assert main(argv) == 2
        assert "is writing it" in capsys.readouterr().err
    assert not out.exists()  # made only to hold the lock, removed with it
    assert main(argv + ["--slices", "2"]) == 2  # refused after the lock was taken: nothing left behind
    assert not out.exists()
