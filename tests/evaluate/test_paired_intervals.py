import math

import numpy as np
import pytest

from ipv2.errors import InputError
from ipv2.evaluate.paired_intervals import LOSES, TIES, WINS, mean_interval, paired_difference, verdict


def test_two_identical_strategy_results_tie():
    per_seed = [32.1, 35.4, 30.9, 33.8, 31.2]
    difference = paired_difference(per_seed, list(per_seed))
    assert difference.mean == 0.0 and difference.low == 0.0 and difference.high == 0.0
    assert verdict(difference) == TIES


def test_a_clear_difference_wins_for_the_lower_error_and_loses_for_the_other():
    # Seeds move both strategies by far more than the gap; pairing removes what they share.
    seed_effect = np.array([5.0, -7.0, 12.0, 0.5, -3.0])
    ipv2 = 40.0 + seed_effect
    better = ipv2 - 2.0 + np.array([0.1, -0.1, 0.05, 0.0, -0.05])
    assert verdict(paired_difference(better, ipv2)) == WINS
    assert verdict(paired_difference(ipv2, better)) == LOSES
    # Unpaired, the two means' intervals overlap: the seed spread hides the gap.
    ours, theirs = mean_interval(better), mean_interval(ipv2)
    assert ours.high > theirs.low


def test_a_difference_within_the_seed_noise_ties():
    difference = paired_difference([30.0, 31.0, 29.5, 30.4], [30.2, 30.5, 29.9, 30.1])
    assert difference.low < 0.0 < difference.high
    assert verdict(difference) == TIES


def test_higher_is_better_turns_the_verdict_around():
    difference = paired_difference([0.95, 0.96, 0.94], [0.90, 0.91, 0.90])
    assert verdict(difference, lower_is_better=False) == WINS
    assert verdict(difference, lower_is_better=True) == LOSES


def test_the_interval_is_students_t_of_the_mean():
    values = [1.0, 2.0, 3.0, 4.0, 5.0]
    interval = mean_interval(values)
    # t(0.975, 4) = 2.776445; standard deviation sqrt(2.5).
    half = 2.776445 * math.sqrt(2.5) / math.sqrt(5)
    assert interval.mean == pytest.approx(3.0)
    assert interval.low == pytest.approx(3.0 - half, rel=1e-6)
    assert interval.high == pytest.approx(3.0 + half, rel=1e-6)
    assert interval.count == 5


@pytest.mark.parametrize("count", [3, 5, 10])
def test_the_95_percent_interval_covers_the_true_mean_95_percent_of_the_time(count):
    rng = np.random.default_rng(count)
    trials, true_mean = 4000, 7.0
    covered = sum(
        interval.low <= true_mean <= interval.high
        for interval in (mean_interval(rng.normal(true_mean, 3.0, count)) for _ in range(trials))
    )
    # Binomial standard error at 4000 trials is 0.0034: 0.93-0.97 is beyond five of them.
    assert 0.93 <= covered / trials <= 0.97


def test_one_seed_gives_no_interval_and_never_a_win():
    difference = paired_difference([30.0], [40.0])
    assert difference.mean == -10.0 and math.isnan(difference.low) and math.isnan(difference.high)
    assert verdict(difference) == TIES


@pytest.mark.parametrize("ours, theirs", [([1.0, 2.0], [1.0]), ([], []), ([1.0, float("nan")], [1.0, 2.0])])
def test_unpaired_or_missing_values_are_refused(ours, theirs):
    with pytest.raises(InputError):
        paired_difference(ours, theirs)


def test_a_difference_within_the_negligible_band_ties_however_narrow_its_interval():
    # Two routes to the same network: every seed differs by the same 1e-9 HU.
    difference = paired_difference([30.0 + 1e-9, 31.0 + 1e-9, 29.0 + 1e-9], [30.0, 31.0, 29.0])
    assert verdict(difference) == LOSES
    assert verdict(difference, negligible=0.05) == TIES
    assert verdict(paired_difference([28.0, 29.1, 27.0], [30.0, 31.0, 29.0]), negligible=0.05) == WINS
