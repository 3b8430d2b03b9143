"""`ipv2 --help` and argument errors import no torch; the parser's copies of names match their sources."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import ipv2.cli.choices as choices

REPO = Path(__file__).resolve().parents[1]

PROBE = """
import sys
from ipv2.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
heavy = sorted(name for name in ("torch", "scipy", "skimage", "matplotlib") if name in sys.modules)
print("HEAVY", ",".join(heavy))
"""


@pytest.mark.parametrize("argv", [["--help"], ["train", "--help"], ["denoise", "--help"], ["simulate", "--help"],
                                  ["models", "--help"], ["train", "--seed", "-1"], ["denoise"],
                                  ["no-such-command"]])
def test_help_and_argument_errors_import_no_torch(argv):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, env=env,
                            timeout=120)
    heavy = [line for line in result.stdout.splitlines() if line.startswith("HEAVY")][-1]
    assert "torch" not in heavy, heavy


def test_the_parser_copies_of_names_match_their_sources():
    from ipv2 import demo, weak
    from ipv2.purify import options
    from ipv2.classical import CLASSICAL_DENOISERS
    from ipv2.models import conditioning
    from ipv2.models import registry
    from ipv2.simulate import MODES
    from ipv2.simulate import kernels
    from ipv2.training.config import TrainConfig
    from ipv2.training.losses import LOSSES

    assert choices.MODEL_NAMES == tuple(registry.MODEL_REGISTRY)
    assert choices.DEFAULT_MODEL == registry.DEFAULT_MODEL
    assert choices.LOSSES == tuple(LOSSES)
    assert choices.DEFAULT_TRAIN_STEPS == TrainConfig.DEFAULT_STEPS
    assert choices.CLASSICAL_DENOISERS == tuple(CLASSICAL_DENOISERS)
    assert choices.STRENGTHS == tuple(conditioning.STRENGTHS)
    assert choices.DEFAULT_STRENGTH == conditioning.DEFAULT_STRENGTH
    assert choices.STRENGTH_RANGE == tuple(conditioning.STRENGTH_RANGE)
    assert choices.SIMULATE_MODES == tuple(MODES)
    assert choices.KERNELS == tuple(kernels.KERNELS)
    assert choices.DEFAULT_KERNEL == kernels.DEFAULT_KERNEL
    assert choices.PURIFY_MODES == tuple(options.MODES)
    assert choices.PURIFY_SIMULATE_MODES == tuple(options.SIMULATE_MODES)
    assert choices.WEAK_DENOISERS == tuple(weak.WEAK_DENOISERS)
    assert choices.DEFAULT_WEAK_DENOISER == weak.DEFAULT_WEAK_DENOISER
    assert (choices.DEMO_SIZE, choices.DEMO_SLICES) == (demo.DEFAULT_SIZE, demo.DEFAULT_SLICES)
