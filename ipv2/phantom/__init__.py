"""A paired chest CT phantom with known ground truth.

An anthropomorphic chest in HU (chest wall, skeleton, mediastinum, lungs with vessels,
airways, fissures and nodules, diaphragm and upper abdomen, patient table), rendered in two
breathing states, with the project's low-dose simulator adding the noise of a normal-dose
and an ultra-low-dose scan, under a chosen acquisition (kernel, pixel and field of view,
slice spacing and thickness, dose, padding, cropped display field of view).
"""

from ipv2.phantom.acquisition import Acquisition, resolve_acquisition
from ipv2.phantom.deformation import read_deformation
from ipv2.phantom.pair import PhantomPair, generate_phantom_pair
from ipv2.phantom.tissues import (LABEL_AIRWAY, LABEL_BACKGROUND, LABEL_BODY, LABEL_LUNG, LABEL_NAMES,
                                  LABEL_NODULE, LABEL_VESSEL, TISSUES)
from ipv2.phantom.variants import ACQUISITION_VARIANTS, acquisition_variant
from ipv2.phantom.writer import write_phantom

__all__ = ["PhantomPair", "generate_phantom_pair", "write_phantom", "read_deformation", "Acquisition",
           "resolve_acquisition", "ACQUISITION_VARIANTS", "acquisition_variant", "TISSUES", "LABEL_NAMES", "LABEL_BODY",
           "LABEL_BACKGROUND", "LABEL_LUNG", "LABEL_VESSEL", "LABEL_NODULE", "LABEL_AIRWAY"]
