"""Training pairs from normal-dose slices under drawn acquisitions."""

import numpy as np
import pytest

from ipv2.errors import InputError
from ipv2.simulate import LowDoseSettings, simulate_low_dose
from ipv2.simulate.kernels import KERNELS
from ipv2.testing import chest_like
from ipv2.training.acquisitions import (
    DOSE_RANGE,
    IDENTITY_FRACTION,
    SCANNER_RANGE_HU,
    SPACINGS_MM,
    TEXTURE_FRACTIONS,
    Acquisition,
    acquire,
    acquired_pairs,
    body_slices,
    draw_acquisitions,
    resample_in_plane,
    slab_stride,
)


def test_draws_are_seeded_and_cover_the_ranges():
    draws = draw_acquisitions(2000, seed=4)
    assert draws == draw_acquisitions(2000, seed=4)
    assert draws != draw_acquisitions(2000, seed=5)
    identity = [d for d in draws if d.dose == 1.0]
    assert len(identity) / len(draws) == pytest.approx(IDENTITY_FRACTION, abs=0.03)
    doses = np.array([d.dose for d in draws if d.dose < 1.0])
    assert DOSE_RANGE[0] * 0.999 <= doses.min() and doses.max() <= DOSE_RANGE[1] * 1.001
    # Log-uniform: as many doses below the geometric middle of the range as above it.
    middle = np.sqrt(DOSE_RANGE[0] * DOSE_RANGE[1])
    assert np.mean(doses < middle) == pytest.approx(0.5, abs=0.05)
    assert {d.kernel for d in draws} == set(KERNELS)
    assert {d.spacing_mm for d in draws} == set(SPACINGS_MM)
    assert 0.4 < np.mean([d.electronic_noise for d in draws]) < 0.6


def test_bad_draw_settings_are_refused():
    with pytest.raises(InputError):
        draw_acquisitions(0, seed=0)
    with pytest.raises(InputError):
        draw_acquisitions(5, seed=0, dose_range=(0.5, 0.1))


def test_resampling_changes_the_grid_and_floors_padding():
    hu = chest_like((1, 64, 64))
    hu[0, :2] = -3024.0
    finer = resample_in_plane(hu, 0.8, 0.5)
    assert finer.shape == (1, 102, 102)
    assert finer.min() >= -1024.0
    assert resample_in_plane(hu, 0.7, 0.7).shape == hu.shape


def test_full_dose_is_the_identity():
    hu = chest_like((1, 64, 64))
    noisy, clean = acquire(hu, 0.7, Acquisition(1.0, "lung", 0.7, True), seed=0)
    np.testing.assert_array_equal(noisy, clean)
    np.testing.assert_array_equal(clean, np.maximum(hu, -1024.0))


def test_standard_kernel_inserts_noise_into_the_slice_itself():
    hu = chest_like((1, 64, 64))
    low = acquire(hu, 0.7, Acquisition(0.02, "standard", 0.7, False), seed=1)
    high = acquire(hu, 0.7, Acquisition(0.3, "standard", 0.7, False), seed=1)
    np.testing.assert_array_equal(low[1], np.maximum(hu, -1024.0))
    body = hu[0] > -500
    assert (low[0] - low[1])[0][body].std() > 2 * (high[0] - high[1])[0][body].std() > 0


def test_other_kernels_pair_the_reconstruction_with_its_noise_free_twin():
    hu = chest_like((1, 64, 64))
    acquisition = Acquisition(0.05, "sharp", 0.7, True)
    noisy, clean = acquire(hu, 0.7, acquisition, seed=2)
    expected_clean = simulate_low_dose(
        np.maximum(hu, -1024.0),
        LowDoseSettings(dose=0.05, pixel_spacing_mm=0.7, seed=2, kernel="sharp", noise_free=True),
        device="cpu",
    )
    np.testing.assert_allclose(clean, np.clip(expected_clean, *SCANNER_RANGE_HU), atol=1e-3)
    assert np.abs(noisy - clean).mean() > 5.0


def test_pairs_are_grouped_by_volume_and_spacing_and_seeded():
    volumes = [("a", chest_like((3, 48, 48), seed=1), 0.7), ("b", chest_like((2, 40, 40), seed=2), 1.0)]
    groups = acquired_pairs(volumes, 10, seed=3)
    assert sum(len(g.acquisitions) for g in groups) == 10
    for group in groups:
        assert group.inputs.shape == group.targets.shape
        assert len(group.sources) == group.inputs.shape[0]
        assert all(source.startswith(group.volume + ":") for source in group.sources)
        assert all(a.spacing_mm == group.spacing_mm for a in group.acquisitions)
    again = acquired_pairs(volumes, 10, seed=3)
    for first, second in zip(groups, again):
        np.testing.assert_array_equal(first.inputs, second.inputs)


def test_slices_without_body_are_not_used():
    hu = chest_like((3, 32, 32))
    hu[1] = -1000.0
    assert list(body_slices(hu)) == [0, 2]
    with pytest.raises(InputError, match="enough body"):
        acquired_pairs([("air", np.full((2, 32, 32), -1000.0, np.float32), 0.7)], 3, seed=0)


def test_pairs_stay_in_the_range_scanners_store():
    hu = chest_like((1, 64, 64))
    hu[0, 20:30, 20:30] = 3000.0  # dense bone or metal
    noisy, clean = acquire(hu, 0.7, Acquisition(0.01, "lung", 0.7, True), seed=4)
    for image in (noisy, clean):
        assert image.min() >= SCANNER_RANGE_HU[0] and image.max() <= SCANNER_RANGE_HU[1]
    # Photon starvation would reach far below air without the clip.
    assert np.mean(noisy <= SCANNER_RANGE_HU[0]) > 0


def test_context_pairs_are_slabs_of_adjacent_slices_each_with_its_own_noise():
    hu = chest_like((5, 48, 48), seed=1)
    hu += np.arange(5, dtype=np.float32)[:, None, None] * 40.0  # slices told apart by their level
    flat = [g for g in acquired_pairs([("a", hu, 0.7)], 6, seed=3) if g.spacing_mm == 0.7]
    groups = acquired_pairs([("a", hu, 0.7)], 6, seed=3, context_slices=1)
    assert sum(len(g.acquisitions) for g in groups) == 6
    for group in groups:
        assert group.slab_depth == 3 and group.inputs.shape[0] == 3 * len(group.sources)
        for (inputs, targets), source, acquisition in zip(group.slabs(), group.sources, group.acquisitions):
            centre = int(source.split(":")[1])
            assert inputs.shape[0] == targets.shape[0] == 3
            if group.spacing_mm == 0.7 and acquisition.dose == 1.0:
                expected = hu[np.clip([centre - 1, centre, centre + 1], 0, 4)]
                np.testing.assert_allclose(targets, np.clip(expected, *SCANNER_RANGE_HU), atol=1e-3)
            if acquisition.dose < 1.0:
                noise = inputs - targets
                assert abs(np.corrcoef(noise[0].ravel(), noise[2].ravel())[0, 1]) < 0.3
    # The slab's centre is drawn as the 2D pair's slice: the same slices are used either way.
    assert [s for g in flat for s in g.sources] == [s for g in groups if g.spacing_mm == 0.7 for s in g.sources]


def _neighbour_correlation(noise):
    return float(np.corrcoef(noise[:, :, :-1].ravel(), noise[:, :, 1:].ravel())[0, 1])


def test_textures_keep_the_noise_level_and_change_its_grain():
    hu = chest_like((1, 96, 96), seed=2)
    fbp_noisy, clean = acquire(hu, 0.7, Acquisition(0.05, "standard", 0.7, False), seed=3)
    body = clean > -500
    fbp = (fbp_noisy - clean)[body]
    grains = {}
    for texture in ("fbp", "white", "blotchy"):
        noisy, again = acquire(hu, 0.7, Acquisition(0.05, "standard", 0.7, False, texture), seed=3)
        np.testing.assert_array_equal(again, clean)  # the target is the same whatever the texture
        noise = noisy - clean
        inner = noise[:, 8:-8, 8:-8]  # away from the clipping of air at the scanner's floor
        assert noise[body].std() == pytest.approx(fbp.std(), rel=0.1)
        grains[texture] = _neighbour_correlation(inner)
    assert abs(grains["white"]) < 0.1
    assert grains["blotchy"] > grains["fbp"] + 0.1


def test_texture_shares_are_drawn_apart_from_the_other_draws():
    plain = draw_acquisitions(400, seed=6)
    wanted = {"fbp": 0.6, "white": 0.2, "blotchy": 0.2}
    mixed = draw_acquisitions(400, seed=6, texture_fractions=wanted)
    assert [(a.dose, a.kernel, a.spacing_mm) for a in plain] == [(a.dose, a.kernel, a.spacing_mm) for a in mixed]
    assert {a.texture for a in plain} == {name for name, share in TEXTURE_FRACTIONS.items() if share > 0}
    for texture, share in wanted.items():
        assert np.mean([a.texture == texture for a in mixed]) == pytest.approx(share, abs=0.06)
    with pytest.raises(InputError, match="texture fractions"):
        draw_acquisitions(4, seed=6, texture_fractions={"fbp": 0.5, "speckle": 0.5})


def test_a_slab_takes_its_neighbours_at_the_drawn_slice_spacing():
    hu = chest_like((12, 40, 40), seed=1)
    hu += np.arange(12, dtype=np.float32)[:, None, None] * 40.0  # each slice its own level
    groups = acquired_pairs([("a", hu, 0.7, 1.0)], 30, seed=5, context_slices=1)
    strides = set()
    for group in groups:
        for (_, targets), source, acquisition in zip(group.slabs(), group.sources, group.acquisitions):
            stride = slab_stride(acquisition, 1.0)
            assert stride == max(1, round(acquisition.slice_mm))
            centre = int(source.split(":")[1].split("/")[0])
            assert source.endswith(f"/{stride}") == (stride > 1)
            if acquisition.dose == 1.0 and group.spacing_mm == 0.7:
                expected = hu[np.clip(centre + stride * np.arange(-1, 2), 0, 11)]
                np.testing.assert_allclose(targets, np.clip(expected, *SCANNER_RANGE_HU), atol=1e-3)
            strides.add(stride)
    assert len(strides) > 2
    # Without the source's slice spacing the slab is adjacent slices.
    assert slab_stride(Acquisition(0.1, "standard", 0.7, False, "fbp", 5.0), None) == 1
