"""IPv2m through `purify_volumes`, `ipv2 purify` on volumes and on PNG datasets, and the one report schema."""

import json

import numpy as np
import pytest
import SimpleITK as sitk

from ipv2.cli.main import main
from ipv2.errors import InputError
from ipv2.io import write_volume
from ipv2.io.png_dataset import read_png_slice, write_png_slice
from ipv2.purify import DEFAULT_MODE, PurifyOptions, purify_volumes
from ipv2.volume import Volume
from tests.support.pair_masks import shifted_pair

SPACING = (0.7, 0.7, 2.5)
SHAPE = (4, 64, 64)
SHIFT_PX = 4
ROWS = slice(28, 37)
# Columns in the middle of the two crescents the shift leaves (NDCT body 8..52, uLDCT 12..56),
# away from where the masks' smoothing could move the outline by a pixel.
BAND_COLUMNS = [9, 10, 54, 55]


def disc_scene():
    """NDCT: a body disc of radius 22 px centred at column 30 with two lungs, their wall thick
    enough for the masks to keep them inside; the uLDCT the same moved SHIFT_PX pixels right,
    with 30 HU of noise."""
    yy, xx = np.mgrid[0 : SHAPE[1], 0 : SHAPE[2]]

    def chest(cx):
        image = np.full(SHAPE[1:], -1000.0)
        image[(yy - 32) ** 2 + (xx - cx) ** 2 <= 22**2] = 40.0
        for side in (-8, 8):
            image[(yy - 32) ** 2 + (xx - cx - side) ** 2 <= 5**2] = -850.0
        return np.repeat(image[None], SHAPE[0], axis=0)

    rng = np.random.default_rng(1)
    gt = chest(30) + rng.normal(0, 5, SHAPE)
    lq = chest(30 + SHIFT_PX) + rng.normal(0, 30, SHAPE)
    return lq.astype(np.float32), gt.astype(np.float32)


def purify(*args):
    return main(["purify", *map(str, args), "--progress", "none"])


def test_default_mode_is_the_papers_ipv2_and_ipv2m_turns_every_rule_on():
    options = PurifyOptions().checked()
    assert DEFAULT_MODE == "ipv2" and options.mode == DEFAULT_MODE and options.motion_rules is None
    rules = PurifyOptions(mode="ipv2m").checked().motion_rules
    assert rules.agreed_background and rules.lung_field and rules.stitch_blend_px > 0


def test_paper_modes_record_the_motion_rules_off():
    for mode in ("ipv1", "ipv2"):
        options = PurifyOptions(mode=mode).checked()
        assert (options.agreed_background, options.lung_field, options.stitch_blend_px) == (False, False, 0)
        assert options.motion_rules is None
    rules = PurifyOptions(mode="IPv2m", lung_field=False, stitch_blend_px=2).checked().motion_rules
    assert (rules.agreed_background, rules.lung_field, rules.stitch_blend_px) == (True, False, 2)


@pytest.mark.parametrize("blend", [-1, 33, 1.5, True])
def test_bad_stitch_blend_is_refused(blend):
    with pytest.raises(InputError, match="stitch blend"):
        PurifyOptions(mode="ipv2m", stitch_blend_px=blend).checked()


def test_purify_volumes_in_ipv2m_follows_the_rules_voxel_by_voxel():
    lq_array, gt_array, masks, truth = shifted_pair()
    lq, gt = Volume(lq_array, spacing=SPACING), Volume(gt_array, spacing=SPACING)
    simulated = gt.array + np.float32(55.0)
    before = lq.array.copy(), gt.array.copy(), masks.lung.copy()
    options = PurifyOptions(mode="ipv2m", weak="none", stitch_blend_px=0)
    result = purify_volumes(lq, gt, options, masks=masks, simulated_gt=simulated)
    field, band = truth["lung_field"], truth["band"]
    np.testing.assert_array_equal(result.train_input.array, np.where(field, simulated, lq.array))
    np.testing.assert_array_equal(result.train_target.array, np.where(band, lq.array, gt.array))
    np.testing.assert_array_equal(result.eval_label.array, np.where(field | band, lq.array, gt.array))
    report = result.report
    assert report["mode"] == "ipv2m" and report["region"] == "lung field"
    assert report["masks"]["band_fraction"] == pytest.approx(band.mean(), abs=1e-6)
    assert report["masks"]["region_fraction"] == pytest.approx(field.mean(), abs=1e-6)
    for original, now in zip(before, (lq.array, gt.array, masks.lung)):
        np.testing.assert_array_equal(original, now)


def test_ipv2m_label_denoises_the_band_too():
    lq_array, gt_array, masks, truth = shifted_pair()
    lq, gt = Volume(lq_array, spacing=SPACING), Volume(gt_array, spacing=SPACING)
    result = purify_volumes(lq, gt, PurifyOptions(mode="ipv2m", add_noise=False, weak="tv", sigma_hu=30.0), masks=masks)
    band = truth["band"]
    label = result.eval_label.array
    np.testing.assert_array_equal(label[~(band | truth["lung_field"])], gt.array[~(band | truth["lung_field"])])
    assert not np.array_equal(label[band], lq.array[band])
    np.testing.assert_array_equal(result.train_target.array[band], label[band])


def write_volume_pair(folder):
    lq, gt = disc_scene()
    write_volume(Volume(lq, spacing=SPACING), folder / "uldct.nrrd")
    write_volume(Volume(gt, spacing=SPACING), folder / "ndct.nrrd")
    return lq, gt


def to_u8(hu):
    return np.clip((hu + 1200.0) / 1400.0 * 255.0, 0, 255).astype(np.uint8)


def write_png_pair(root):
    lq, gt = (to_u8(a[:3]) for a in disc_scene())
    for index in range(3):
        write_png_slice(lq[index], root / "lq" / f"s{index}.png")
        write_png_slice(gt[index], root / "gt" / f"s{index}.png")
    return lq, gt


@pytest.mark.parametrize("extra", [[], ["--no-agreed-background"]])
def test_cli_ipv2m_on_volumes_follows_the_uldct_in_the_band(tmp_path, extra):
    lq, gt = write_volume_pair(tmp_path)
    out = tmp_path / "out"
    assert (
        purify(
            "--lq",
            tmp_path / "uldct.nrrd",
            "--gt",
            tmp_path / "ndct.nrrd",
            "--out",
            out,
            "--mode",
            "ipv2m",
            "--weak",
            "none",
            "--device",
            "cpu",
            "--stitch-blend",
            "2",
            *extra,
        )
        == 0
    )
    target = sitk.GetArrayFromImage(sitk.ReadImage(str(out / "train_target.nrrd")))
    band = np.s_[:, ROWS, BAND_COLUMNS]
    expected = gt if extra else lq
    np.testing.assert_array_equal(target[band], expected[band])
    np.testing.assert_array_equal(target[:, :4, :4], gt[:, :4, :4])  # agreed background: the NDCT
    report = json.loads((out / "report.json").read_text())
    assert report["parameters"]["stitch_blend_px"] == 2
    assert report["parameters"]["agreed_background"] is not bool(extra)


@pytest.mark.parametrize("extra", [[], ["--no-add-noise"]])
def test_cli_ipv2m_on_a_png_dataset_follows_the_uldct_in_the_band(tmp_path, extra):
    lq, gt = write_png_pair(tmp_path / "data")
    out = tmp_path / "out"
    assert (
        purify(
            "--dataset", tmp_path / "data", "--out", out, "--mode", "ipv2m", "--weak", "none", "--device", "cpu", *extra
        )
        == 0
    )
    for index in range(3):
        target = read_png_slice(out / "gt_bar" / f"s{index}.png")
        np.testing.assert_array_equal(target[ROWS, BAND_COLUMNS], lq[index][ROWS, BAND_COLUMNS])
        np.testing.assert_array_equal(target[:4, :4], gt[index][:4, :4])
    report = json.loads((out / "report.json").read_text())
    assert report["mode"] == "ipv2m" and report["masks"]["band_fraction"] > 0


def test_volume_and_dataset_reports_share_one_schema(tmp_path):
    write_volume_pair(tmp_path)
    write_png_pair(tmp_path / "data")
    common = ["--mode", "ipv2m", "--weak", "tv", "--no-add-noise"]
    assert (
        purify("--lq", tmp_path / "uldct.nrrd", "--gt", tmp_path / "ndct.nrrd", "--out", tmp_path / "v", *common) == 0
    )
    assert purify("--dataset", tmp_path / "data", "--out", tmp_path / "d", *common) == 0
    volumes = json.loads((tmp_path / "v" / "report.json").read_text())
    dataset = json.loads((tmp_path / "d" / "report.json").read_text())
    assert set(volumes) == set(dataset)
    for key in ("noise", "masks", "parameters"):
        assert set(volumes[key]) == set(dataset[key])
    assert (volumes["source"], dataset["source"]) == ("volumes", "png dataset")
    assert (volumes["noise"]["units"], dataset["noise"]["units"]) == ("HU", "gray levels")
    for report in (volumes, dataset):
        assert {"masks", "remove noise", "total"} <= set(report["timings_s"])
        assert report["noise"]["weak_sigma_source"] == "measured" and report["noise"]["weak_sigma"] > 0
    assert volumes["volumes_ml"]["lung"] > 0 and dataset["volumes_ml"] is None
    assert volumes["slices"] == 4 and dataset["slices"] == 3
