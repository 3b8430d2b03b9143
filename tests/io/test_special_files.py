"""Named pipes, sockets and devices named like volumes: never opened, so never a hang."""

import os
import socket
import subprocess
import sys
import textwrap

import pytest

from ipv2.errors import InputError
from ipv2.io import write_volume
from ipv2.io.scans import find_scans
from ipv2.io.special_files import require_regular_file
from ipv2.testing import chest_like
from ipv2.volume import Volume

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")


def test_scan_discovery_takes_regular_files_only(tmp_path):
    write_volume(Volume(chest_like((3, 32, 32))), tmp_path / "alpha.nrrd")
    os.mkfifo(tmp_path / "beta.nrrd")
    os.symlink("/dev/zero", tmp_path / "gamma.mha")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(tmp_path / "delta.nii"))
        assert [scan.name for scan in find_scans(tmp_path)] == ["alpha"]


def test_special_files_are_named_without_being_opened(tmp_path):
    os.mkfifo(tmp_path / "pipe.nrrd")
    with pytest.raises(InputError, match="pipe.nrrd: a named pipe, not a file"):
        require_regular_file(tmp_path / "pipe.nrrd")
    with pytest.raises(InputError, match="a character device"):
        require_regular_file("/dev/zero")


def test_a_pipe_among_the_scans_or_as_the_input_ends_without_a_hang(tmp_path):
    """In a child process with a time limit: before the fix the reader blocked for good."""
    scans = tmp_path / "scans"
    scans.mkdir()
    write_volume(Volume(chest_like((3, 32, 32))), scans / "alpha.nrrd")
    os.mkfifo(scans / "beta.nrrd")
    (tmp_path / "detached.nhdr").write_text(
        "NRRD0004\ntype: float\ndimension: 3\nsizes: 32 32 3\n"
        "encoding: raw\nendian: little\ndata file: scans/beta.nrrd\n\n"
    )
    script = textwrap.dedent(f"""
        from ipv2.cli.main import main
        base = ["denoise", "--model", "nlm", "--sigma", "20", "--progress", "none"]
        print("batch", main(base + ["--in", {str(scans)!r}, "--out", {str(tmp_path / "results")!r}]), flush=True)
        print("pipe", main(base + ["--in", {str(scans / "beta.nrrd")!r}, "--out", {str(tmp_path / "b.nrrd")!r}]))
        print("detached", main(base + ["--in", {str(tmp_path / "detached.nhdr")!r},
                                       "--out", {str(tmp_path / "d.nrrd")!r}]))
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert "batch 0" in run.stdout and "1 scans: 1 denoised" in run.stdout
    assert "pipe 2" in run.stdout and "beta.nrrd: a named pipe, not a file" in run.stderr
    assert "detached 2" in run.stdout and "its data file" in run.stderr
    assert sorted(p.name for p in (tmp_path / "results").iterdir() if not p.name.startswith(".")) == [
        "alpha.denoise.json",
        "alpha.nrrd",
        "denoise_accounts.csv",
    ]
