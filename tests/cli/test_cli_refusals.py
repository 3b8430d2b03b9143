"""Mistakes a user can make on the command line end in one message and exit 2, before any work."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from ipv2.cli.main import EXIT_BROKEN_PIPE, main
from ipv2.io import write_volume
from ipv2.testing import chest_like
from ipv2.volume import Volume

REPO = Path(__file__).resolve().parents[2]


def _sys_is_read_only() -> bool:
    try:
        fd, probe = tempfile.mkstemp(dir="/sys")
    except OSError:
        return True
    os.close(fd)
    os.unlink(probe)
    return False


@pytest.fixture
def scan(tmp_path):
    return write_volume(Volume(chest_like((4, 48, 48)), spacing=(0.7, 0.7, 2.5)), tmp_path / "scan.nrrd")


def _file_commands(scan, pair_dir, out):
    return {
        "denoise": ["denoise", "--in", str(scan), "--out", str(out), "--device", "cpu"],
        "denoise nlm": ["denoise", "--model", "nlm", "--in", str(scan), "--out", str(out)],
        "simulate": ["simulate", "--in", str(scan), "--out", str(out), "--device", "cpu"],
        "train": [
            "train",
            "--data",
            str(pair_dir),
            "--out",
            str(out),
            "--model-arg",
            "widths=[4,8]",
            "--steps",
            "1",
            "--patch",
            "24",
            "--device",
            "cpu",
        ],
    }


def _folder_commands(scan, out):
    return {
        "phantom": ["phantom", "--out", str(out), "--size", "64", "--slices", "4", "--device", "cpu"],
        "demo": ["demo", "--out", str(out), "--size", "64", "--slices", "4", "--device", "cpu"],
        "purify": ["purify", "--lq", str(scan), "--gt", str(scan), "--out", str(out), "--device", "cpu"],
    }


@pytest.fixture
def no_work(monkeypatch):
    """Fails the test if a volume is read: every refusal here must come first."""
    import ipv2.io.volumes as volumes

    def refuse(path):
        raise AssertionError(f"read {path} before refusing")

    monkeypatch.setattr(volumes, "_read_file", refuse)


@pytest.mark.parametrize("command", ["denoise", "denoise nlm", "simulate", "train"])
@pytest.mark.parametrize("case", ["folder", "under a file"])
def test_file_outputs_that_cannot_be_written_are_refused_first(
    scan, pair_dir, tmp_path, no_work, command, case, capsys
):
    out = tmp_path if case == "folder" else scan / "result.nrrd"
    argv = _file_commands(scan, pair_dir, out)[command] + ["--progress", "none", "--overwrite"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--out" in err and ("a folder" in err if case == "folder" else "is a file" in err)
    assert "Traceback" not in err


@pytest.mark.parametrize("command", ["phantom", "demo", "purify"])
def test_folder_outputs_naming_a_file_are_refused_first(scan, tmp_path, no_work, command, capsys):
    other = tmp_path / "notes.txt"
    other.write_text("keep me")
    for out, message in ((other, "an existing file; give a folder"), (other / "sub", "is a file")):
        assert main(_folder_commands(scan, out)[command] + ["--progress", "none"]) == 2
        assert message in capsys.readouterr().err
    assert other.read_text() == "keep me"


@pytest.mark.skipif(not _sys_is_read_only(), reason="needs a folder no one may write in")
@pytest.mark.parametrize("command", ["denoise", "simulate", "train"])
def test_output_in_a_read_only_folder_is_refused_first(scan, pair_dir, no_work, command, capsys):
    argv = _file_commands(scan, pair_dir, "/sys/ipv2-result.nrrd")[command] + ["--progress", "none"]
    assert main(argv) == 2
    assert "cannot write in the folder /sys" in capsys.readouterr().err


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_output_in_a_folder_without_write_permission_is_refused(scan, tmp_path, no_work, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert main(["denoise", "--in", str(scan), "--out", str(locked / "r.nrrd"), "--progress", "none"]) == 2
    finally:
        locked.chmod(0o700)
    assert "cannot write in the folder" in capsys.readouterr().err


@pytest.mark.parametrize(
    "seed,message",
    [("-1", "-1 must be from 0 to 4294967295"), ("2.5", "not an integer"), ("4294967296", "must be from 0")],
)
@pytest.mark.parametrize("command", ["train", "simulate", "phantom", "evaluate"])
def test_seed_out_of_range_is_an_argument_error(command, seed, message, capsys):
    with pytest.raises(SystemExit) as stop:
        main([command, "--seed", seed])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "argument --seed" in err and message in err


@pytest.mark.parametrize(
    "model_arg,message",
    [
        ("widths=abc", "VALUE must be JSON"),
        ('widths="abc"', "must be a list of integers"),
        ("widths=[99999,8]", "must be from 1 to 1024"),
        ("depth=3", "unet takes no argument 'depth'"),
        ("=3", "write KEY=VALUE"),
    ],
)
def test_bad_model_arg_is_refused_before_the_data_is_read(pair_dir, tmp_path, no_work, model_arg, message, capsys):
    argv = [
        "train",
        "--data",
        str(pair_dir),
        "--out",
        str(tmp_path / "m.pt"),
        "--model-arg",
        model_arg,
        "--progress",
        "none",
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--model-arg" in err and message in err


def test_model_arguments_that_cannot_build_a_network_are_refused(pair_dir, tmp_path, no_work, capsys):
    argv = [
        "train",
        "--data",
        str(pair_dir),
        "--out",
        str(tmp_path / "m.pt"),
        "--model",
        "restormer",
        "--model-arg",
        "blocks=[1,1]",
        "--model-arg",
        "heads=[1,2,4]",
        "--progress",
        "none",
    ]
    assert main(argv) == 2
    assert "--model-arg: restormer cannot be built" in capsys.readouterr().err


def test_context_slices_out_of_range_are_refused(pair_dir, tmp_path, no_work, capsys):
    argv = [
        "train",
        "--data",
        str(pair_dir),
        "--out",
        str(tmp_path / "m.pt"),
        "--context-slices",
        "1000",
        "--progress",
        "none",
    ]
    assert main(argv) == 2
    assert "--context-slices 1000 must be an integer from 0 to 16" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["models"], ["models", "--json"], ["--help"]])
def test_a_reader_that_stops_reading_ends_the_command_quietly(command):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "ipv2"] + command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    process.stdout.close()  # as `| head -0` does: every write meets a closed pipe
    err = process.stderr.read().decode()
    process.wait(timeout=120)
    assert "Traceback" not in err and "Error" not in err
    if command != ["--help"]:
        assert process.returncode == EXIT_BROKEN_PIPE


def test_simulate_dose_flags_are_named_and_input_dose_needs_the_physical_mode(scan, tmp_path, no_work, capsys):
    out = str(tmp_path / "sim.nrrd")
    assert main(["simulate", "--in", str(scan), "--out", out, "--input-dose", "0", "--progress", "none"]) == 2
    err = capsys.readouterr().err
    assert "--input-dose 0: the input's own dose, as a fraction of the normal dose, must be in (0, 1]" in err
    assert main(["simulate", "--in", str(scan), "--out", out, "--dose", "2", "--progress", "none"]) == 2
    assert "--dose: dose fraction 2 must be in (0, 1]" in capsys.readouterr().err
    assert (
        main(["simulate", "--in", str(scan), "--out", out, "--mode", "seed", "--input-dose", "1", "--progress", "none"])
        == 2
    )
    assert "--input-dose applies to --mode physical" in capsys.readouterr().err


def test_demo_with_a_missing_model_is_refused_before_any_work(tmp_path, monkeypatch, capsys):
    import ipv2.services.demo

    def never(*args, **kwargs):
        raise AssertionError("the demo started")

    monkeypatch.setattr(ipv2.services.demo, "run_demo", never)
    out = tmp_path / "demo"
    assert (
        main(["demo", "--out", str(out), "--model", str(tmp_path / "nonexistent.safetensors"), "--progress", "none"])
        == 2
    )
    assert "nonexistent.safetensors" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(
    "flag,value,message",
    [("--slices", "2", "--slices 2 must be from 4 to 1024"), ("--size", "32", "--size 32 must be from 64 to 2048")],
)
def test_demo_sizes_are_the_phantoms_bounds_checked_first(tmp_path, monkeypatch, capsys, flag, value, message):
    import ipv2.services.demo

    def never(*args, **kwargs):
        raise AssertionError("the demo started")

    monkeypatch.setattr(ipv2.services.demo, "run_demo", never)
    assert main(["demo", "--out", str(tmp_path / "demo"), flag, value, "--progress", "none"]) == 2
    assert message in capsys.readouterr().err


def test_purify_refuses_one_scan_given_as_both_halves(scan, tmp_path, no_work, capsys):
    link = tmp_path / "also-scan.nrrd"
    link.symlink_to(scan)
    for gt in (scan, link):
        assert (
            main(["purify", "--lq", str(scan), "--gt", str(gt), "--out", str(tmp_path / "p"), "--progress", "none"])
            == 2
        )
        assert "--lq and --gt name the same scan" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()
