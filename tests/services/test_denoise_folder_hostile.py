"""Folder runs beside single runs: one locking rule, results counted as done only when made
with the same settings, and a cancel that says what it kept."""

import json
import os
import socket

import pytest

import ipv2.services.denoise_folder as denoise_folder
from ipv2.cli.main import main
from ipv2.errors import Cancelled
from ipv2.io import write_volume
from ipv2.io.lock import LOCK_SUFFIX, lock_path
from ipv2.testing import chest_like
from ipv2.volume import Volume
from tests.support.dicom_factory import axial_positions, write_series

DENOISE = ["denoise", "--model", "nlm", "--progress", "none"]


@pytest.fixture
def scans(tmp_path):
    folder = tmp_path / "scans"
    for k, name in enumerate(("alpha", "beta", "gamma")):
        write_volume(Volume(chest_like((2, 32, 32), seed=k)), folder / f"{name}.nrrd")
    return folder


def _held_by_another_run(lock):
    """A lock file naming a live process of this host other than this one: a run in progress."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname(), "started": "now"}))


def test_single_runs_inside_a_folder_a_batch_holds_are_refused(scans, tmp_path, capsys):
    results = tmp_path / "results"
    _held_by_another_run(results / LOCK_SUFFIX)
    series = tmp_path / "series"
    write_series(series, axial_positions(3))
    for source, out in (
        (series, results / "s1"),
        (scans / "alpha.nrrd", results / "x.nrrd"),
        (scans / "alpha.nrrd", results / "deeper" / "y.nrrd"),
    ):
        assert main(DENOISE + ["--sigma", "20", "--in", str(source), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert f"is writing the folder {results}" in err and err.count("\n") == 1
    assert sorted(p.name for p in results.iterdir()) == [LOCK_SUFFIX]


def test_a_batch_does_not_write_a_result_a_single_run_is_writing(scans, tmp_path, capsys):
    results = tmp_path / "results"
    _held_by_another_run(lock_path(results / "beta.nrrd"))
    assert main(DENOISE + ["--sigma", "20", "--in", str(scans), "--out", str(results)]) == 2
    out = capsys.readouterr().out
    assert "3 scans: 2 denoised" in out and "failed  beta: result" in out and "is writing it" in out
    assert not (results / "beta.nrrd").exists()


def test_a_rerun_counts_as_done_only_what_it_made_with_the_same_settings(scans, tmp_path, capsys):
    results = tmp_path / "results"
    assert (
        main(DENOISE + ["--sigma", "20", "--in", str(scans / "gamma.nrrd"), "--out", str(results / "gamma.nrrd")]) == 0
    )
    assert main(DENOISE + ["--sigma", "20", "--in", str(scans), "--out", str(results)]) == 2
    out = capsys.readouterr().out
    assert "3 scans: 2 denoised, 0 skipped (already done), 1 kept (made otherwise), 0 failed" in out
    assert "kept    gamma:" in out and "by another run or by hand" in out and "--overwrite" in out

    assert main(DENOISE + ["--sigma", "30", "--in", str(scans), "--out", str(results)]) == 2
    out = capsys.readouterr().out
    assert "0 denoised, 0 skipped (already done), 3 kept (made otherwise)" in out
    assert "made with nlm, sigma 20 HU, not with nlm, sigma 30 HU" in out

    assert main(DENOISE + ["--sigma", "20", "--in", str(scans), "--out", str(results), "--overwrite"]) == 0
    assert main(DENOISE + ["--sigma", "20", "--in", str(scans), "--out", str(results)]) == 0
    assert "0 denoised, 3 skipped (already done), 0 failed" in capsys.readouterr().out

    write_volume(Volume(chest_like((2, 32, 32), seed=7)), results / "alpha.nrrd")  # replaced by hand
    assert main(DENOISE + ["--sigma", "20", "--in", str(scans), "--out", str(results)]) == 2
    assert "kept    alpha:" in capsys.readouterr().out


def test_a_cancelled_batch_lists_what_it_kept_and_how_to_continue(scans, tmp_path, monkeypatch, capsys):
    results = tmp_path / "results"
    original = denoise_folder.denoise_with_account
    calls = []

    def cancelled_on_the_second_scan(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise Cancelled("cancelled")
        return original(*args, **kwargs)

    monkeypatch.setattr(denoise_folder, "denoise_with_account", cancelled_on_the_second_scan)
    assert main(DENOISE + ["--sigma", "20", "--in", str(scans), "--out", str(results)]) == 130
    captured = capsys.readouterr()
    assert "3 scans: 1 denoised" in captured.out
    assert captured.err.count("\n") == 1 and "nothing was written" not in captured.err
    assert f"kept 1 finished scan in {results} (alpha)" in captured.err and "run the same command again" in captured.err
    monkeypatch.undo()
    assert main(DENOISE + ["--sigma", "20", "--in", str(scans), "--out", str(results)]) == 0
    assert "2 denoised, 1 skipped (already done)" in capsys.readouterr().out
