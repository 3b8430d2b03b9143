"""`ipv2 --help` and argument errors import no torch and no SimpleITK (the parser's names come from
ipv2.contract)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

PROBE = """
import sys
from ipv2.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
heavy = sorted(name for name in ("torch", "SimpleITK", "scipy", "skimage", "matplotlib") if name in sys.modules)
print("HEAVY", ",".join(heavy))
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["train", "--help"],
        ["denoise", "--help"],
        ["simulate", "--help"],
        ["models", "--help"],
        ["phantom", "--help"],
        ["train", "--seed", "-1"],
        ["denoise"],
        ["no-such-command"],
    ],
)
def test_help_and_argument_errors_import_no_torch(argv):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, env=env, timeout=120)
    heavy = [line for line in result.stdout.splitlines() if line.startswith("HEAVY")][-1]
    assert "torch" not in heavy and "SimpleITK" not in heavy, heavy
