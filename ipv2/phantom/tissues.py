"""Tissues of the phantom: their CT numbers, texture strength and label, and the canvas
on which the anatomy is painted one structure over the other.

CT numbers are mid-range published values for non-contrast chest CT at 120 kVp.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The purification masks' labels, which the truth's refine.
from ipv2.contract import LABEL_BACKGROUND, LABEL_BODY, LABEL_LUNG

LABEL_VESSEL, LABEL_NODULE, LABEL_AIRWAY = 3, 4, 5
LABEL_OTHER_GAS, LABEL_TUMOUR = 6, 7
LABEL_NAMES = {
    LABEL_BODY: "body",
    LABEL_BACKGROUND: "background",
    LABEL_LUNG: "lung parenchyma",
    LABEL_VESSEL: "vessels",
    LABEL_NODULE: "nodules",
    LABEL_AIRWAY: "airways",
    LABEL_OTHER_GAS: "other gas",
    LABEL_TUMOUR: "tumour",
}

# The regions a denoiser is scored in: the lung field holds the lung's vessels, nodules,
# airways and tumour; the gas of the stomach and bowel is dark but body.
SCORED_REGION_LABELS = {
    "lung": (LABEL_LUNG, LABEL_VESSEL, LABEL_NODULE, LABEL_AIRWAY, LABEL_TUMOUR),
    "body": (LABEL_BODY, LABEL_OTHER_GAS),
}
PADDING_HU = -2048.0


@dataclass(frozen=True)
class Tissue:
    id: int
    name: str
    hu: float
    texture_hu: float  # standard deviation of the tissue's own smooth texture
    label: int


_TISSUE_ROWS = [
    ("air", -1000.0, 0.0, LABEL_BACKGROUND),
    ("table shell", 250.0, 15.0, LABEL_BACKGROUND),
    ("table foam", -930.0, 8.0, LABEL_BACKGROUND),
    ("skin", 35.0, 5.0, LABEL_BODY),
    ("fat", -100.0, 8.0, LABEL_BODY),
    ("muscle", 50.0, 6.0, LABEL_BODY),
    ("blood", 40.0, 3.0, LABEL_BODY),
    ("myocardium", 45.0, 4.0, LABEL_BODY),
    ("liver", 60.0, 5.0, LABEL_BODY),
    ("abdominal viscera", 35.0, 8.0, LABEL_BODY),  # bowel and mesentery between the organs
    ("spleen", 45.0, 4.0, LABEL_BODY),
    ("kidney", 32.0, 4.0, LABEL_BODY),
    ("gut wall", 40.0, 5.0, LABEL_BODY),  # of the stomach and colon
    ("gastric fluid", 12.0, 2.0, LABEL_BODY),
    ("bowel content", 20.0, 25.0, LABEL_BODY),  # stool: mottled
    ("other gas", -1000.0, 0.0, LABEL_OTHER_GAS),  # gas in the stomach and bowel
    ("cortical bone", 1150.0, 60.0, LABEL_BODY),
    ("cancellous bone", 230.0, 45.0, LABEL_BODY),
    ("cartilage", 130.0, 15.0, LABEL_BODY),
    ("intervertebral disc", 85.0, 6.0, LABEL_BODY),
    ("cerebrospinal fluid", 10.0, 3.0, LABEL_BODY),
    ("lung parenchyma", -850.0, 0.0, LABEL_LUNG),  # textured by the lung model itself
    ("pulmonary vessel", 40.0, 3.0, LABEL_VESSEL),
    ("solid nodule", 35.0, 6.0, LABEL_NODULE),
    ("ground-glass nodule", -600.0, 0.0, LABEL_NODULE),  # textured by the nodule model
    ("airway wall", 30.0, 6.0, LABEL_BODY),
    ("airway lumen", -990.0, 0.0, LABEL_AIRWAY),
    ("airway wall in lung", 0.0, 8.0, LABEL_LUNG),
    ("airway lumen in lung", -990.0, 0.0, LABEL_AIRWAY),  # bronchi inside the lung envelope
    ("tumour", 38.0, 10.0, LABEL_TUMOUR),
    ("tumour halo", -620.0, 0.0, LABEL_TUMOUR),  # ground glass around the mass, textured by the lung model
]

TISSUES: dict[str, Tissue] = {
    name: Tissue(i, name, hu, tex, label) for i, (name, hu, tex, label) in enumerate(_TISSUE_ROWS)
}
TISSUE_BY_ID = [TISSUES[row[0]] for row in _TISSUE_ROWS]
TISSUE_TO_LABEL = np.array([t.label for t in TISSUE_BY_ID], dtype=np.uint8)
TISSUE_TEXTURE_HU = np.array([t.texture_hu for t in TISSUE_BY_ID], dtype=np.float32)


# What a reader calls the lung field: the lungs as an envelope, with everything inside them.
LUNG_FIELD_TISSUES = (
    "lung parenchyma",
    "pulmonary vessel",
    "solid nodule",
    "ground-glass nodule",
    "airway wall in lung",
    "airway lumen in lung",
    "tumour",
    "tumour halo",
)


def tissue_id(name: str) -> int:
    return TISSUES[name].id


class Canvas:
    """A block of slices painted structure by structure, later ones over earlier ones.

    Intensities blend by occupancy (partial volume at edges); the tissue of a voxel is the
    last structure that covers more than half of it.
    """

    def __init__(self, shape):
        self.hu = np.full(shape, TISSUES["air"].hu, dtype=np.float32)
        self.tissue = np.full(shape, TISSUES["air"].id, dtype=np.uint8)

    def paint(self, occupancy: np.ndarray, tissue: str, hu=None) -> None:
        """`hu` defaults to the tissue's CT number; an array gives a textured tissue."""
        entry = TISSUES[tissue]
        value = np.float32(entry.hu) if hu is None else hu
        occupancy = np.broadcast_to(occupancy, self.hu.shape)
        self.hu += occupancy * (value - self.hu)
        self.tissue[occupancy > 0.5] = entry.id

    def add(self, delta: np.ndarray, where_tissue: str) -> None:
        """Adds an intensity pattern (e.g. fissures) to the voxels of one tissue."""
        mask = self.tissue == TISSUES[where_tissue].id
        self.hu[mask] += np.broadcast_to(delta, self.hu.shape)[mask]

    def labels(self) -> np.ndarray:
        return TISSUE_TO_LABEL[self.tissue]
