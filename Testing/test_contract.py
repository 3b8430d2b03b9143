"""The contract module: importable without the heavy packages, and in agreement with the backend."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from ipv2 import contract

REPOSITORY = Path(__file__).resolve().parents[1]


def test_importing_the_contract_imports_no_heavy_package():
    script = (
        "import sys; import ipv2.contract; "
        "print(sorted(name for name in ('torch', 'scipy', 'skimage', 'SimpleITK', 'matplotlib') "
        "if name in sys.modules))"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPOSITORY)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"


def test_purify_names_are_the_backends():
    from ipv2.masks.regions import LABEL_BACKGROUND, LABEL_BODY, LABEL_LUNG
    from ipv2.purify.options import DEVICES, MODES, SIMULATE_MODES, PurifyOptions
    from ipv2.purify.outputs import VOLUME_OUTPUTS
    from ipv2.weak import DEFAULT_WEAK_DENOISER, WEAK_DENOISERS

    assert (contract.MODES, contract.SIMULATE_MODES, contract.DEVICES) == (MODES, SIMULATE_MODES, DEVICES)
    assert (contract.WEAK_DENOISERS, contract.DEFAULT_WEAK_DENOISER) == (WEAK_DENOISERS, DEFAULT_WEAK_DENOISER)
    assert contract.DEFAULT_MODE == PurifyOptions.__dataclass_fields__["mode"].default
    assert contract.PURIFY_OUTPUT_FILES == VOLUME_OUTPUTS
    assert (contract.LABEL_BODY, contract.LABEL_BACKGROUND, contract.LABEL_LUNG) == (
        LABEL_BODY,
        LABEL_BACKGROUND,
        LABEL_LUNG,
    )


def test_model_names_are_the_registered_ones():
    pytest.importorskip("torch")
    from ipv2.models import DEFAULT_MODEL, MODEL_REGISTRY

    assert set(contract.NETWORKS) == set(MODEL_REGISTRY) and contract.DEFAULT_MODEL == DEFAULT_MODEL
    assert contract.NETWORKS[0] == DEFAULT_MODEL


@pytest.mark.skipif(
    importlib.util.find_spec("ipv2.denoise.classical") is None, reason="no classical denoisers in this backend"
)
def test_classical_names_are_the_backends():
    from ipv2.denoise.classical import CLASSICAL_DENOISERS

    assert contract.CLASSICAL_DENOISERS == tuple(CLASSICAL_DENOISERS)


def test_exit_codes_are_the_command_lines():
    from ipv2.cli import main

    assert (contract.EXIT_USER_ERROR, contract.EXIT_CANCELLED) == (main.EXIT_USER_ERROR, main.EXIT_CANCELLED)


def test_the_panels_libraries_import_no_heavy_package():
    """What IPv2Purify.py and IPv2Denoise.py import at module load, on Slicer's main thread."""
    pytest.importorskip("slicer")
    script = (
        "import sys; "
        "import IPv2Lib.DenoiseLogic, IPv2Lib.TrainLogic, IPv2Lib.EvaluateLogic, IPv2Lib.PurifyLogic, "
        "IPv2Lib.JobPanel, IPv2Lib.Dependencies; "
        "print(sorted(name for name in ('torch', 'scipy', 'skimage', 'matplotlib') if name in sys.modules))"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPOSITORY)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"
