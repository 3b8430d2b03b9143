"""A paired chest CT phantom with known ground truth.

An anthropomorphic chest and upper abdomen in HU, rendered in two breathing states, with the
project's low-dose simulator adding the noise of a normal-dose and an ultra-low-dose scan
under a chosen acquisition (kernel, pixel and field of view, slice spacing and thickness,
dose, padding, cropped display field of view):

- chest wall: skin, subcutaneous fat, muscle with fat strands between its bundles, and the
  arms beside the chest or raised out of the scan;
- skeleton: ribs, spine, sternum, scapulae (and humeri with the arms down), a cortical shell
  around cancellous bone with a trabecular texture;
- mediastinum: heart, great vessels, oesophagus, trachea and main bronchi;
- lungs: textured parenchyma (about -850 HU, denser posteriorly), pulmonary arteries and
  veins branching from the hila down to 0.6 mm calibre with peripheral vessels drawn by
  their partial volume, bronchi with walls beside the arteries, fissures, interlobular
  septa under the pleura, nodules and (optionally) a lobulated tumour in a ground-glass halo;
- below the diaphragm: liver with its veins, stomach with a gas bubble over an air-fluid
  level, colon with gas and stool, spleen, kidneys in their fat;
- the patient table.

Body size and shape, the arms, the breathing amplitude and every structure's place are drawn
from the seed. Labels: `LABEL_NAMES`; tissues: `TISSUES`.
"""

from ipv2.phantom.acquisition import Acquisition
from ipv2.phantom.deformation import read_deformation
from ipv2.phantom.options import PhantomOptions
from ipv2.phantom.pair import PhantomPair, generate_phantom_pair
from ipv2.phantom.tissues import (
    LABEL_AIRWAY,
    LABEL_BACKGROUND,
    LABEL_BODY,
    LABEL_LUNG,
    LABEL_NAMES,
    LABEL_NODULE,
    LABEL_OTHER_GAS,
    LABEL_TUMOUR,
    LABEL_VESSEL,
    LUNG_FIELD_TISSUES,
    SCORED_REGION_LABELS,
    TISSUES,
)
from ipv2.phantom.variants import ACQUISITION_VARIANTS, acquisition_variant, phantom_variant
from ipv2.phantom.writer import write_phantom

__all__ = [
    "PhantomPair",
    "generate_phantom_pair",
    "write_phantom",
    "read_deformation",
    "Acquisition",
    "PhantomOptions",
    "ACQUISITION_VARIANTS",
    "acquisition_variant",
    "phantom_variant",
    "TISSUES",
    "LABEL_NAMES",
    "LABEL_BODY",
    "LABEL_BACKGROUND",
    "LABEL_LUNG",
    "LABEL_VESSEL",
    "LABEL_NODULE",
    "LABEL_AIRWAY",
    "LABEL_OTHER_GAS",
    "LABEL_TUMOUR",
    "LUNG_FIELD_TISSUES",
    "SCORED_REGION_LABELS",
]
