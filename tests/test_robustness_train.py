"""`ipv2 train` under hostile or careless use: outputs over its own data, interrupts, divergence."""

import numpy as np
import pytest

from ipv2.cli.main import main
from ipv2.io import write_volume
from ipv2.testing import chest_like
from ipv2.volume import Volume

TINY_ARGS = ["--model-arg", "widths=[4,8]", "--steps", "2", "--patch", "24", "--batch", "2",
             "--device", "cpu", "--progress", "none"]


@pytest.fixture
def pair_dir(tmp_path):
    folder = tmp_path / "scan"
    clean = chest_like((4, 48, 48), seed=0)
    noisy = clean + np.random.default_rng(1).normal(0, 120, clean.shape).astype(np.float32)
    write_volume(Volume(noisy, spacing=(0.7, 0.7, 2.5)), folder / "train_input.nrrd")
    write_volume(Volume(clean, spacing=(0.7, 0.7, 2.5)), folder / "train_target.nrrd")
    return folder


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
@pytest.mark.parametrize("name", ["train_input.nrrd", "train_target.nrrd"])
def test_out_naming_a_volume_inside_the_data_folder_is_refused(pair_dir, name, overwrite, capsys):
    target = pair_dir / name
    before = target.read_bytes()
    assert main(["train", "--data", str(pair_dir), "--out", str(target)] + TINY_ARGS + overwrite) == 2
    err = capsys.readouterr().err
    assert "would replace the training data file" in err and "--out" in err
    assert target.read_bytes() == before
    assert not (pair_dir / f"{target.stem}.train-state.pt").exists()


def test_out_naming_half_of_a_file_pair_is_refused(pair_dir, capsys):
    inputs, target = pair_dir / "train_input.nrrd", pair_dir / "train_target.nrrd"
    before = target.read_bytes()
    code = main(["train", "--data", f"{inputs},{target}", "--out", str(target), "--overwrite"] + TINY_ARGS)
    assert code == 2
    assert "would replace the training data file" in capsys.readouterr().err
    assert target.read_bytes() == before


def test_out_reaching_the_data_through_a_link_or_the_validation_set_is_refused(pair_dir, tmp_path, capsys):
    link = tmp_path / "link.nrrd"
    link.symlink_to(pair_dir / "train_target.nrrd")
    hard = tmp_path / "hard.nrrd"
    hard.hardlink_to(pair_dir / "train_input.nrrd")
    elsewhere = tmp_path / "other"
    elsewhere.mkdir()
    for out in (link, hard):
        assert main(["train", "--data", str(pair_dir), "--out", str(out), "--overwrite"] + TINY_ARGS) == 2
    val_out = pair_dir / "train_input.nrrd"
    code = main(["train", "--data", f"{hard},{link}", "--val", str(pair_dir), "--out", str(val_out),
                 "--overwrite"] + TINY_ARGS)
    assert code == 2
    assert capsys.readouterr().err.count("would replace the training data file") == 3


def test_an_out_beside_the_data_is_accepted(pair_dir, capsys):
    assert main(["train", "--data", str(pair_dir), "--out", str(pair_dir / "model.safetensors")] + TINY_ARGS) == 0
    assert (pair_dir / "model.safetensors").is_file()
