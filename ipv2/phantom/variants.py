"""Named acquisitions of the phantom, for validating methods across scanners and protocols.

`ACQUISITION_VARIANTS[name]` holds keyword arguments of `generate_phantom_pair` that change
the acquisition only; the seed (the patient) and everything else stay the caller's, e.g.
`generate_phantom_pair(seed=101, **ACQUISITION_VARIANTS["cropped"])`. The slab stays the
default 120 mm from above the carina to below the diaphragm in every variant, so the thin and
thick slices show the same anatomy as the default. `ipv2.contract.PHANTOM_VARIANTS` restates the
names, in this order, for `ipv2 phantom --variant`.
"""

from __future__ import annotations

from ipv2.errors import require_choice

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
    return dict(ACQUISITION_VARIANTS[require_choice(name, tuple(ACQUISITION_VARIANTS), "acquisition variant")])
