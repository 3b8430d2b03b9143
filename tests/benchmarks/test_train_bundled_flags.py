"""benchmarks/train_bundled.py refuses a bad device before it makes any training pair."""

import importlib.util
import sys
from pathlib import Path

import pytest

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "train_bundled.py"


@pytest.fixture(scope="module")
def train_bundled():
    spec = importlib.util.spec_from_file_location("train_bundled", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def test_an_unknown_device_is_refused_before_any_pair_is_made(train_bundled, tmp_path, capsys):
    work = tmp_path / "work"
    with pytest.raises(SystemExit) as refused:
        train_bundled.main(["--realct", str(tmp_path), "--work", str(work), "--device", "gpu"])
    assert refused.value.code == 2 and "--device 'gpu' is unknown" in capsys.readouterr().err
    assert not work.exists()


def test_one_gpu_by_index_passes_the_device_check(train_bundled, tmp_path):
    # cuda:1 is a device name: the run goes on to the data, whose absence stops it.
    with pytest.raises(SystemExit, match="chest_ricord_1.nrrd is missing"):
        train_bundled.main(["--realct", str(tmp_path), "--work", str(tmp_path / "work"), "--device", "cuda:1"])
