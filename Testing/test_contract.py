"""The contract module and the panels' libraries import without the heavy packages.

That the contract is the only definition of its values is tests/test_contract_single_source.py's.
"""

import subprocess
import sys
from pathlib import Path

import pytest

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
