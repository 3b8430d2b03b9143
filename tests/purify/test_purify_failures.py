"""`ipv2 purify` after a failure or cancel says what it kept (the resume cache, by path and
size) and leaves nothing else; a pair given the wrong way round is warned about."""

import numpy as np
import pytest

import ipv2.purify.pipeline as pipeline
from ipv2.errors import Cancelled, InputError
from ipv2.purify import purify_png_dataset
from ipv2.purify.cache import CACHE_FOLDER_NAME
from ipv2.purify.options import PurifyOptions
from ipv2.testing import chest_like
from tests.support.purify_inputs import purify, write_pair, write_png_dataset

FAST = ["--no-add-noise", "--weak", "none", "--device", "cpu"]


def _stop_after_the_masks(monkeypatch, error):
    def stopped(*args, **kwargs):
        raise error

    monkeypatch.setattr(pipeline, "purify_arrays", stopped)


@pytest.mark.parametrize(
    "error,code,what",
    [
        (Cancelled("cancelled by the user"), 130, "cancelled"),
        (KeyboardInterrupt(), 130, "cancelled"),
        (InputError("the weak denoiser failed"), 2, "error: the weak denoiser failed"),
    ],
)
def test_a_stopped_run_reports_the_cache_it_kept_and_a_resumed_run_removes_it(
    tmp_path, monkeypatch, capsys, error, code, what
):
    lq, gt = write_pair(tmp_path)
    out = tmp_path / "out"
    _stop_after_the_masks(monkeypatch, error)
    assert purify("--lq", lq, "--gt", gt, "--out", out, *FAST) == code
    err = capsys.readouterr().err
    cache = out / CACHE_FOLDER_NAME
    size = sum(path.stat().st_size for path in cache.iterdir())
    assert size > 0
    assert err.strip() == (
        f"ipv2 purify: {what}; resume cache kept at {cache} ({size / 1e6:.1f} MB); rerun with --resume or delete it"
    )
    assert "nothing was written" not in err
    assert sorted(path.name for path in out.iterdir()) == [CACHE_FOLDER_NAME]  # no lock, no partial output

    monkeypatch.undo()
    assert purify("--lq", lq, "--gt", gt, "--out", out, "--resume", *FAST) == 0
    assert not cache.exists()


def test_a_run_stopped_before_any_stage_finished_leaves_nothing(tmp_path, monkeypatch, capsys):
    import ipv2.masks

    lq, gt = write_pair(tmp_path)
    out = tmp_path / "out"

    def cancelled(*args, **kwargs):
        raise Cancelled("cancelled by the user")

    monkeypatch.setattr(ipv2.masks, "compute_region_masks", cancelled)
    assert purify("--lq", lq, "--gt", gt, "--out", out, *FAST) == 130
    assert "nothing was written" in capsys.readouterr().err
    assert not out.exists()


def test_a_swapped_pair_is_warned_about_in_one_line(tmp_path, capsys):
    clean = chest_like((4, 64, 64), seed=3)
    rng = np.random.default_rng(7)
    quiet = clean + rng.normal(0, 5, clean.shape).astype(np.float32)
    noisy = clean + rng.normal(0, 60, clean.shape).astype(np.float32)
    lq, gt = write_pair(tmp_path, lq_array=quiet, gt_array=noisy)
    assert purify("--lq", lq, "--gt", gt, "--out", tmp_path / "swapped", *FAST) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "are the two scans swapped?" in warnings[0]
    lq, gt = write_pair(tmp_path, lq_array=noisy, gt_array=quiet)
    assert purify("--lq", lq, "--gt", gt, "--out", tmp_path / "right", *FAST, "--overwrite") == 0
    assert "warning" not in capsys.readouterr().err


def test_a_failed_dataset_run_leaves_no_output_folder(tmp_path):
    write_png_dataset(tmp_path / "data")
    for side in ("lq", "gt"):
        (tmp_path / "data" / side / "b.png").write_bytes(b"\x89PNG damaged")
    out = tmp_path / "new" / "out"
    with pytest.raises(InputError) as refused:
        purify_png_dataset(tmp_path / "data", out, PurifyOptions(add_noise=False, weak="none"))
    assert "b.png: cannot be read as PNG" in str(refused.value)
    assert ".cxx" not in str(refused.value)  # no path of the ITK build
    assert not (tmp_path / "new").exists()
