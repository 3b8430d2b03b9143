"""The chest detectability study's pieces, on synthetic images: ROIs centred on the lesion,
present and absent paired by realisation, the observer's d' against its analytic value,
verdicts, the crop denoiser against `denoise_volume`, the site placement and the dose."""

import numpy as np
import pytest

from ipv2.denoise.inference import denoise_volume, resolve_model
from ipv2.errors import InputError
from ipv2.evaluate.observer import bootstrap_weights, channels_for, detectability
from ipv2.phantom.low_contrast import roi_side_px
from ipv2.simulate import LowDoseSettings, simulate_low_dose
from ipv2.testing import chest_like
from ipv2.volume import Volume
from ipv2.weak.noise_level import slice_noise_levels
from tests.support.benchmarks import load_benchmark

PIXEL_MM = 0.7
SIDE = 80


@pytest.fixture(scope="module")
def study():
    yield from load_benchmark("bench_chest_detectability")


def _anatomy(seed=3):
    """A fixed, structured background: the same in both classes, so the observer must not see it."""
    rng = np.random.default_rng(seed)
    rows, columns = np.mgrid[:SIDE, :SIDE]
    return (40.0 + 2.0 * rows - 1.5 * columns + 30.0 * rng.standard_normal((SIDE, SIDE))).astype(np.float32)


def _lesion(study, name, centre):
    return study.lesion_image((1, SIDE, SIDE), [(study.LESION_BY_NAME[name], 0, *centre)], PIXEL_MM)[0]


def _classes(lesion, sigma, count, seed, scale=1.0):
    """Present (anatomy + lesion + noise) and absent (anatomy + other noise) images."""
    rng = np.random.default_rng(seed)
    anatomy = _anatomy()
    present = anatomy + lesion + scale * sigma * rng.standard_normal((count, SIDE, SIDE), dtype=np.float32)
    absent = anatomy + scale * sigma * rng.standard_normal((count, SIDE, SIDE), dtype=np.float32)
    return present, absent


def test_the_roi_is_centred_on_the_lesion_drawn_at_the_same_point(study):
    centre = (27, 30)
    lesion = _lesion(study, "soft_10mm", centre)
    side = roi_side_px(10.0, PIXEL_MM)
    roi = study.centred_rois(lesion[None], centre, side)[0]
    assert roi.sum() == pytest.approx(lesion.sum(), rel=1e-3)  # all of it inside
    for mirrored in (roi[::-1], roi[:, ::-1], roi.T):
        np.testing.assert_allclose(mirrored, roi, atol=1e-4)
    with pytest.raises(InputError, match="does not fit"):
        study.centred_rois(lesion[None], (10, 30), side)


def test_d_prime_at_a_known_disc_in_white_noise_matches_its_analytic_value(study):
    centre = (30, 24)
    lesion = _lesion(study, "soft_10mm", centre)  # +10 HU over 10 mm, blurred
    diameter_px = 10.0 / PIXEL_MM
    sigma = 60.0
    side = roi_side_px(diameter_px, 1.0)
    channels = channels_for("laguerre_gauss", side, diameter_px)
    # White noise of variance sigma^2: d'^2 = (U s)^T (sigma^2 U U^T)^-1 (U s).
    response = channels @ study.centred_rois(lesion[None], centre, side)[0].ravel()
    truth = float(np.sqrt(response @ np.linalg.solve(channels @ channels.T, response)) / sigma)
    assert 1.0 < truth < 3.0
    present, absent = _classes(lesion, sigma, 1500, seed=7)
    data = study.paired_observer_data(present, absent, centre, diameter_px, "laguerre_gauss")
    assert data.realisations == 1500
    assert data.present.counts.tolist() == data.absent.counts.tolist() == [1.0] * 1500
    result = detectability(data, bootstrap_weights(1500, 300, seed=1))
    assert result["d_prime"] == pytest.approx(truth, abs=0.12)
    assert result["d_prime_ci"][0] < truth < result["d_prime_ci"][1]
    # Read a lesion width away from the lesion, the same images hold no signal.
    away = study.paired_observer_data(present, absent, (30, 56), diameter_px, "laguerre_gauss")
    assert abs(detectability(away, bootstrap_weights(1500, 300, seed=1))["d_prime"]) < 0.5


def test_absent_images_from_another_anatomy_would_be_detected_without_a_lesion(study):
    # Why the absent class is the same anatomy: a different background alone separates the classes.
    rng = np.random.default_rng(2)
    present = _anatomy(seed=3) + 15.0 * rng.standard_normal((200, SIDE, SIDE), dtype=np.float32)
    absent = _anatomy(seed=4) + 15.0 * rng.standard_normal((200, SIDE, SIDE), dtype=np.float32)
    data = study.paired_observer_data(present, absent, (27, 30), 6.0 / PIXEL_MM, "laguerre_gauss")
    assert detectability(data, bootstrap_weights(200, 200, seed=0))["d_prime"] > 3.0
    with pytest.raises(InputError, match="pair one to one"):
        study.paired_observer_data(present, absent[:-1], (27, 30), 6.0 / PIXEL_MM, "laguerre_gauss")


def test_score_study_pairs_methods_with_the_input_and_gives_verdicts(study):
    centre = (27, 30)
    lesion = _lesion(study, "soft_6mm_hypo", centre)
    count = 300
    rng = np.random.default_rng(5)
    anatomy = _anatomy()
    noise_present = 40.0 * rng.standard_normal((count, SIDE, SIDE), dtype=np.float32)
    noise_absent = 40.0 * rng.standard_normal((count, SIDE, SIDE), dtype=np.float32)

    def images(scale):
        return anatomy + lesion + scale * noise_present, anatomy + scale * noise_absent

    figures = study.score_study(
        {"input": images(1.0), "same": images(1.0), "quieter": images(0.5), "noisier": images(2.0)},
        centre,
        6.0 / PIXEL_MM,
        bootstrap_weights(count, 300, seed=3),
    )
    assert "vs_input" not in figures["input"]["laguerre_gauss"]
    for channel_set in ("laguerre_gauss", "dense_dog"):
        same = figures["same"][channel_set]["vs_input"]
        assert same["difference"] == 0.0 and same["verdict"] == "tie"
        quieter = figures["quieter"][channel_set]["vs_input"]
        # Half the noise on the same realisations doubles d'.
        assert quieter["difference"] == pytest.approx(figures["input"][channel_set]["d_prime"], rel=0.1)
        assert quieter["verdict"] == "better"
        assert figures["noisier"][channel_set]["vs_input"]["verdict"] == "worse"


def test_denoise_crops_gives_what_denoise_volume_gives_for_every_strength(study):
    volume = Volume(
        chest_like((3, 64, 64), seed=1)
        + np.float32(60.0) * np.random.default_rng(0).standard_normal((3, 64, 64)).astype(np.float32),
        spacing=(PIXEL_MM, PIXEL_MM, 1.25),
    )
    levels = slice_noise_levels(volume.array)
    strengths = ["low", "high", "7"]
    # Each slice inside the slab the bundled model reads, ends repeated as denoise_volume does.
    context = resolve_model("unet").context_slices
    slabs = volume.array[np.clip(np.arange(3)[:, None] + np.arange(-context, context + 1)[None, :], 0, 2)]
    crops = study.denoise_crops(slabs, levels, "unet", strengths, PIXEL_MM)
    for strength in strengths:
        expected = denoise_volume(volume, "unet", device="cpu", strength=strength).array
        np.testing.assert_allclose(crops[strength], expected, atol=1e-3)
    with pytest.raises(InputError, match="noise levels"):
        study.denoise_crops(slabs, levels[:2], "unet", strengths, PIXEL_MM)
    with pytest.raises(InputError, match="context slices"):
        study.denoise_crops(np.concatenate([slabs, slabs[:, :1]], axis=1), levels, "unet", strengths, PIXEL_MM)


def test_a_site_lands_in_its_tissue_nearest_the_point_with_its_crop_on_the_stride_grid(study):
    hu = np.full((1, 200, 200), -1000.0, dtype=np.float32)
    hu[0, 60:190, 90:190] = 40.0  # soft tissue, away from the asked point
    site = study.ChestSite("block", "soft", 0, (100, 90), ("soft_10mm",))
    placed = study.place_site(hu, site, PIXEL_MM, crop=64)
    # The 10 mm lesion's depth (15 px) plus the 1.5 px smoothing keep it off the edge.
    assert placed.row == 100 and 105 <= placed.column <= 110
    assert placed.crop_row % study.CROP_STRIDE_PX == 0 and placed.crop_column % study.CROP_STRIDE_PX == 0
    row, column = placed.in_crop
    assert abs(row - 32) <= study.CROP_STRIDE_PX // 2 and abs(column - 32) <= study.CROP_STRIDE_PX // 2
    assert placed.cropped(hu).shape == (1, 64, 64)
    with pytest.raises(InputError, match="site far: no soft tissue"):
        study.place_site(hu, study.ChestSite("far", "soft", 0, (20, 20), ("soft_10mm",)), PIXEL_MM, crop=64)


def test_the_inserted_noise_is_that_of_a_scan_at_the_dose(study):
    rows, columns = np.mgrid[:64, :64]
    water = np.where(np.hypot(rows - 31.5, columns - 31.5) < 26, 0.0, -1000.0).astype(np.float32)
    stack = np.repeat(water[None], 24, axis=0)
    dose = 0.1
    common = dict(mode="physical", pixel_spacing_mm=PIXEL_MM, electronic_noise=False, kernel="standard")
    inserted = simulate_low_dose(
        stack, LowDoseSettings(dose=study.simulated_dose(dose), input_dose=1.0, seed=1, **common), device="cpu"
    )
    scan = simulate_low_dose(stack, LowDoseSettings(dose=dose, seed=2, **common), device="cpu")
    clean = simulate_low_dose(stack, LowDoseSettings(dose=dose, noise_free=True, **common), device="cpu")
    inside = np.hypot(rows - 31.5, columns - 31.5) < 18
    added = (inserted - stack)[:, inside].std()
    own = (scan - clean)[:, inside].std()
    assert added == pytest.approx(own, rel=0.05)
    assert study.simulated_dose(1.0) == 0.5


def test_the_command_line_refuses_bad_inputs_before_any_work(study, tmp_path, capsys):
    with pytest.raises(SystemExit):
        study.main(["--realct", str(tmp_path)])
    assert "chest_ricord_2.nrrd is missing" in capsys.readouterr().err
    (tmp_path / "chest_ricord_2.nrrd").write_bytes(b"")
    for flags, message in (
        (["--realisations", "10"], "--realisations 10"),
        (["--doses", "0"], "--doses 0"),
        (["--methods", "unet@loud"], "--methods unet@loud"),
        (["--methods", "input"], "the input is always scored"),
        (["--bootstraps", "10"], "--bootstraps 10"),
    ):
        with pytest.raises(SystemExit):
            study.main(["--realct", str(tmp_path), *flags])
        assert message in capsys.readouterr().err
