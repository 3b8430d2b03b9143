"""The chest phantom: anatomy, breathing states, determinism and input checks (noise-free)."""

import numpy as np
import pytest
from scipy import ndimage

from ipv2.errors import Cancelled, InputError
from ipv2.phantom import (
    LABEL_AIRWAY,
    LABEL_BACKGROUND,
    LABEL_BODY,
    LABEL_LUNG,
    LABEL_NAMES,
    LABEL_NODULE,
    LABEL_VESSEL,
    TISSUES,
    Acquisition,
    PhantomOptions,
    generate_phantom_pair,
)
from ipv2.phantom.grid import PhantomGrid
from ipv2.phantom.model import build_phantom_model
from ipv2.phantom.variants import split_settings
from ipv2.progress import Monitor


@pytest.fixture(scope="module")
def clean_pair():
    return generate_phantom_pair(Acquisition.resolve(128, 8), PhantomOptions(seed=3, noise=False))


def _tissue_mask(pair, name):
    return pair.tissues.array == TISSUES[name].id


@pytest.mark.parametrize(
    "tissue, low, high, interior",
    [
        ("lung parenchyma", -900, -700, True),
        ("fat", -120, -80, True),
        ("muscle", 20, 60, True),
        ("blood", 20, 60, True),
        ("myocardium", 20, 60, True),
        ("cortical bone", 500, 3000, False),  # a shell one or two pixels thick: no interior
    ],
)
def test_mean_hu_of_each_tissue_is_in_its_published_range(clean_pair, tissue, low, high, interior):
    mask = _tissue_mask(clean_pair, tissue)
    if interior:  # a region of interest inside the tissue, clear of partial volume at its edges
        mask = ndimage.binary_erosion(mask, structure=np.ones((1, 3, 3), bool))
    assert mask.sum() > 20, f"{tissue} is missing"
    mean = float(clean_pair.truth.array[mask].mean())
    assert low <= mean <= high, f"{tissue}: mean {mean:.0f} HU outside {low}..{high}"


def test_lung_parenchyma_is_textured_not_flat(clean_pair):
    lung = ndimage.binary_erosion(clean_pair.labels.array == LABEL_LUNG, iterations=2)
    assert 8.0 < float(clean_pair.truth.array[lung].std()) < 80.0


def test_every_label_is_present_and_background_surrounds_the_body(clean_pair):
    labels = clean_pair.labels.array
    present = set(np.unique(labels).tolist())
    assert {LABEL_BODY, LABEL_BACKGROUND, LABEL_LUNG, LABEL_VESSEL, LABEL_NODULE, LABEL_AIRWAY} <= present
    assert present <= set(LABEL_NAMES) == {0, 1, 2, 3, 4, 5, 6, 7}
    # Arms held down may reach the sides of the field of view; nothing reaches its front.
    assert np.all(labels[:, 0, :] == LABEL_BACKGROUND)
    if not clean_pair.parameters["anatomy"]["arms_down"]:
        assert np.all(labels[:, :, 0] == LABEL_BACKGROUND)
    lung_fraction = np.isin(labels, [LABEL_LUNG, LABEL_VESSEL, LABEL_AIRWAY]).mean()
    assert 0.05 < lung_fraction < 0.4


def test_anatomy_changes_from_top_to_bottom():
    pair = generate_phantom_pair(Acquisition.resolve(96, 12), PhantomOptions(seed=1, noise=False, motion_mm=0.0))
    liver = pair.tissues.array == TISSUES["liver"].id
    # slice 0 is the lowest (z points to the head)
    assert liver[0].sum() > 100 and liver[-1].sum() == 0
    trachea_level = pair.labels.array[-1] == LABEL_AIRWAY
    assert trachea_level.sum() > 5
    lung_area = np.isin(pair.labels.array, [LABEL_LUNG, LABEL_VESSEL]).sum(axis=(1, 2))
    assert lung_area[0] < 0.7 * lung_area.max()


def test_ribs_leave_intercostal_gaps_and_the_spine_has_a_canal(clean_pair):
    cortical = _tissue_mask(clean_pair, "cortical bone")
    csf = _tissue_mask(clean_pair, "cerebrospinal fluid")
    assert csf.sum(axis=(1, 2)).min() > 0  # the canal in every slice
    # Along the lateral chest wall, bone and soft tissue alternate from slice to slice.
    nz, ny, nx = cortical.shape
    lateral_wall = cortical[:, ny // 3 : 2 * ny // 3, : nx // 4]
    per_slice = lateral_wall.sum(axis=(1, 2))
    assert per_slice.max() > 0 and per_slice.min() < per_slice.max()


def test_vessel_tree_tapers_from_hilum_to_periphery():
    model = build_phantom_model(PhantomGrid.create(256, 16), seed=0, motion_mm=8.0)
    radii = np.concatenate([model.vessels.r_start, model.vessels.r_end])
    assert len(model.vessels) > 200
    assert radii.max() > 4.0 and radii.min() < 1.5
    assert np.all(model.vessels.r_end <= model.vessels.r_start)


def test_same_seed_same_phantom_and_other_seed_another():
    a = generate_phantom_pair(Acquisition.resolve(64, 4), PhantomOptions(seed=5, noise=False))
    b = generate_phantom_pair(Acquisition.resolve(64, 4), PhantomOptions(seed=5, noise=False))
    c = generate_phantom_pair(Acquisition.resolve(64, 4), PhantomOptions(seed=6, noise=False))
    assert np.array_equal(a.truth.array, b.truth.array) and np.array_equal(a.labels.array, b.labels.array)
    assert not np.array_equal(a.truth.array, c.truth.array)


def test_default_geometry_scales_with_the_matrix():
    pair = generate_phantom_pair(Acquisition.resolve(64, 4), PhantomOptions(noise=False))
    assert pair.truth.shape == (4, 64, 64)
    assert pair.deformation.shape == (4, 64, 64, 3)
    np.testing.assert_allclose(pair.truth.spacing, (358.4 / 64, 358.4 / 64, 30.0))
    assert PhantomGrid.create(512, 48).spacing == pytest.approx((0.7, 0.7, 2.5))


def test_without_motion_both_states_are_the_same(clean_pair):
    still = generate_phantom_pair(Acquisition.resolve(64, 4), PhantomOptions(seed=2, motion_mm=0.0, noise=False))
    assert np.array_equal(still.truth.array, still.ndct_clean.array)
    assert np.all(still.deformation.array == 0)
    assert not np.array_equal(clean_pair.truth.array, clean_pair.ndct_clean.array)


def test_breathing_moves_the_lung_bases_most_and_the_spine_little():
    pair = generate_phantom_pair(Acquisition.resolve(96, 12), PhantomOptions(seed=0, motion_mm=10.0, noise=False))
    field = pair.deformation.array
    tissues = pair.tissues.array
    magnitude = np.linalg.norm(field, axis=-1)
    lung = pair.labels.array == LABEL_LUNG
    spine = np.isin(tissues, [TISSUES["cancellous bone"].id, TISSUES["cerebrospinal fluid"].id])
    base_lung = magnitude[:3][lung[:3]]
    apex_lung = magnitude[-3:][lung[-3:]]
    assert base_lung.max() > 6.0 and base_lung.max() < 13.0
    assert np.median(base_lung) > 1.3 * np.median(apex_lung)
    assert np.median(magnitude[spine]) < 0.5 * np.median(base_lung)
    # Smooth: neighbouring voxels move alike.
    assert np.abs(np.diff(field, axis=2)).max() < 0.5 * pair.truth.spacing[0]


def test_deformation_maps_the_uldct_state_onto_the_ndct_state():
    """Resampling the clean NDCT at p + D(p) reproduces the truth (the ITK convention)."""
    pair = generate_phantom_pair(Acquisition.resolve(128, 16), PhantomOptions(seed=4, motion_mm=10.0, noise=False))
    sx, sy, sz = pair.truth.spacing
    field = pair.deformation.array
    nz, ny, nx = pair.truth.shape
    zz, yy, xx = np.meshgrid(np.arange(nz), np.arange(ny), np.arange(nx), indexing="ij")
    coords = [zz + field[..., 2] / sz, yy + field[..., 1] / sy, xx + field[..., 0] / sx]
    warped = ndimage.map_coordinates(pair.ndct_clean.array, coords, order=1, mode="nearest")
    inner = (slice(2, -2), slice(None), slice(None))  # away from the slab's ends
    before = np.abs(pair.ndct_clean.array - pair.truth.array)[inner].mean()
    after = np.abs(warped - pair.truth.array)[inner].mean()
    assert after < 0.6 * before


def test_fov_padding_fills_outside_the_circle():
    pair = generate_phantom_pair(Acquisition.resolve(64, 4), PhantomOptions(fov_padding=True, noise=False))
    corner = (slice(None), 0, 0)
    for volume in (pair.ndct, pair.uldct, pair.truth):
        assert np.all(volume.array[corner] == -2048)
        assert volume.array[:, 32, 32].min() > -1500
    assert np.all(pair.labels.array[corner] == LABEL_BACKGROUND)


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"size": 32}, "size"),
        ({"slices": 2}, "slices"),
        ({"size": 100.5}, "size"),
        ({"dose": 0.0}, "dose"),
        ({"dose": 1.5}, "dose"),
        ({"motion_mm": -1.0}, "motion_mm"),
        ({"motion_mm": float("nan")}, "motion_mm"),
        ({"seed": -3}, "seed"),
        ({"pixel_mm": 0.0}, "pixel_mm"),
        ({"tumour": "no"}, "tumour"),
    ],
)
def test_bad_parameters_are_refused_with_a_clear_message(kwargs, word):
    with pytest.raises(InputError, match=word):
        generate_phantom_pair(*split_settings({"size": 64, "slices": 4, "noise": False, **kwargs}))


def test_cancel_stops_the_generation():
    monitor = Monitor()
    monitor.cancel()
    with pytest.raises(Cancelled):
        generate_phantom_pair(Acquisition.resolve(64, 4), PhantomOptions(noise=False), monitor=monitor)


def test_progress_is_reported_up_to_completion():
    seen = []
    generate_phantom_pair(
        Acquisition.resolve(64, 4), PhantomOptions(noise=False), monitor=Monitor(lambda s, d, t: seen.append((s, d, t)))
    )
    anatomy = [(d, t) for s, d, t in seen if s == "phantom anatomy"]
    assert anatomy[-1][0] == anatomy[-1][1]
