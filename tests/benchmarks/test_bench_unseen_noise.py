"""The unseen-noise benchmark's cases and regions."""

import numpy as np
import pytest

from ipv2.testing import chest_like
from tests.support.benchmarks import load_benchmark


@pytest.fixture(scope="module")
def bench():
    yield from load_benchmark("bench_unseen_noise")


def _grain(noise):
    return float(np.corrcoef(noise[:, :, :-1].ravel(), noise[:, :, 1:].ravel())[0, 1])


def test_cases_give_noise_of_their_level_and_grain(bench):
    block = np.full((3, 96, 96), 40.0, dtype=np.float32)
    block[:, :, :10] = -1000.0
    white = bench.noisy_case("white_60", block, 0.7, seed=1) - block
    assert white[:, :, 20:].std() == pytest.approx(60.0, rel=0.05)
    assert abs(_grain(white[:, :, 20:])) < 0.05
    np.testing.assert_array_equal(bench.noisy_case("white_60", block, 0.7, seed=1), white + block)
    blotchy = bench.noisy_case("blotchy_10pct", block, 0.7, seed=1) - block
    assert _grain(blotchy[:, 8:-8, 20:-8]) > 0.8
    with pytest.raises(ValueError, match="unknown case"):
        bench.noisy_case("pink_10", block, 0.7, seed=1)


def test_the_lung_hull_holds_the_lung_and_its_vessels_not_the_air_around_the_body(bench):
    reference = chest_like((2, 96, 96), seed=3)
    hull = bench.lung_hull(reference)
    assert hull.any()
    assert not hull[:, 0].any() and not hull[:, :, 0].any()  # the air at the image's edge
    assert np.mean(reference[hull] < -600) > 0.7
