"""bench_lesions draws lesions as spheres through a slab: its centre slice is the disc a
one-slice drawing gives, its neighbours the sphere's smaller sections."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
PIXEL_MM = 0.7


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_lesions", BENCHMARKS / "bench_lesions.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def test_a_sphere_through_the_slab_keeps_the_centre_disc_and_shrinks_away_from_it(bench):
    nodule = next(lesion for lesion in bench.LESIONS if lesion.name == "ggo_8mm")
    flat = bench.lesion_image((1, 40, 40), [(nodule, 0, 20, 20)], PIXEL_MM)
    slab = bench.lesion_image((5, 40, 40), [(nodule, 2, 20, 20)], PIXEL_MM, slice_mm=1.25, context=2)
    np.testing.assert_allclose(slab[2], flat[0], atol=1e-4)
    sums = slab.sum(axis=(1, 2))
    assert sums[0] == pytest.approx(sums[4]) and sums[1] == pytest.approx(sums[3])
    assert sums[2] > sums[1] > sums[0] > 0
    # 4 mm radius, 2.5 mm away: a section of radius sqrt(16 - 6.25) mm, area ratio 9.75 / 16.
    assert sums[0] / sums[2] == pytest.approx(9.75 / 16, rel=0.05)
    # A 3 mm nodule does not reach a slice 2.5 mm away.
    solid = next(lesion for lesion in bench.LESIONS if lesion.name == "solid_3mm")
    small = bench.lesion_image((5, 40, 40), [(solid, 2, 20, 20)], PIXEL_MM, slice_mm=1.25, context=2)
    assert small[0].sum() == 0 and small[1].sum() > 0


def test_sites_are_drawn_in_the_given_slices_only(bench):
    hu = np.full((6, 120, 120), 40.0, dtype=np.float32)  # soft tissue everywhere
    sites = bench.lesion_sites(hu, PIXEL_MM, np.random.default_rng(0), slices=np.array([1, 4]))
    assert sites and {z for _, z, _, _ in sites} <= {1, 4}
