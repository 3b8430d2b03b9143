"""Named acquisitions of the phantom, for validating methods across scanners and protocols.

`ACQUISITION_VARIANTS[name]` holds the settings of `Acquisition.resolve` and `PhantomOptions`
(the dose, the padding) that a variant changes, as the command line names them; the seed (the
patient) and everything else stay the caller's, e.g.
`generate_phantom_pair(*phantom_variant("cropped", seed=101))`. The slab stays the
default 120 mm from above the carina to below the diaphragm in every variant, so the thin and
thick slices show the same anatomy as the default. The names, and their order, are
`ipv2.contract.PHANTOM_VARIANTS`: what `ipv2 phantom --variant` takes.
"""

from __future__ import annotations

from dataclasses import fields

from ipv2.contract import PHANTOM_VARIANTS
from ipv2.errors import require_choice
from ipv2.phantom.acquisition import Acquisition
from ipv2.phantom.options import PhantomOptions

CROPPED_FOV_MM = 220.0  # narrower than the lungs (about 235 mm across): they touch the border

ACQUISITION_VARIANTS: dict[str, dict] = {
    "default": {},
    "smooth": {"kernel": "smooth"},
    "sharp": {"kernel": "sharp"},
    "lung-kernel": {"kernel": "lung"},
    "thin-1mm": {"slices": 120, "slice_mm": 1.0, "thickness_mm": 1.0},
    "thick-5mm": {"slices": 24, "slice_mm": 5.0, "thickness_mm": 5.0},
    "pixel-0.9mm": {"pixel_mm": 0.9},  # the 512 matrix over a 461-mm field of view
    "pixel-0.5mm": {"pixel_mm": 0.5, "fov_mm": 358.4},  # a 717 matrix over the default field of view
    "fov-padding": {"fov_padding": True},
    "cropped": {"crop_fov_mm": CROPPED_FOV_MM},
    "dose-10pct": {"dose": 0.10},
}


def acquisition_variant(name: str) -> dict:
    """A copy of the keyword arguments of a named variant."""
    return dict(ACQUISITION_VARIANTS[require_choice(name, PHANTOM_VARIANTS, "acquisition variant")])


def split_settings(settings: dict) -> tuple[Acquisition, PhantomOptions]:
    """The acquisition and options of flat settings, as a variant and the command line give
    them: the fields of `PhantomOptions` build the options, the rest `Acquisition.resolve`,
    first, so that a problem of the acquisition is the one reported."""
    option_names = {field.name for field in fields(PhantomOptions)}
    acquisition = Acquisition.resolve(**{key: value for key, value in settings.items() if key not in option_names})
    return acquisition, PhantomOptions(**{key: value for key, value in settings.items() if key in option_names})


def phantom_variant(name: str, **settings) -> tuple[Acquisition, PhantomOptions]:
    """The acquisition and options of a named variant, `settings` (the seed, say) replacing
    its values or joining them."""
    return split_settings({**acquisition_variant(name), **settings})
