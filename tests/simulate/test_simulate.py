"""simulate_low_dose and simulate_seed_u8: determinism, inputs, geometry handling, progress."""

import threading
from dataclasses import fields

import numpy as np
import pytest
from scipy import ndimage

from ipv2.errors import Cancelled, InputError
from ipv2.progress import Monitor
from ipv2.simulate import LowDoseSettings, simulate_low_dose, simulate_seed_u8
from ipv2.simulate.geometry import ParallelBeamGeometry
from ipv2.testing import chest_like

SETTINGS_FIELDS = {field.name for field in fields(LowDoseSettings)}


@pytest.fixture
def hu():
    return chest_like((5, 48, 48), seed=4)


@pytest.mark.parametrize("mode", ["physical", "seed"])
def test_same_seed_same_result_other_seed_other_noise(hu, mode):
    first = simulate_low_dose(hu, LowDoseSettings(mode=mode, seed=9))
    again = simulate_low_dose(hu, LowDoseSettings(mode=mode, seed=9))
    other = simulate_low_dose(hu, LowDoseSettings(mode=mode, seed=10))
    np.testing.assert_array_equal(first, again)
    assert first.dtype == np.float32 and first.shape == hu.shape
    assert np.abs(first - other).mean() > 1.0


@pytest.mark.parametrize("projector", ["nufft", "direct"])
def test_noise_of_a_slice_does_not_depend_on_batching(hu, projector):
    whole = simulate_low_dose(hu, LowDoseSettings(seed=2), batch_size=5, projector=projector)
    pieces = simulate_low_dose(hu, LowDoseSettings(seed=2), batch_size=2, projector=projector)
    np.testing.assert_allclose(whole, pieces, atol=0.05)


def test_slices_get_different_noise(hu):
    same_slices = np.repeat(hu[:1], 3, axis=0)
    out = simulate_low_dose(same_slices, LowDoseSettings(seed=0))
    assert np.abs(out[0] - out[1]).mean() > 1.0


def test_the_input_is_not_modified(hu):
    before = hu.copy()
    simulate_low_dose(hu, LowDoseSettings(mode="physical"))
    simulate_low_dose(hu, LowDoseSettings(mode="seed"))
    np.testing.assert_array_equal(hu, before)


def noise_std(hu, **kwargs):
    # Two seeds share the deterministic part (blur, edges); their difference is noise only.
    first, second = (simulate_low_dose(hu, LowDoseSettings(seed=seed, **kwargs)) for seed in (1, 2))
    difference = first - second
    inside = ~ParallelBeamGeometry.like_authors(hu.shape[-1]).outside_circle
    return float(np.std(difference[:, inside]) / np.sqrt(2))


@pytest.mark.parametrize("mode", ["physical", "seed"])
def test_lower_dose_is_noisier(hu, mode):
    assert noise_std(hu, mode=mode, dose=0.02) > 2 * noise_std(hu, mode=mode, dose=0.5)


def test_physical_mode_keeps_fov_padding_and_reconstructs_the_inside():
    volume = chest_like((2, 48, 48), seed=1)
    yy, xx = np.mgrid[:48, :48] - 24
    outside = yy**2 + xx**2 > 22**2
    volume[:, outside] = -2048.0
    out = simulate_low_dose(volume, LowDoseSettings(dose=0.5, seed=0))
    np.testing.assert_array_equal(out[:, outside], volume[:, outside])
    body = ndimage.binary_erosion(volume > -100, structure=np.ones((1, 7, 7)))
    assert abs(np.median(out[body]) - np.median(volume[body])) < 30


def test_physical_mode_reconstructs_a_body_that_fills_the_square():
    volume = np.full((1, 40, 40), 40.0, dtype=np.float32)
    volume[:, 15:25, 10:30] = -800.0
    volume[:, 0, 0] = -1000.0  # some air, as in any CT
    out = simulate_low_dose(volume, LowDoseSettings(dose=1.0, seed=0))
    # Corners hold tissue, so the whole square is reconstructed, not just the inscribed circle.
    corner = out[0, 1:5, 1:5]
    assert abs(float(np.median(corner)) - 40.0) < 60


def test_non_square_slices_come_back_in_their_shape():
    volume = chest_like((2, 40, 56), seed=3)
    for mode in ("physical", "seed"):
        out = simulate_low_dose(volume, LowDoseSettings(mode=mode, seed=0, dose=0.5))
        assert out.shape == volume.shape
        lungs = volume < -700
        assert abs(np.median(out[lungs]) - np.median(volume[lungs])) < 80


def test_seed_mode_leaves_a_constant_slice_as_it_is(hu):
    volume = hu.copy()
    volume[2] = -1000.0
    out = simulate_low_dose(volume, LowDoseSettings(mode="seed", seed=0))
    np.testing.assert_array_equal(out[2], volume[2])


def test_seed_mode_ignores_the_input_dose(hu):
    np.testing.assert_array_equal(
        simulate_low_dose(hu, LowDoseSettings(mode="seed", seed=3, input_dose=1.0)),
        simulate_low_dose(hu, LowDoseSettings(mode="seed", seed=3)),
    )


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"dose": 0.0}, "dose fraction"),
        ({"dose": 1.5}, "dose fraction"),
        ({"dose": float("nan")}, "dose fraction"),
        ({"mode": "fancy"}, "mode"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"pixel_spacing_mm": 0.0}, "spacing"),
        ({"pixel_spacing_mm": "wide"}, "spacing"),
        ({"dose": 0.5, "input_dose": 0.1}, "input dose"),
        ({"projector": "magic"}, "projector"),
        ({"device": "tpu"}, "device"),
        ({"batch_size": 0}, "batch size"),
    ],
)
def test_bad_arguments_are_refused(hu, kwargs, words):
    settings = {key: value for key, value in kwargs.items() if key in SETTINGS_FIELDS}
    call = {key: value for key, value in kwargs.items() if key not in settings}
    with pytest.raises(InputError, match=words):
        simulate_low_dose(hu, LowDoseSettings(**settings), **call)


def test_bad_volumes_are_refused(hu):
    with pytest.raises(InputError, match="3D"):
        simulate_low_dose(hu[0])
    with_nan = hu.copy()
    with_nan[1, 3, 3] = np.nan
    with pytest.raises(InputError, match="NaN"):
        simulate_low_dose(with_nan)
    with pytest.raises(InputError, match="numpy array"):
        simulate_low_dose(hu.tolist())
    with pytest.raises(InputError, match="Hounsfield|CT"):
        simulate_low_dose(np.full((2, 32, 32), 5000.0, dtype=np.float32) + np.arange(32, dtype=np.float32))
    with pytest.raises(InputError, match="empty"):
        simulate_low_dose(np.zeros((0, 32, 32), dtype=np.float32))


def test_progress_is_reported_per_batch_and_cancel_stops_between_batches(hu):
    steps = []
    simulate_low_dose(hu, batch_size=2, monitor=Monitor(lambda stage, done, total: steps.append((done, total))))
    assert steps == [(0, 5), (2, 5), (4, 5), (5, 5)]

    cancel = threading.Event()
    seen = []

    def cancel_after_first_batch(stage, done, total):
        seen.append(done)
        if done >= 2:
            cancel.set()

    with pytest.raises(Cancelled):
        simulate_low_dose(hu, batch_size=2, monitor=Monitor(cancel_after_first_batch, cancel))
    assert seen == [0, 2]


def test_seed_u8_keeps_shape_and_eight_bit_range():
    slices = np.clip((chest_like((3, 48, 48), seed=5) + 1024) / 8, 0, 255).astype(np.uint8)
    out = simulate_seed_u8(slices, seed=1)
    assert out.dtype == np.uint8 and out.shape == slices.shape
    assert all(s.min() == 0 and s.max() == 255 for s in out)
    np.testing.assert_array_equal(out, simulate_seed_u8(slices, seed=1))
    one = simulate_seed_u8(slices[0], seed=1)
    assert one.shape == slices[0].shape
    # The noisy slice still looks like its source.
    inside = ~ParallelBeamGeometry.like_authors(48).outside_circle
    assert np.corrcoef(out[0][inside].astype(float), slices[0][inside].astype(float))[0, 1] > 0.8


def test_seed_u8_refuses_other_types():
    with pytest.raises(InputError, match="uint8"):
        simulate_seed_u8(np.zeros((2, 16, 16), dtype=np.float32))
    with pytest.raises(InputError, match="shape"):
        simulate_seed_u8(np.zeros((1, 2, 16, 16), dtype=np.uint8))
