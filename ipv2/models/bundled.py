"""Where the weights shipped with the extension live.

`Resources/Models/<name>.safetensors` beside the package in a source checkout or in the
Slicer extension; the environment variable IPV2_MODELS_DIR points elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

MODELS_DIR_ENV = "IPV2_MODELS_DIR"
WEIGHT_SUFFIXES = (".safetensors", ".pt")


def bundled_models_dir() -> Path:
    override = os.environ.get(MODELS_DIR_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "Resources" / "Models"


def bundled_weights_path(name: str) -> Optional[Path]:
    """The bundled weight file of a registered model, or None when there is none."""
    folder = bundled_models_dir()
    for suffix in WEIGHT_SUFFIXES:
        candidate = folder / f"{name.lower()}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def model_card_path(name: str) -> Path:
    return bundled_models_dir() / f"{name.lower()}.md"
