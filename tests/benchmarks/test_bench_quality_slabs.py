"""bench_quality's slabs: each picked slice between its own neighbours."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_quality", BENCHMARKS / "bench_quality.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def test_slabs_hold_each_picked_slice_between_its_neighbours(bench):
    indices = bench.slab_indices(np.array([0, 5, 9]), 1, 10)
    np.testing.assert_array_equal(indices, [0, 0, 1, 4, 5, 6, 8, 9, 9])
    np.testing.assert_array_equal(indices[1::3], [0, 5, 9])  # the centres, every third from the first
    np.testing.assert_array_equal(bench.slab_indices(np.array([2, 7]), 0, 10), [2, 7])


def test_the_context_is_the_widest_any_model_reads(bench):
    assert bench.context_of(["bm3d", "nlm"]) == 0
