"""The phantom's acquisitions: kernel, pixel and field of view, slice thickness, cropped
display field of view, named variants, the stored deformation and the command line."""

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from scipy import ndimage

from ipv2.cli.main import main
from ipv2.errors import InputError
from ipv2.io import read_volume
from ipv2.phantom import (
    ACQUISITION_VARIANTS,
    LABEL_AIRWAY,
    LABEL_BODY,
    LABEL_LUNG,
    LABEL_VESSEL,
    TISSUES,
    Acquisition,
    PhantomOptions,
    acquisition_variant,
    generate_phantom_pair,
    phantom_variant,
    read_deformation,
)
from ipv2.phantom.deformation import MAX_INTERPOLATION_ERROR_MM, coarse_node_count, write_deformation
from ipv2.phantom.grid import REFERENCE_SCAN_MM, PhantomGrid
from ipv2.phantom.model import build_phantom_model
from ipv2.phantom.preview import acquisition_caption
from ipv2.phantom.render import render_state
from ipv2.phantom.thickness import _weighted_majority, render_states, slice_weights

LUNG_LABELS = (LABEL_LUNG, LABEL_VESSEL, LABEL_AIRWAY)


# The acquisition's geometry, worked by hand.


def test_two_of_size_pixel_and_fov_decide_the_third():
    assert Acquisition.resolve().size == 512 and Acquisition.resolve().pixel_mm == pytest.approx(0.7)
    assert Acquisition.resolve(fov_mm=256.0).pixel_mm == pytest.approx(0.5)  # the 512 matrix stays
    assert Acquisition.resolve(size=256).pixel_mm == pytest.approx(1.4)  # the 358.4-mm field stays
    assert Acquisition.resolve(pixel_mm=0.9).fov_mm == pytest.approx(460.8)
    assert Acquisition.resolve(pixel_mm=0.5, fov_mm=358.4).size == 717  # 716.8 rounded
    assert Acquisition.resolve(size=400, pixel_mm=0.8, fov_mm=320.3).size == 400  # within half a pixel
    with pytest.raises(InputError, match="fov_mm.*at most two"):
        Acquisition.resolve(size=512, pixel_mm=0.8, fov_mm=300.0)


def test_a_thick_slice_weighs_the_planes_it_covers():
    # Planes 1 mm apart, each standing for the 1 mm around it.
    np.testing.assert_allclose(slice_weights(np.array([0.0]), np.arange(-2.0, 3.0), 3.0), [[0, 1 / 3, 1 / 3, 1 / 3, 0]])
    np.testing.assert_allclose(slice_weights(np.array([0.0]), np.arange(-2.0, 3.0), 2.0), [[0, 0.25, 0.5, 0.25, 0]])
    np.testing.assert_allclose(slice_weights(np.array([0.0, 5.0]), np.arange(-2.0, 8.0), 5.0).sum(axis=1), [1, 1])
    assert Acquisition.resolve(slices=24, slice_mm=5.0, thickness_mm=5.0).plane_step_mm == pytest.approx(1.0)
    assert Acquisition.resolve(thickness_mm=6.0).plane_step_mm == pytest.approx(2.5 / 3)  # 2.5-mm spacing, 3 planes
    assert Acquisition.resolve(thickness_mm=0.5).plane_step_mm == pytest.approx(0.5)  # finer than a thin box
    assert Acquisition.resolve().planes_per_slice == 1 and Acquisition.resolve().noise_scale == 1.0
    assert Acquisition.resolve(thickness_mm=5.0).noise_scale == pytest.approx(np.sqrt(0.5))


def test_a_central_crop_keeps_the_matrix_parity():
    assert Acquisition.resolve(crop_fov_mm=250.0).crop_size == 358  # 357.1 pixels of 0.7 mm, made even
    assert Acquisition.resolve(size=129, crop_fov_mm=200.0).crop_size == 71  # 72.0 pixels of 2.78 mm, made odd
    grid = PhantomGrid.create(512, 4)
    rows, columns = grid.central_window(358)
    assert (rows.start, rows.stop) == (77, 435)
    assert grid.cropped(358).origin[0] == pytest.approx(grid.origin[0] + 77 * 0.7)


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"kernel": "ramp"}, "kernel"),
        ({"kernel": None}, "kernel"),
        ({"fov_mm": -300.0}, "fov_mm"),
        ({"fov_mm": 20.0}, "fov_mm"),
        ({"pixel_mm": float("nan")}, "pixel_mm"),
        ({"slice_mm": 0.0}, "slice_mm"),
        ({"thickness_mm": 12.0}, "thickness_mm"),
        ({"thickness_mm": "thick"}, "thickness_mm"),
        ({"crop_fov_mm": 400.0}, "crop_fov_mm"),
        ({"crop_fov_mm": 358.4}, "crop_fov_mm"),
        ({"crop_fov_mm": 60.0, "size": 64}, "crop_fov_mm"),
        ({"fov_mm": 900.0}, "fov_mm"),
    ],
)
def test_bad_acquisitions_are_refused_naming_the_parameter(kwargs, word):
    with pytest.raises(InputError, match=word):
        generate_phantom_pair(
            Acquisition.resolve(**dict({"size": 64, "slices": 4}, **kwargs)), PhantomOptions(noise=False)
        )


# Each acquisition changes what it should.


def _high_frequency_noise(pair) -> float:
    """Std of the noise's neighbour differences (a high-pass) inside the body."""
    body = ndimage.binary_erosion(pair.labels.array == LABEL_BODY, structure=np.ones((1, 5, 5), bool))
    noise = pair.uldct.array - pair.truth.array
    return float(np.diff(noise, axis=2)[body[:, :, 1:] & body[:, :, :-1]].std())


def test_a_sharper_kernel_has_more_high_frequency_noise_at_the_same_dose():
    options = PhantomOptions(seed=1, dose=0.05)
    smooth = generate_phantom_pair(Acquisition.resolve(128, 4, kernel="smooth"), options, device="cpu")
    sharp = generate_phantom_pair(Acquisition.resolve(128, 4, kernel="sharp"), options, device="cpu")
    assert smooth.parameters["kernel"] == "smooth" and sharp.parameters["kernel"] == "sharp"
    assert _high_frequency_noise(sharp) > 2.0 * _high_frequency_noise(smooth)
    # The same anatomy: the mean HU of the soft tissue stays (a kernel shapes, it does not shift).
    body = ndimage.binary_erosion(smooth.labels.array == LABEL_BODY, structure=np.ones((1, 7, 7), bool))
    assert abs(float(sharp.truth.array[body].mean() - smooth.truth.array[body].mean())) < 5.0


def test_a_thick_slice_is_the_mean_of_the_thin_slices_it_covers():
    """3-mm slices 3 mm apart are the means of the 1-mm slices of the same model."""
    acquisition = Acquisition.resolve(96, 4, slice_mm=3.0, thickness_mm=3.0)
    model = build_phantom_model(acquisition.grid(), seed=2, motion_mm=8.0)
    ndct_state, uldct_state = render_states(model, acquisition)
    thin = render_state(replace(model, grid=PhantomGrid.create(96, 12, slice_mm=1.0)), deformed=True)
    np.testing.assert_allclose(uldct_state.hu, thin.hu.reshape(4, 3, 96, 96).mean(axis=1), atol=0.05)
    centre = render_state(model, deformed=True)
    np.testing.assert_array_equal(uldct_state.displacement, centre.displacement)
    # Where the three thin slices agree on the tissue, so does the thick one.
    thin_tissue = thin.tissue.reshape(4, 3, 96, 96)
    agree = (thin_tissue[:, 0] == thin_tissue[:, 1]) & (thin_tissue[:, 1] == thin_tissue[:, 2])
    np.testing.assert_array_equal(uldct_state.tissue[agree], thin_tissue[:, 1][agree])


def test_the_tissue_of_a_thick_slice_is_the_one_with_most_weight():
    tissue = np.array([[1, 2, 3, 4], [2, 2, 5, 6], [3, 7, 5, 8]], dtype=np.uint8)[:, None, :]  # planes, y, x
    centre_first = np.array([1, 0, 2])
    weights = np.array([0.3, 0.4, 0.3])
    np.testing.assert_array_equal(_weighted_majority(tissue, centre_first, weights)[0], [2, 2, 5, 6])
    # Equal weights: 1 against 2 against 3 is a tie, which the centre plane (2) wins.
    np.testing.assert_array_equal(_weighted_majority(tissue, centre_first, np.ones(3) / 3)[0], [2, 2, 5, 6])


def test_thick_slices_blur_a_small_nodule_along_z():
    options = PhantomOptions(seed=4, motion_mm=0.0, noise=False)
    thin = generate_phantom_pair(Acquisition.resolve(128, 24, slice_mm=1.25), options)
    thick = generate_phantom_pair(Acquisition.resolve(128, 24, slice_mm=1.25, thickness_mm=10.0), options)
    grid = Acquisition.resolve(128, 24, slice_mm=1.25).grid()
    nodules = build_phantom_model(grid, seed=4, motion_mm=0.0).nodules
    solid = np.flatnonzero(~nodules.ground_glass)
    smallest = solid[np.argmin(nodules.radii[solid])]
    assert nodules.radii[smallest] < 4.0, "the check needs a nodule much thinner than the slice"
    x, y, z = np.rint(grid.index_of(nodules.centres[smallest])).astype(int)
    # Solid at its centre in the thin slice (2.8-mm pixels blur it in-plane a little); a
    # 10-mm box over a nodule 6-8 mm across keeps well under its share of solid tissue.
    assert thin.anatomy.array[z, y, x] > -200
    assert thick.anatomy.array[z, y, x] < thin.anatomy.array[z, y, x] - 200
    assert thick.parameters["thickness_mm"] == 10.0 and thick.parameters["slice_profile"].startswith("box 10 mm")


def test_thicker_slices_carry_less_noise():
    options = PhantomOptions(seed=3, dose=0.05, electronic_noise=False)
    centre = generate_phantom_pair(Acquisition.resolve(128, 4), options, device="cpu")
    thick = generate_phantom_pair(Acquisition.resolve(128, 4, thickness_mm=5.0), options, device="cpu")
    ids = [TISSUES["myocardium"].id, TISSUES["liver"].id]

    def noise(pair):
        soft = ndimage.binary_erosion(np.isin(pair.tissues.array, ids), structure=np.ones((1, 5, 5), bool))
        return float((pair.uldct.array - pair.truth.array)[soft].std())

    assert noise(thick) / noise(centre) == pytest.approx(np.sqrt(2.5 / 5.0), rel=0.12)


@pytest.fixture(scope="module")
def full_and_cropped():
    options = PhantomOptions(seed=5, dose=0.05)
    return (
        generate_phantom_pair(Acquisition.resolve(128, 4), options, device="cpu"),
        generate_phantom_pair(Acquisition.resolve(128, 4, crop_fov_mm=220.0), options, device="cpu"),
    )


def test_the_cropped_reconstruction_is_the_centre_of_the_full_one(full_and_cropped):
    full, cropped = full_and_cropped
    kept = cropped.parameters["matrix"][1]
    assert kept == 78 and cropped.uldct.shape == (4, 78, 78)  # 78.6 pixels of 2.8 mm, made even
    window = (slice(None), slice(25, 103), slice(25, 103))
    for name in ("ndct", "uldct", "truth", "labels", "deformation", "anatomy"):
        np.testing.assert_array_equal(getattr(cropped, name).array, getattr(full, name).array[window])
        assert getattr(cropped, name).spacing == full.truth.spacing
    np.testing.assert_allclose(cropped.truth.origin[:2], np.array(full.truth.origin[:2]) + 25 * full.truth.spacing[0])
    assert cropped.parameters["crop_fov_mm"] == pytest.approx(78 * 2.8)
    assert cropped.parameters["fov_mm"] == pytest.approx(358.4) and cropped.parameters["size"] == 128


def test_the_cropped_lungs_touch_the_image_border(full_and_cropped):
    full, cropped = full_and_cropped
    lungs = np.isin(cropped.labels.array, LUNG_LABELS)
    assert lungs[:, :, 0].any() and lungs[:, :, -1].any()  # both sides, right and left
    assert not np.isin(full.labels.array, LUNG_LABELS)[:, :, [0, -1]].any()


# The named variants.


def test_every_variant_is_a_valid_acquisition_of_the_same_slab():
    assert {
        "default",
        "smooth",
        "sharp",
        "thin-1mm",
        "thick-5mm",
        "pixel-0.9mm",
        "pixel-0.5mm",
        "fov-padding",
        "cropped",
        "dose-10pct",
    } <= set(ACQUISITION_VARIANTS)
    for name in ACQUISITION_VARIANTS:
        acquisition, _ = phantom_variant(name)
        assert acquisition.slices * acquisition.slice_mm == pytest.approx(REFERENCE_SCAN_MM), name
    assert phantom_variant("pixel-0.5mm")[0].pixel_mm == 0.5
    assert phantom_variant("thick-5mm")[0].thickness_mm == 5.0
    assert phantom_variant("cropped")[0].crop_size is not None
    assert acquisition_variant("dose-10pct") == {"dose": 0.1}
    with pytest.raises(InputError, match="thick-6mm"):
        acquisition_variant("thick-6mm")


# The deformation on disk.


def test_node_counts_along_an_axis():
    assert coarse_node_count(512, 0.7, 3.0) == 121  # ceil(357.7 / 3) + 1
    assert coarse_node_count(48, 2.5, 3.0) == 41  # ceil(117.5 / 3) + 1
    assert coarse_node_count(64, 5.6, 3.0) == 64  # never denser than the scan
    assert coarse_node_count(2, 30.0, 3.0) == 2


@pytest.fixture(scope="module")
def default_field():
    """The default pair's deformation: 512 x 512 pixels of 0.7 mm, 2.5-mm slices."""
    return generate_phantom_pair(
        Acquisition.resolve(512, 8, slice_mm=2.5), PhantomOptions(seed=0, noise=False)
    ).deformation


def test_the_stored_deformation_reproduces_the_full_field(default_field, tmp_path):
    path = tmp_path / "deformation.nrrd"
    stored = write_deformation(default_field, path)
    assert stored.shape == (7, 121, 121, 3)  # ceil(17.5 / 3) + 1 nodes along z
    back = read_deformation(path, default_field)
    assert back.same_geometry(default_field)
    error = np.linalg.norm(back.array - default_field.array, axis=-1)
    assert error.max() < MAX_INTERPOLATION_ERROR_MM
    assert np.linalg.norm(default_field.array, axis=-1).max() > 5.0  # the field is not trivially small
    full_bytes = default_field.array.astype(np.float32).nbytes
    assert path.stat().st_size < full_bytes / 15


def test_itk_reads_the_stored_field_as_a_displacement_transform(default_field, tmp_path):
    path = tmp_path / "deformation.nrrd"
    write_deformation(default_field, path)
    transform = sitk.DisplacementFieldTransform(sitk.Cast(sitk.ReadImage(str(path)), sitk.sitkVectorFloat64))
    rng = np.random.default_rng(0)
    origin, spacing = np.array(default_field.origin), np.array(default_field.spacing)
    for _ in range(200):
        z, y, x = (int(rng.integers(0, n)) for n in default_field.shape[:3])
        point = origin + spacing * (x, y, z)
        moved = np.array(transform.TransformPoint(tuple(float(c) for c in point)))
        assert np.linalg.norm(moved - (point + default_field.array[z, y, x])) < MAX_INTERPOLATION_ERROR_MM


# The command line and the preview.


def test_cli_records_the_acquisition_and_writes_the_cropped_volumes(tmp_path):
    out = tmp_path / "phantom"
    code = main(
        [
            "phantom",
            "--out",
            str(out),
            "--size",
            "96",
            "--pixel-mm",
            "3.0",
            "--slices",
            "4",
            "--slice-mm",
            "2.0",
            "--thickness-mm",
            "3.0",
            "--kernel",
            "sharp",
            "--crop-fov-mm",
            "200",
            "--dose",
            "0.1",
            "--progress",
            "none",
            "--device",
            "cpu",
        ]
    )
    assert code == 0
    record = json.loads((out / "phantom.json").read_text())
    assert record["kernel"] == "sharp" and record["dose"] == 0.1
    assert record["size"] == 96 and record["fov_mm"] == pytest.approx(288.0) and record["pixel_mm"] == 3.0
    assert record["slice_mm"] == 2.0 and record["thickness_mm"] == 3.0 and record["matrix"] == [4, 66, 66]
    assert record["crop_fov_mm"] == pytest.approx(198.0)  # 66 pixels of 3 mm
    truth = read_volume(out / "truth.nrrd")
    assert truth.shape == (4, 66, 66) and truth.spacing == pytest.approx((3.0, 3.0, 2.0))
    field = sitk.ReadImage(str(out / "deformation.nrrd"))
    assert list(field.GetSize()) == record["deformation_grid"]["size"]
    assert read_deformation(out / "deformation.nrrd", truth).shape == (4, 66, 66, 3)


@pytest.mark.parametrize(
    "options, flag",
    [
        (["--crop-fov-mm", "400"], "--crop-fov-mm"),
        (["--thickness-mm", "-1"], "--thickness-mm"),
        (["--size", "512", "--pixel-mm", "0.5", "--fov-mm", "300"], "--fov-mm"),
        (["--slice-mm", "0"], "--slice-mm"),
        (["--pixel-mm", "50"], "--pixel-mm"),
    ],
)
def test_cli_refuses_bad_acquisitions_naming_the_flag(tmp_path, capsys, options, flag):
    code = main(["phantom", "--out", str(tmp_path / "x"), "--slices", "4", "--progress", "none"] + options)
    assert code == 2
    assert f"{flag}:" in capsys.readouterr().err
    assert not (tmp_path / "x" / "ndct.nrrd").exists()


def test_cli_help_imports_no_torch():
    probe = (
        "import sys\nfrom ipv2.cli.main import main\ntry:\n    main(['phantom', '--help'])\n"
        "except SystemExit:\n    pass\nprint('torch' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_cli_refuses_an_unknown_kernel(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["phantom", "--out", str(tmp_path / "x"), "--kernel", "ramp"])
    assert stop.value.code == 2 and "--kernel" in capsys.readouterr().err


def test_the_preview_caption_names_the_acquisition():
    parameters = Acquisition.resolve(
        pixel_mm=0.9, slices=24, slice_mm=5.0, thickness_mm=5.0, kernel="lung", crop_fov_mm=250.0
    ).record()
    parameters.update(dose=0.1, fov_padding=False)
    caption = acquisition_caption(parameters)
    for part in (
        "kernel lung",
        "uLDCT 10% dose",
        "512 x 512 of 0.90 mm, FOV 461 mm",
        "cropped to 250 mm (278 x 278)",
        "24 slices 5 mm apart, 5 mm thick",
    ):
        assert part in caption
    assert "centre plane" in acquisition_caption(dict(Acquisition.resolve().record(), dose=0.02))
