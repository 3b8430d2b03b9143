"""The batch script always ends with an exit code, and fast, whatever fails.

Slicer ends a `--python-script` run only when the script calls `sys.exit`. Here the script
runs the way Slicer's launcher runs the application: `launcher_like_wrapper` starts a child
interpreter that runs it as `__main__` (as Slicer's `executeFile` does) and passes its exit
code on. Every run has a deadline: a script that hangs fails the test instead of blocking.
"""

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
TESTING = REPOSITORY / "Testing"
SCRIPT = REPOSITORY / "IPv2Denoise" / "Scripts" / "IPv2BatchDenoise.py"
SAMPLE = REPOSITORY / "IPv2Lib" / "Resources" / "SampleData" / "IPv2SyntheticUldct.nrrd"
DEADLINE_SECONDS = 90
QUICK_SECONDS = 30  # a refusal before any scan is read


def writeRunner(folder, prelude=""):
    """A module that runs the script as `__main__` after `prelude` (which may replace what Slicer's Python holds)."""
    source = textwrap.dedent(prelude) + f"\nimport runpy\nrunpy.run_path({str(SCRIPT)!r}, run_name='__main__')\n"
    (folder / "batch_under_test.py").write_text(source)


def runBatch(tmp_path, *arguments, prelude="", pathFirst=()):
    """(completed process, seconds): the script under the launcher-like wrapper, with a deadline."""
    runnerFolder = tmp_path / "runner"
    runnerFolder.mkdir(exist_ok=True)
    writeRunner(runnerFolder, prelude)
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        [*map(str, pathFirst), str(runnerFolder), str(TESTING), str(REPOSITORY)]
    )
    command = [
        sys.executable,
        "-m",
        "launcher_like_wrapper",
        "--worker-pid-file",
        str(tmp_path / "worker.pid"),
        "batch_under_test",
        *map(str, arguments),
    ]
    started = time.monotonic()
    completed = subprocess.run(
        command, capture_output=True, text=True, env=environment, cwd=tmp_path, timeout=DEADLINE_SECONDS
    )
    return completed, time.monotonic() - started


def scansFolder(tmp_path, *, bad=False):
    folder = tmp_path / "scans"
    folder.mkdir()
    shutil.copy(SAMPLE, folder / "chest.nrrd")
    if bad:
        (folder / "broken.nrrd").write_text("not a volume")
    return folder


def test_a_missing_input_folder_exits_2_and_writes_nothing(tmp_path):
    completed, seconds = runBatch(tmp_path, "--in", tmp_path / "missing", "--out", tmp_path / "out", "--model", "nlm")
    assert completed.returncode == 2 and "no such file or folder" in completed.stderr
    assert seconds < QUICK_SECONDS and not (tmp_path / "out").exists()


def test_a_folder_without_scans_exits_2(tmp_path):
    (tmp_path / "scans").mkdir()
    (tmp_path / "scans" / "notes.txt").write_text("no scan here")
    completed, seconds = runBatch(tmp_path, "--in", tmp_path / "scans", "--out", tmp_path / "out", "--model", "nlm")
    assert completed.returncode == 2 and "holds no DICOM series" in completed.stderr
    assert seconds < QUICK_SECONDS and not (tmp_path / "out" / "regions").exists()


def test_an_unknown_strength_exits_2_from_the_parser(tmp_path):
    completed, seconds = runBatch(tmp_path, "--in", tmp_path, "--out", tmp_path / "out", "--strength", "maximum")
    assert completed.returncode == 2 and "invalid choice" in completed.stderr and seconds < QUICK_SECONDS


def test_an_unknown_device_exits_2_from_the_parser_and_one_gpu_is_taken(tmp_path):
    completed, seconds = runBatch(tmp_path, "--in", tmp_path, "--out", tmp_path / "out", "--device", "gpu")
    assert completed.returncode == 2 and "device 'gpu' is unknown" in completed.stderr and seconds < QUICK_SECONDS
    # cuda:1 passes the parser: the run stops later, at the folder that holds no scans.
    completed, _ = runBatch(tmp_path, "--in", tmp_path, "--out", tmp_path / "out", "--device", "cuda:1")
    assert completed.returncode == 2 and "--device" not in completed.stderr


def test_an_unwritable_output_exits_2(tmp_path):
    scans = scansFolder(tmp_path)
    (tmp_path / "a-file").write_text("")
    completed, seconds = runBatch(tmp_path, "--in", scans, "--out", tmp_path / "a-file" / "results", "--model", "nlm")
    assert completed.returncode == 2 and "is a file" in completed.stderr and seconds < QUICK_SECONDS


def test_a_backend_that_cannot_be_imported_exits_non_zero(tmp_path):
    broken = tmp_path / "broken-path"
    (broken / "ipv2").mkdir(parents=True)
    (broken / "ipv2" / "__init__.py").write_text("raise ImportError('this ipv2 is broken')\n")
    completed, seconds = runBatch(
        tmp_path, "--in", scansFolder(tmp_path), "--out", tmp_path / "out", pathFirst=[broken]
    )
    assert completed.returncode == 1 and "this ipv2 is broken" in completed.stderr and seconds < QUICK_SECONDS


MISSING_TORCH = """
import IPv2Lib.Dependencies as dependencies
realVersion = dependencies.installedVersion
dependencies.installedVersion = lambda name: None if name == "torch" else realVersion(name)
"""


def test_missing_packages_are_listed_and_nothing_is_installed(tmp_path):
    completed, seconds = runBatch(
        tmp_path, "--in", scansFolder(tmp_path), "--out", tmp_path / "out", prelude=MISSING_TORCH
    )
    assert completed.returncode == 2 and "missing: torch is not installed" in completed.stderr
    assert "--install-dependencies" in completed.stderr and seconds < QUICK_SECONDS
    assert not (tmp_path / "out").exists()


def test_an_install_that_cannot_happen_exits_2_without_a_dialog(tmp_path):
    """No PyTorch extension to install torch with: one message, exit 2 (a dialog would hang a headless Slicer)."""
    completed, seconds = runBatch(
        tmp_path,
        "--in",
        scansFolder(tmp_path),
        "--out",
        tmp_path / "out",
        "--install-dependencies",
        prelude=MISSING_TORCH,
    )
    assert completed.returncode == 2 and "Install the 'PyTorch' extension" in completed.stderr
    assert seconds < QUICK_SECONDS and not (tmp_path / "out").exists()


UNINSTALLABLE_REQUIREMENT = """
import IPv2Lib.Dependencies as dependencies
dependencies.requirementLines = lambda path=None: ["surely-not-a-package-ipv2>=1.0"]
"""


def test_a_requirement_pip_cannot_install_exits_2(tmp_path):
    completed, seconds = runBatch(
        tmp_path,
        "--in",
        scansFolder(tmp_path),
        "--out",
        tmp_path / "out",
        "--install-dependencies",
        prelude=UNINSTALLABLE_REQUIREMENT,
    )
    assert completed.returncode == 2 and "surely-not-a-package-ipv2" in completed.stderr
    assert seconds < DEADLINE_SECONDS and not (tmp_path / "out").exists()


def test_a_bad_scan_fails_alone_and_the_others_are_denoised_and_segmented(tmp_path):
    scans = scansFolder(tmp_path, bad=True)
    completed, _ = runBatch(tmp_path, "--in", scans, "--out", tmp_path / "out", "--model", "nlm")
    assert completed.returncode == 2, completed.stderr[-2000:]
    assert "failed: broken" in completed.stderr
    assert sorted(path.name for path in (tmp_path / "out" / "denoised").iterdir() if not path.name.startswith(".")) == [
        "chest.denoise.json",
        "chest.nrrd",
        "denoise_accounts.csv",
    ]
    assert sorted(path.name for path in (tmp_path / "out" / "regions").iterdir() if not path.name.startswith(".")) == [
        "chest.nrrd"
    ]


def test_a_good_folder_exits_0_and_a_rerun_skips_what_is_done(tmp_path):
    from ipv2.contract import LABEL_LUNG
    from ipv2.io import read_volume

    scans = scansFolder(tmp_path)
    completed, _ = runBatch(tmp_path, "--in", scans, "--out", tmp_path / "out", "--model", "nlm")
    assert completed.returncode == 0, completed.stderr[-2000:]
    denoised = read_volume(tmp_path / "out" / "denoised" / "chest.nrrd")
    labels = read_volume(tmp_path / "out" / "regions" / "chest.nrrd")
    assert denoised.same_geometry(read_volume(SAMPLE)) and labels.shape == denoised.shape
    assert (labels.array == LABEL_LUNG).any()
    again, _ = runBatch(tmp_path, "--in", scans, "--out", tmp_path / "out", "--model", "nlm")
    assert again.returncode == 0 and "1 skipped" in again.stdout


def test_the_script_imports_nothing_outside_its_guard():
    """Any module-level import could raise before the guard, and Slicer would then never exit."""
    import ast

    tree = ast.parse(SCRIPT.read_text())
    imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert [alias.name for node in imports for alias in node.names] == ["sys"]
    guard = tree.body[-1]
    assert isinstance(guard, ast.If) and "sys.exit(main(" in ast.unparse(guard)


def test_a_missing_input_folder_is_refused_before_any_install(tmp_path):
    completed, seconds = runBatch(
        tmp_path,
        "--in",
        tmp_path / "nowhere",
        "--out",
        tmp_path / "out",
        "--install-dependencies",
        prelude=UNINSTALLABLE_REQUIREMENT,
    )
    assert completed.returncode == 2 and "no such file or folder" in completed.stderr
    assert "surely-not-a-package-ipv2" not in completed.stderr + completed.stdout
