"""The ablation's seeds: what `--seeds N` varies, and that no test phantom is ever trained on."""

import dataclasses
import importlib.util
import sys
from pathlib import Path

import pytest

from ipv2.errors import InputError

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_ablation.py"


@pytest.fixture(scope="module")
def ablation():
    spec = importlib.util.spec_from_file_location("bench_ablation", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up by name while the module runs.
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


@pytest.mark.parametrize("setting_name", ["QUICK", "FULL"])
def test_seed_zero_is_the_single_run_and_every_seed_changes_phantoms_and_training_together(ablation, setting_name):
    setting = getattr(ablation, setting_name)
    runs = ablation.replicates(setting, 5)
    assert runs[0].train_seeds == setting.train_seeds and runs[0].test_seed == setting.test_seed
    assert runs[0].training_seed == 0
    assert len({tuple(r.train_seeds) for r in runs}) == 5
    assert len({r.test_seed for r in runs}) == 5
    assert len({r.training_seed for r in runs}) == 5
    trained = {seed for r in runs for seed in r.train_seeds}
    assert not trained & {r.test_seed for r in runs}


def test_a_setting_whose_test_phantom_another_seed_trains_on_is_refused(ablation):
    colliding = dataclasses.replace(ablation.QUICK, train_seeds=[11 + ablation.SEED_STRIDE], test_seed=11)
    with pytest.raises(InputError, match="both trained on and tested"):
        ablation.replicates(colliding, 2)
    assert ablation.replicates(colliding, 1)[0].test_seed == 11


@pytest.mark.parametrize("count", [0, -1, True, 2.0])
def test_a_seed_count_that_is_not_a_positive_whole_number_is_refused(ablation, count):
    with pytest.raises(InputError, match="--seeds"):
        ablation.replicates(ablation.QUICK, count)


def test_the_command_line_refuses_bad_seeds_and_a_non_empty_work_folder_before_any_work(ablation, tmp_path, capsys):
    with pytest.raises(SystemExit):
        ablation.main(["--quick", "--seeds", "0"])
    assert "--seeds 0" in capsys.readouterr().err
    (tmp_path / "mine.txt").write_text("keep")
    with pytest.raises(SystemExit):
        ablation.main(["--quick", "--work", str(tmp_path)])
    assert "not empty" in capsys.readouterr().err
    assert (tmp_path / "mine.txt").read_text() == "keep"
