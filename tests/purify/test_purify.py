import json

import numpy as np
import pytest
import SimpleITK as sitk

from ipv2.errors import Cancelled, InputError
from ipv2.progress import Monitor
from ipv2.purify import PurifyOptions, purify_volumes, write_purify_outputs
from ipv2.purify.cache import CACHE_FOLDER_NAME
from ipv2.purify.options import DEFAULT_MODE
from ipv2.testing import chest_like
from ipv2.volume import Volume
from tests.support.pair_masks import hand_masks


def pair(shape=(4, 64, 64)):
    lq = Volume(
        chest_like(shape, seed=1) + np.random.default_rng(2).normal(0, 60, shape).astype(np.float32),
        spacing=(0.7, 0.7, 2.5),
        origin=(-20.0, 10.0, 5.0),
    )
    gt = Volume(chest_like(shape, seed=3), spacing=(0.7, 0.7, 2.5), origin=(-25.0, 10.0, 5.0))
    return lq, gt


def masks_for(shape):
    """Lung where the conftest phantom has its lungs, background outside the body."""
    clean = chest_like(shape, seed=0)
    lung = (clean > -950) & (clean < -700)
    background = clean < -950
    airways = np.zeros(shape, bool)
    return type(hand_masks())(
        dark_lq=lung | background,
        dark_gt=lung | background,
        dark=lung | background,
        background=background,
        lung=lung,
        airways=airways,
    )


def test_full_ipv2_follows_the_method_voxel_by_voxel():
    lq, gt = pair()
    masks = masks_for(lq.shape)
    simulated = gt.array + np.float32(123.0)
    lq_before, gt_before = lq.array.copy(), gt.array.copy()
    result = purify_volumes(
        lq, gt, PurifyOptions(mode="ipv2", weak="tv", sigma_hu=60.0), masks=masks, simulated_gt=simulated
    )
    np.testing.assert_array_equal(result.train_input.array, np.where(masks.lung, simulated, lq.array))
    np.testing.assert_array_equal(result.train_target.array, gt.array)
    label = result.eval_label.array
    np.testing.assert_array_equal(label[~masks.lung], gt.array[~masks.lung])
    assert np.std(label[masks.lung] - chest_like(lq.shape, seed=1)[masks.lung]) < 0.6 * np.std(
        lq.array[masks.lung] - chest_like(lq.shape, seed=1)[masks.lung]
    )
    np.testing.assert_array_equal(lq.array, lq_before)
    np.testing.assert_array_equal(gt.array, gt_before)
    assert result.train_input.same_geometry(lq) and result.eval_label.origin == lq.origin


def test_ipv1_mode_ignores_the_ipv2_modules_and_labels_with_the_noisy_uldct():
    lq, gt = pair()
    masks = masks_for(lq.shape)
    result = purify_volumes(lq, gt, PurifyOptions(mode="ipv1", weak="bm3d"), masks=masks)
    np.testing.assert_array_equal(result.train_input.array, lq.array)
    np.testing.assert_array_equal(result.train_target.array, np.where(masks.dark, lq.array, gt.array))
    np.testing.assert_array_equal(result.eval_label.array, np.where(masks.dark, lq.array, gt.array))
    assert result.report["parameters"]["weak"] == "none"
    assert result.report["parameters"]["add_noise"] is False


def test_report_has_volumes_noise_parameters_version_and_timings():
    lq, gt = pair()
    masks = masks_for(lq.shape)
    result = purify_volumes(lq, gt, PurifyOptions(weak="nlm"), masks=masks, simulated_gt=gt.array)
    report = json.loads(json.dumps(result.report))
    voxel_ml = 0.7 * 0.7 * 2.5 / 1000
    assert report["volumes_ml"]["lung"] == pytest.approx(masks.lung.sum() * voxel_ml, rel=1e-3)
    assert report["volumes_ml"]["background"] == pytest.approx(masks.background.sum() * voxel_ml, rel=1e-3)
    assert set(report["volumes_ml"]) >= {"body", "background", "lung", "airways"}
    noise = report["noise"]
    assert noise["weak_sigma_source"] == "measured"
    assert noise["units"] == "HU"
    assert noise["weak_sigma"] == pytest.approx(60.0, rel=0.25)
    assert noise["label_lung_sigma"] < noise["lq_lung_sigma"]
    assert noise["gt_sigma"] < noise["lq_sigma"]
    assert report["parameters"]["dose"] == 0.02 and report["ipv2_version"]
    assert "remove noise" in report["timings_s"] and report["timings_s"]["total"] >= 0


@pytest.mark.parametrize(
    "bad, message",
    [
        (PurifyOptions(mode="ipv3"), "mode 'ipv3'"),
        (PurifyOptions(weak="median"), "weak denoiser"),
        (PurifyOptions(dose=0.0), "dose"),
        (PurifyOptions(sigma_hu=-1.0), "noise level"),
        (PurifyOptions(simulate_mode="fancy"), "simulate mode"),
        (PurifyOptions(seed=-1), "seed"),
    ],
)
def test_bad_options_are_refused_before_any_work(bad, message):
    lq, gt = pair()
    with pytest.raises(InputError, match=message):
        purify_volumes(lq, gt, bad, masks=masks_for(lq.shape), simulated_gt=gt.array)


def test_mismatched_pair_is_refused():
    lq, gt = pair()
    other = Volume(gt.array[:, :32], spacing=gt.spacing)
    with pytest.raises(InputError, match="differ in size"):
        purify_volumes(lq, other, masks=masks_for(lq.shape), simulated_gt=gt.array)


def test_resume_reuses_finished_stages_after_a_cancel(tmp_path):
    assert callable(pytest.importorskip("ipv2.masks", reason="region masks").compute_region_masks)
    lq, gt = pair()
    cache = tmp_path / CACHE_FOLDER_NAME
    options = PurifyOptions(add_noise=False, weak="tv")

    def cancel_when_denoising(stage, done, total):
        if stage.startswith("remove noise"):
            monitor.cancel()

    monitor = Monitor(cancel_when_denoising)
    with pytest.raises(Cancelled):
        purify_volumes(lq, gt, options, monitor, cache_dir=cache)
    assert any(p.name.startswith("masks-") for p in cache.iterdir())
    resumed = purify_volumes(lq, gt, options, cache_dir=cache, resume=True)
    assert resumed.report["cached_stages"] == ["masks"]
    fresh = purify_volumes(lq, gt, options)
    np.testing.assert_array_equal(resumed.eval_label.array, fresh.eval_label.array)
    np.testing.assert_array_equal(resumed.masks.labelmap(), fresh.masks.labelmap())
    changed = purify_volumes(lq, gt, PurifyOptions(add_noise=False, weak="nlm"), cache_dir=cache, resume=True)
    assert changed.report["cached_stages"] == ["masks"]
    again = purify_volumes(lq, gt, PurifyOptions(add_noise=False, weak="nlm"), cache_dir=cache, resume=True)
    assert again.report["cached_stages"] == ["masks", "remove noise"]


def test_outputs_are_written_with_the_uldct_geometry_and_never_over_earlier_ones(tmp_path):
    lq, gt = pair()
    masks = masks_for(lq.shape)
    result = purify_volumes(lq, gt, PurifyOptions(weak="none"), masks=masks, simulated_gt=gt.array)
    out = tmp_path / "out"
    write_purify_outputs(result, out)
    labels = sitk.ReadImage(str(out / "masks.nrrd"))
    assert labels.GetPixelID() == sitk.sitkUInt8
    np.testing.assert_array_equal(sitk.GetArrayFromImage(labels), masks.labelmap())
    image = sitk.ReadImage(str(out / "eval_label.nrrd"))
    assert image.GetOrigin() == pytest.approx(lq.origin) and image.GetSpacing() == pytest.approx(lq.spacing)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(image), result.eval_label.array)
    assert json.loads((out / "report.json").read_text())["mode"] == DEFAULT_MODE
    stamp = (out / "train_input.nrrd").stat().st_mtime_ns
    with pytest.raises(InputError, match="--overwrite"):
        write_purify_outputs(result, out)
    assert (out / "train_input.nrrd").stat().st_mtime_ns == stamp
    write_purify_outputs(result, out, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["masks.nrrd", "train_input.nrrd", "train_target.nrrd", "eval_label.nrrd", "report.json"]
    )
