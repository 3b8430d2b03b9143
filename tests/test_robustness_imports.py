"""`ipv2 --help` and argument errors import no torch; the parser's copies of names match their sources."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import ipv2.contract as contract

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
    assert "torch" not in heavy, heavy


def test_the_parser_copies_of_names_match_their_sources():
    from ipv2 import weak
    from ipv2.denoise import strength
    from ipv2.denoise.classical import CLASSICAL_DENOISERS
    from ipv2.models import registry
    from ipv2.phantom.variants import ACQUISITION_VARIANTS
    from ipv2.purify import options
    from ipv2.services import demo
    from ipv2.simulate import MODES, kernels
    from ipv2.training.config import TrainConfig
    from ipv2.training.losses import LOSSES

    assert contract.NETWORKS == tuple(registry.MODEL_REGISTRY)
    assert contract.DEFAULT_MODEL == registry.DEFAULT_MODEL
    assert contract.LOSSES == tuple(LOSSES)
    assert contract.DEFAULT_TRAIN_STEPS == TrainConfig.DEFAULT_STEPS
    assert contract.CLASSICAL_DENOISERS == tuple(CLASSICAL_DENOISERS)
    assert contract.STRENGTHS == tuple(strength.STRENGTHS)
    assert contract.DEFAULT_STRENGTH == strength.DEFAULT_STRENGTH
    assert contract.STRENGTH_RANGE == tuple(strength.STRENGTH_RANGE)
    assert contract.SIMULATE_MODES == tuple(MODES)
    assert contract.KERNELS == tuple(kernels.KERNELS)
    assert contract.DEFAULT_KERNEL == kernels.DEFAULT_KERNEL
    assert contract.MODES == tuple(options.MODES)
    assert contract.DEFAULT_MODE == options.DEFAULT_MODE
    assert (contract.DEFAULT_STITCH_BLEND_PX, contract.MAX_STITCH_BLEND_PX) == (
        options.DEFAULT_STITCH_BLEND_PX,
        options.MAX_STITCH_BLEND_PX,
    )
    assert contract.SIMULATE_MODES == tuple(options.SIMULATE_MODES)
    assert contract.WEAK_DENOISERS == tuple(weak.WEAK_DENOISERS)
    assert contract.DEFAULT_WEAK_DENOISER == weak.DEFAULT_WEAK_DENOISER
    assert (contract.DEMO_SIZE, contract.DEMO_SLICES) == (demo.DEFAULT_SIZE, demo.DEFAULT_SLICES)
    assert contract.PHANTOM_VARIANTS == tuple(ACQUISITION_VARIANTS)
