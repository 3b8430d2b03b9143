"""Training denoisers on purified pairs (volumes in HU or the authors' 8-bit PNG layout)."""

from ipv2.training.config import TrainConfig
from ipv2.training.data import PatchSampler, TrainingPair, load_pairs
from ipv2.training.loop import TrainResult, train

__all__ = ["PatchSampler", "TrainConfig", "TrainResult", "TrainingPair", "load_pairs", "train"]
