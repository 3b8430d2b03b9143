"""The density benchmark's pieces: regions away from their borders and the interval."""

import numpy as np
import pytest

from tests.support.benchmarks import load_benchmark


@pytest.fixture(scope="module")
def bench():
    yield from load_benchmark("bench_density")


def test_regions_are_their_tissue_away_from_the_borders(bench):
    reference = np.full((1, 60, 90), 40.0, dtype=np.float32)  # soft tissue
    reference[0, :, :30] = -850.0  # lung
    reference[0, :, 60:] = -100.0  # fat
    masks = bench.region_masks(reference)
    columns = {name: np.flatnonzero(mask[0].any(axis=0)) for name, mask in masks.items()}
    assert columns["lung"].max() < 30 - bench.REGION_MARGIN_PX
    assert columns["soft_tissue"].min() >= 30 + bench.REGION_MARGIN_PX
    assert columns["soft_tissue"].max() < 60 - bench.REGION_MARGIN_PX
    assert columns["fat"].min() >= 60 + bench.REGION_MARGIN_PX
    assert not (masks["lung"] & masks["fat"]).any()


def test_the_interval_covers_the_mean_and_narrows_with_more_samples(bench):
    rng = np.random.default_rng(0)
    few = rng.normal(2.0, 1.0, 5)
    mean, (low, high) = bench.interval(few)
    assert low < mean < high and mean == pytest.approx(few.mean())
    _, (low_many, high_many) = bench.interval(rng.normal(2.0, 1.0, 200))
    assert high_many - low_many < high - low
    assert bench.interval([3.0]) == (3.0, [3.0, 3.0])
