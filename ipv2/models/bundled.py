"""Where the weights shipped with the extension live.

In order:
1. the folder named by the environment variable IPV2_MODELS_DIR;
2. `Resources/Models/<name>.safetensors` beside the package folder: a source checkout, or
   the Slicer extension, which installs the package and Resources/Models side by side;
3. the copy a wheel installs as package data, `ipv2/bundled_models/` (pyproject.toml maps
   Resources/Models there), found through importlib.resources.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

MODELS_DIR_ENV = "IPV2_MODELS_DIR"
WEIGHT_SUFFIXES = (".safetensors", ".pt")
PACKAGE_DATA_FOLDER = "bundled_models"


def _beside_package() -> Path:
    return Path(__file__).resolve().parents[2] / "Resources" / "Models"


def _package_data() -> Path:
    # An installed wheel is unpacked on disk, so the resource is a plain folder.
    return Path(str(resources.files("ipv2") / PACKAGE_DATA_FOLDER))


def bundled_models_dir() -> Path:
    override = os.environ.get(MODELS_DIR_ENV)
    if override:
        return Path(override)
    beside = _beside_package()
    if beside.is_dir():
        return beside
    return _package_data()


def bundled_weights_path(name: str) -> Path | None:
    """The bundled weight file of a registered model, or None when there is none."""
    folder = bundled_models_dir()
    for suffix in WEIGHT_SUFFIXES:
        candidate = folder / f"{name.lower()}{suffix}"
        if candidate.is_file():
            return candidate
    return None
