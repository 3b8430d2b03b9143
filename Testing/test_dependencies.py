"""The dependency check reads installed versions from package metadata, without importing them."""

import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]

from IPv2Lib.Dependencies import TORCH_REQUIREMENT, installedVersion, requirementLines, torchProblem, unmetRequirements


@pytest.mark.parametrize("version, satisfied", [
    ("2.1.0", True), ("2.5.1+cu121", True), ("2.6.0.dev20250101+cpu", True), ("2.0.1", False), ("1.13.1+cu117", False)])
def test_torch_version_is_checked_against_the_requirement(version, satisfied):
    problem = torchProblem(version, ">=2.1")
    assert (problem is None) == satisfied
    if not satisfied:
        assert version in problem and ">=2.1" in problem


def test_missing_torch_is_a_problem():
    assert torchProblem(None) == "torch is not installed"


def test_torch_requirement_is_the_backends_own():
    text = (REPOSITORY / "pyproject.toml").read_text()
    assert f'"torch{TORCH_REQUIREMENT}"' in text


def test_unmet_requirements_are_the_missing_and_the_too_old():
    numpy = installedVersion("numpy")
    assert numpy is not None
    requirements = [f"numpy>={numpy}", "numpy>=999", "surely-not-a-package-ipv2>=1.0",
                    'numpy>=999; sys_platform == "no-such-platform"']
    assert unmetRequirements(requirements) == ["numpy>=999", "surely-not-a-package-ipv2>=1.0"]


def test_any_opencv_wheel_satisfies_the_opencv_requirement():
    requirement = ["opencv-python-headless>=4.8"]
    assert unmetRequirements(requirement, versionOf={"opencv-python": "4.10.0"}.get) == []
    assert unmetRequirements(requirement, versionOf={"opencv-contrib-python-headless": "5.0.0"}.get) == []
    assert unmetRequirements(requirement, versionOf={"opencv-python": "4.5.1"}.get) == requirement
    assert unmetRequirements(requirement, versionOf={"numpy": "2.0"}.get) == requirement


def test_only_the_missing_requirements_are_handed_to_slicers_installer(monkeypatch):
    import types

    import IPv2Lib.Dependencies as dependencies

    handed = []
    fake = types.ModuleType("slicer.packaging")
    fake.pip_ensure = lambda requirements, **options: handed.append(list(requirements))
    monkeypatch.setitem(sys.modules, "slicer.packaging", fake)
    monkeypatch.setattr(dependencies, "requirementLines", lambda: ["numpy>=1.0"])
    assert dependencies.Dependencies.ensureRequirements(askConfirmation=False) and handed == []
    monkeypatch.setattr(dependencies, "requirementLines", lambda: ["numpy>=1.0", "surely-not-a-package-ipv2>=1.0"])
    assert dependencies.Dependencies.ensureRequirements(askConfirmation=False)
    assert handed == [["surely-not-a-package-ipv2>=1.0"]]


def test_requirements_file_parses_and_leaves_torch_to_the_pytorch_extension():
    lines = requirementLines()
    assert lines and all(not line.startswith("#") for line in lines)
    names = {line.split(">")[0].split("=")[0].strip().lower() for line in lines}
    assert "torch" not in names and "scipy" in names


def test_checking_versions_imports_none_of_the_packages():
    script = ("import sys; from IPv2Lib.Dependencies import *; "
              "torchProblem(installedVersion('torch')); unmetRequirements(requirementLines()); "
              "print(sorted(name for name in ('torch', 'scipy', 'skimage') if name in sys.modules))")
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                               cwd=REPOSITORY)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"
