"""A paired chest CT phantom with known ground truth.

An anthropomorphic chest in HU (chest wall, skeleton, mediastinum, lungs with vessels,
airways, fissures and nodules, diaphragm and upper abdomen, patient table), rendered in two
breathing states, with the project's low-dose simulator adding the noise of a normal-dose
and an ultra-low-dose scan.
"""

from ipv2.phantom.pair import PhantomPair, generate_phantom_pair
from ipv2.phantom.tissues import (LABEL_AIRWAY, LABEL_BACKGROUND, LABEL_BODY, LABEL_LUNG, LABEL_NAMES,
                                  LABEL_NODULE, LABEL_VESSEL, TISSUES)
from ipv2.phantom.writer import write_phantom

__all__ = ["PhantomPair", "generate_phantom_pair", "write_phantom", "TISSUES", "LABEL_NAMES", "LABEL_BODY",
           "LABEL_BACKGROUND", "LABEL_LUNG", "LABEL_VESSEL", "LABEL_NODULE", "LABEL_AIRWAY"]
