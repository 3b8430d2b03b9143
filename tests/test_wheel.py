"""A built wheel carries the bundled weights: installed into a fresh environment, outside any
source tree, it lists them and denoises with the default model."""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from setuptools import find_packages

from ipv2.io import read_volume, write_volume
from ipv2.testing import chest_like
from ipv2.volume import Volume

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "Resources" / "Models"


def test_the_listed_packages_are_the_package_folders():
    tomllib = pytest.importorskip("tomllib")
    listed = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    found = find_packages(where=str(REPO), include=["ipv2", "ipv2.*"])
    assert sorted(listed) == sorted(found + ["ipv2.bundled_models"])


def _source_copy(folder: Path) -> Path:
    """What the wheel is built from, copied so that the build leaves nothing in the checkout."""
    shutil.copytree(REPO / "ipv2", folder / "ipv2", ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "Resources").mkdir()
    shutil.copytree(MODELS, folder / "Resources" / "Models", ignore=shutil.ignore_patterns(".*"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, folder / name)
    return folder


def _see_the_running_environment(python: Path) -> None:
    """`venv --system-site-packages` shows the base interpreter's packages; when the tests run
    in a virtual environment (as a newcomer's do), torch and SimpleITK are in that one's
    site-packages instead, which a .pth file in the new environment puts on its path. Plain
    lines of a .pth are folders only: the running environment's own .pth files (an editable
    ipv2) are not run, so the new environment's ipv2 is still the wheel's."""
    if sys.prefix == sys.base_prefix:
        return
    inner = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    outer = dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib"))
    (Path(inner) / "running-environment.pth").write_text("".join(f"{folder}\n" for folder in outer))


@pytest.mark.slow
@pytest.mark.skipif(not any(MODELS.glob("*.safetensors")), reason="no bundled weights in this checkout")
def test_wheel_installed_in_a_fresh_environment_lists_and_uses_its_weights(tmp_path):
    source = _source_copy(tmp_path / "src")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next((tmp_path / "dist").glob("ipv2-*.whl"))
    # The environment sees the installed torch and numpy (nothing is downloaded) but its own ipv2.
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(tmp_path / "venv")], check=True
    )
    python = tmp_path / "venv" / ("Scripts" if os.name == "nt" else "bin") / "python"
    _see_the_running_environment(python)
    # Without PYTHONPATH: a source checkout on it would show pip an ipv2 "already installed".
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "IPV2_MODELS_DIR")}
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel)],
        check=True,
        capture_output=True,
        env=env,
    )
    shutil.rmtree(source)

    def ipv2(*argv):
        return subprocess.run(
            [str(python), "-m", "ipv2", *argv], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )

    listing = ipv2("models", "--json")
    assert listing.returncode == 0, listing.stderr
    report = json.loads(listing.stdout)
    installed = Path(report["weights_dir"])
    assert installed.name == "bundled_models" and tmp_path / "venv" in installed.parents
    bundled = {row["name"] for row in report["models"] if row["bundled_weights"]}
    assert bundled == {path.stem for path in MODELS.glob("*.safetensors")}
    assert {p.name for p in installed.glob("*.md")} == {p.name for p in MODELS.glob("*.md")}

    scan = write_volume(Volume(chest_like((3, 64, 64)), spacing=(0.7, 0.7, 2.5)), tmp_path / "scan.nrrd")
    denoised = ipv2(
        "denoise", "--in", str(scan), "--out", str(tmp_path / "out.nrrd"), "--device", "cpu", "--progress", "none"
    )
    assert denoised.returncode == 0, denoised.stderr
    assert read_volume(tmp_path / "out.nrrd").shape == (3, 64, 64)
