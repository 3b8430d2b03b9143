"""The phantom's two settings objects: the options validate where built, the acquisition where
resolved, and a variant's flat settings split between them."""

from dataclasses import FrozenInstanceError, replace

import numpy as np
import pytest

from ipv2.contract import DEFAULT_DOSE
from ipv2.errors import InputError
from ipv2.phantom import Acquisition, PhantomOptions, generate_phantom_pair, phantom_variant
from ipv2.phantom.variants import split_settings


@pytest.mark.parametrize(
    "fields, word",
    [
        ({"seed": -1}, "seed"),
        ({"seed": 2.5}, "seed"),
        ({"dose": 0.0}, "dose"),
        ({"motion_mm": 31.0}, "motion_mm"),
        ({"tumour": "yes"}, "tumour"),
    ],
)
def test_options_are_refused_where_built(fields, word):
    with pytest.raises(InputError, match=word):
        PhantomOptions(**fields)
    with pytest.raises(InputError, match=word):
        replace(PhantomOptions(), **fields)


def test_options_are_normalised_and_frozen():
    options = PhantomOptions(seed=np.int64(3), dose=1, motion_mm=2, fov_padding=1)
    assert type(options.seed) is int and options.seed == 3
    assert type(options.dose) is float and type(options.motion_mm) is float and options.fov_padding is True
    assert PhantomOptions().dose == DEFAULT_DOSE
    with pytest.raises(FrozenInstanceError):
        options.seed = 4


def test_a_pair_needs_the_settings_objects_not_loose_values():
    with pytest.raises(TypeError, match="Acquisition"):
        generate_phantom_pair(64, PhantomOptions(noise=False))
    with pytest.raises(TypeError, match="PhantomOptions"):
        generate_phantom_pair(Acquisition.resolve(64, 4), {"noise": False})


def test_flat_settings_split_into_acquisition_and_options():
    acquisition, options = split_settings({"size": 96, "slices": 6, "kernel": "sharp", "dose": 0.1, "seed": 7})
    assert acquisition == Acquisition.resolve(96, 6, kernel="sharp")
    assert options == PhantomOptions(seed=7, dose=0.1)
    # Both wrong: the acquisition's problem is the one reported, as the command line did.
    with pytest.raises(InputError, match="size"):
        split_settings({"size": 10, "dose": 5.0})


def test_a_variant_gives_both_and_takes_the_callers_settings():
    acquisition, options = phantom_variant("dose-10pct", seed=5, motion_mm=0.0)
    assert acquisition == Acquisition.resolve()
    assert options == PhantomOptions(seed=5, dose=0.1, motion_mm=0.0)
    acquisition, options = phantom_variant("thick-5mm", slices=12, slice_mm=10.0)
    assert (acquisition.slices, acquisition.slice_mm, acquisition.thickness_mm) == (12, 10.0, 5.0)
    assert options == PhantomOptions()


def test_no_options_are_the_default_options():
    acquisition = Acquisition.resolve(64, 4)
    default = generate_phantom_pair(acquisition, device="cpu")
    explicit = generate_phantom_pair(acquisition, PhantomOptions(), device="cpu")
    assert default.parameters == explicit.parameters
    np.testing.assert_array_equal(default.uldct.array, explicit.uldct.array)
