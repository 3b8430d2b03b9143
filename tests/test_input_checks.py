import numpy as np
import pytest

from ipv2.errors import InputError
from ipv2.input_checks import require_ct, require_dose, require_pair
from ipv2.volume import Volume


def test_good_ct_passes(ct_volume):
    require_ct(ct_volume, "NDCT")


@pytest.mark.parametrize(
    "array, message",
    [
        (np.zeros((64, 64), np.float32) - 1000, "3D volume"),
        (np.zeros((0, 64, 64), np.float32), "empty"),
        (np.full((2, 64, 64), -1000, np.float32), "same value"),
        (np.random.default_rng(0).uniform(0, 255, (2, 64, 64)).astype(np.float32), "not look like"),
        (np.random.default_rng(0).uniform(-1000, 60000, (2, 64, 64)).astype(np.float32), "outside the range"),
    ],
)
def test_bad_volumes_are_named(array, message):
    with pytest.raises(InputError, match=message) as error:
        require_ct(Volume(array), "NDCT")
    assert str(error.value).startswith("NDCT")


def test_nan_is_refused(ct_volume):
    array = ct_volume.array.copy()
    array[1, 3, 3] = np.nan
    with pytest.raises(InputError, match="NaN"):
        require_ct(ct_volume.with_array(array), "uLDCT")


def test_pair_shape_and_spacing_must_match(ct_volume):
    other = Volume(ct_volume.array[:3], spacing=ct_volume.spacing, direction=ct_volume.direction)
    with pytest.raises(InputError, match="differ in size"):
        require_pair(ct_volume, other)
    other = Volume(ct_volume.array, spacing=(0.8, 0.8, 2.5), direction=ct_volume.direction)
    with pytest.raises(InputError, match="spacing"):
        require_pair(ct_volume, other)


def test_pair_origins_may_differ(ct_volume):
    moved = Volume(ct_volume.array, spacing=ct_volume.spacing, origin=(0, 0, 0), direction=ct_volume.direction)
    require_pair(ct_volume, moved)


@pytest.mark.parametrize("dose", [0, -0.1, 1.5, float("nan")])
def test_dose_out_of_range(dose):
    with pytest.raises(InputError, match="dose"):
        require_dose(dose)
