"""The purification pipeline: from a uLDCT/NDCT pair to a purified training pair and label."""

from ipv2.contract import DEFAULT_MODE, MODES, SIMULATE_MODES
from ipv2.purify.core import Purified, purify_arrays
from ipv2.purify.dataset import purify_png_dataset
from ipv2.purify.options import PurifyOptions
from ipv2.purify.outputs import DATASET_OUTPUTS, VOLUME_OUTPUTS, prepare_output_folder, write_purify_outputs
from ipv2.purify.pipeline import PurifyResult, purify_volumes

__all__ = [
    "DATASET_OUTPUTS",
    "DEFAULT_MODE",
    "MODES",
    "SIMULATE_MODES",
    "VOLUME_OUTPUTS",
    "PurifyOptions",
    "PurifyResult",
    "Purified",
    "prepare_output_folder",
    "purify_arrays",
    "purify_png_dataset",
    "purify_volumes",
    "write_purify_outputs",
]
