"""Region masks of a uLDCT/NDCT pair: dark, background, lung (with airways) and body;
the HU method also gives other gas in the body and the lung field.

`compute_region_masks` works on HU volumes and is built for what scanners produce;
`compute_png_region_masks` reproduces the authors' 8-bit PNG behaviour for their datasets.
"""

from ipv2.masks.hu_masks import HU_MASKS_REVISION, compute_region_masks
from ipv2.masks.parameters import MaskParameters
from ipv2.masks.png_masks import compute_png_region_masks
from ipv2.masks.regions import LABEL_BACKGROUND, LABEL_BODY, LABEL_LUNG, LABEL_NAMES, RegionMasks

__all__ = [
    "HU_MASKS_REVISION",
    "LABEL_BODY",
    "LABEL_BACKGROUND",
    "LABEL_LUNG",
    "LABEL_NAMES",
    "MaskParameters",
    "RegionMasks",
    "compute_region_masks",
    "compute_png_region_masks",
]
