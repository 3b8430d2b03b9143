"""The batch script's checks before any work, run as a plain interpreter runs it (no Slicer)."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
SCRIPT = REPOSITORY / "IPv2Denoise" / "Scripts" / "IPv2BatchDenoise.py"


def runScript(*arguments):
    """Runs the script with the repository root on the path, as the scripted-modules folder is in Slicer."""
    environment = dict(os.environ, PYTHONPATH=str(REPOSITORY))
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, arguments)], capture_output=True, text=True,
                          cwd=REPOSITORY, env=environment)


def test_a_missing_input_folder_is_refused_with_exit_2(tmp_path):
    completed = runScript("--in", tmp_path / "missing", "--out", tmp_path / "out")
    assert completed.returncode == 2 and "no such folder" in completed.stderr
    assert not (tmp_path / "out").exists()


def test_a_folder_without_scans_is_refused_with_exit_2(tmp_path):
    (tmp_path / "scans").mkdir()
    (tmp_path / "scans" / "notes.txt").write_text("no scan here")
    completed = runScript("--in", tmp_path / "scans", "--out", tmp_path / "out")
    assert completed.returncode == 2 and "no volume files or DICOM folders" in completed.stderr
    assert not (tmp_path / "out").exists()


def test_an_unknown_strength_is_refused_by_the_parser(tmp_path):
    completed = runScript("--in", tmp_path, "--out", tmp_path / "out", "--strength", "maximum")
    assert completed.returncode == 2 and "invalid choice" in completed.stderr


def test_scans_are_volume_files_and_dicom_folders(tmp_path):
    spec = importlib.util.spec_from_file_location("IPv2BatchDenoise", SCRIPT)
    IPv2BatchDenoise = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(IPv2BatchDenoise)
    for name in ("b.nii.gz", "a.nrrd", "notes.txt"):
        (tmp_path / name).write_text("")
    (tmp_path / "series").mkdir()
    (tmp_path / "series" / "IM0001").write_text("")
    (tmp_path / "empty").mkdir()
    assert [path.name for path in IPv2BatchDenoise.scansIn(tmp_path)] == ["a.nrrd", "b.nii.gz", "series"]
    assert IPv2BatchDenoise.scanName(tmp_path / "b.nii.gz") == "b"
