"""pip resolves the backend's requirements for Slicer 5.8's Python without replacing Slicer's packages.

Slicer 5.8.1 runs CPython 3.9 with numpy 1.26.4, scipy 1.13.1, pydicom 2.4.4 and Pillow 10.3.0
(Slicer's SuperBuild/External_python-numpy.cmake, -scipy.cmake, -dicom-requirements.cmake).
pip's own resolver answers for that Python (`--python-version 3.9 --only-binary=:all:` into
an empty `--target`), from the package registry; the tests skip when it cannot be reached.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from IPv2Lib.Dependencies import requirementLines
from IPv2Lib.PackageInstall import plannedChanges, writeConstraints

SLICER_5_8_PINS = {"numpy": "1.26.4", "scipy": "1.13.1", "pydicom": "2.4.4", "pillow": "10.3.0"}


def registryReachable():
    completed = subprocess.run(
        [sys.executable, "-m", "pip", "index", "versions", "numpy", "--python-version", "3.9", "--only-binary=:all:"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return completed.returncode == 0 and "1.26.4" in completed.stdout


@pytest.fixture(scope="module")
def registry():
    try:
        reachable = registryReachable()
    except (OSError, subprocess.TimeoutExpired):
        reachable = False
    if not reachable:
        pytest.skip("the package registry cannot be reached: pip cannot resolve for Slicer 5.8's Python here")


def resolveForSlicer58(requirements, folder, pins):
    constraints = writeConstraints(folder, [f"{name}=={version}" for name, version in pins.items()])
    extra = [
        "--python-version",
        "3.9",
        "--only-binary=:all:",
        "--ignore-installed",
        "--target",
        str(Path(folder) / "target"),
    ]
    return {
        change.name.lower(): change.version
        for change in plannedChanges(
            requirements, constraints, sys.executable, extraArguments=extra, versionOf=lambda name: None
        )
    }


def test_the_requirements_resolve_for_slicer_5_8_keeping_its_packages(registry, tmp_path):
    resolved = resolveForSlicer58(requirementLines(), tmp_path, SLICER_5_8_PINS)
    for name, version in SLICER_5_8_PINS.items():
        if name in resolved:
            assert resolved[name] == version, f"{name} would become {resolved[name]}"
    assert resolved["numpy"] == "1.26.4"
    assert "opencv-python-headless" in resolved and "scikit-image" in resolved


def test_without_the_constraints_opencv_would_take_numpy_2(registry, tmp_path):
    """What the constraints prevent: for CPython 3.9 the newest OpenCV wheels need numpy 2."""
    resolved = resolveForSlicer58(["opencv-python-headless>=4.8"], tmp_path, {})
    assert resolved["numpy"] != "1.26.4"
