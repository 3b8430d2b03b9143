"""Output folders under a careless hand: `--overwrite` replaces an earlier result of ipv2 and
nothing else, and the current folder, its parents and an input's folder are never an output."""

from pathlib import Path

import pydicom
import pytest

from ipv2.cli.main import main
from ipv2.errors import InputError
from ipv2.io.atomic import atomic_output_folder
from tests.support.dicom_factory import axial_positions, write_series

DENOISE = ["denoise", "--model", "nlm", "--sigma", "20", "--progress", "none"]


@pytest.fixture
def series(tmp_path):
    folder = tmp_path / "series"
    write_series(folder, axial_positions(4))
    return folder


def _tree(folder: Path) -> dict:
    return {
        str(path.relative_to(folder)): path.read_bytes() if path.is_file() else None
        for path in sorted(folder.rglob("*"))
    }


def _series_uid(folder: Path) -> str:
    return str(pydicom.dcmread(str(next(folder.glob("*.dcm"))), stop_before_pixels=True).SeriesInstanceUID)


def test_overwrite_keeps_a_folder_of_other_files(series, tmp_path, capsys):
    home = tmp_path / "home"
    (home / "documents").mkdir(parents=True)
    (home / "notes.txt").write_text("mine")
    (home / "documents" / "thesis.tex").write_text("also mine")
    before = _tree(home)
    assert main(DENOISE + ["--in", str(series), "--out", str(home.absolute()), "--overwrite"]) == 2
    err = capsys.readouterr().err
    assert "notes.txt" in err and "documents" in err and err.count("\n") == 1
    assert _tree(home) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "series"]


def test_overwrite_replaces_an_earlier_derived_series(series, tmp_path, capsys):
    out = tmp_path / "denoised"
    assert main(DENOISE + ["--in", str(series), "--out", str(out)]) == 0
    first = _series_uid(out)
    assert main(DENOISE + ["--in", str(series), "--out", str(out), "--overwrite"]) == 0
    assert _series_uid(out) != first and len(list(out.iterdir())) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["denoised", "denoised.denoise.json", "series"]


def test_overwrite_keeps_a_derived_series_with_a_file_added(series, tmp_path, capsys):
    out = tmp_path / "denoised"
    assert main(DENOISE + ["--in", str(series), "--out", str(out)]) == 0
    (out / "report.pdf").write_text("a reader's report")
    before = _tree(out)
    assert main(DENOISE + ["--in", str(series), "--out", str(out), "--overwrite"]) == 2
    assert "report.pdf" in capsys.readouterr().err
    assert _tree(out) == before


def test_a_folder_that_changed_during_the_run_is_not_replaced(tmp_path):
    destination = tmp_path / "result"
    destination.mkdir()
    (destination / "arrived.txt").write_text("written while the run worked")

    def refuse(folder):
        raise InputError(f"{folder}: holds arrived.txt")

    with pytest.raises(InputError):
        with atomic_output_folder(destination, refuse) as tmp:
            (tmp / "00001.dcm").write_bytes(b"new")
    assert [p.name for p in tmp_path.iterdir()] == ["result"]
    assert [p.name for p in destination.iterdir()] == ["arrived.txt"]
    with pytest.raises(InputError, match="--overwrite"):
        with atomic_output_folder(destination) as tmp:  # no rule given: an existing folder stays
            pass
    assert [p.name for p in destination.iterdir()] == ["arrived.txt"]


@pytest.mark.parametrize("out", [".", "..", "CWD", "ROOT"])
@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_the_current_folder_and_its_parents_are_refused_before_any_work(
    series, tmp_path, monkeypatch, capsys, out, overwrite
):
    work = tmp_path / "work"
    work.mkdir()
    (work / "keep.txt").write_text("mine")
    monkeypatch.chdir(work)
    out = {"CWD": str(work), "ROOT": "/"}.get(out, out)
    before = _tree(tmp_path)
    assert main(DENOISE + ["--in", str(series), "--out", out] + overwrite) == 2
    err = capsys.readouterr().err
    assert "current folder or one above it" in err and err.count("\n") == 1
    assert "noise level" not in capsys.readouterr().out
    assert _tree(tmp_path) == before


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_a_folder_holding_the_input_is_refused(series, tmp_path, capsys, overwrite):
    assert main(DENOISE + ["--in", str(series), "--out", str(tmp_path)] + overwrite) == 2
    assert "would delete the input" in capsys.readouterr().err
    assert main(DENOISE + ["--in", str(series), "--out", str(series)] + overwrite) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["series"]


def test_a_batch_keeps_a_foreign_folder_of_a_scans_name(series, tmp_path, capsys):
    scans = tmp_path / "scans"
    scans.mkdir()
    series.rename(scans / "alpha")
    results = tmp_path / "results"
    (results / "alpha").mkdir(parents=True)
    (results / "alpha" / "notes.txt").write_text("mine")
    assert main(DENOISE + ["--in", str(scans), "--out", str(results), "--overwrite"]) == 2
    out = capsys.readouterr().out
    assert "failed  alpha" in out and "notes.txt" in out
    assert [p.name for p in (results / "alpha").iterdir()] == ["notes.txt"]
    assert main(DENOISE + ["--in", str(scans), "--out", str(scans.parent)]) == 2
    assert "holds the --in folder" in capsys.readouterr().err
