"""What every way of denoising a whole CT volume offers: a trained network or a classical method.

`ipv2 denoise --model` names one of them (`ipv2.denoise.denoisers.denoiser_for`); the
command's work then goes through this interface alone, whatever the kind: check it can run,
say the noise level it is set from, denoise, and say what made the result.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ipv2.contract import DEFAULT_DEVICE, DEFAULT_STRENGTH
from ipv2.progress import Monitor
from ipv2.volume import Volume

if TYPE_CHECKING:  # a type only: the interface loads without the masks' image libraries
    from ipv2.masks.regions import RegionMasks

# The result's metadata an account records, where the denoiser set it.
RECORDED_METADATA = ("denoised_with", "strength", "lung_strength", "body_strength", "measured_noise_hu")


@dataclass(frozen=True)
class DenoiseSettings:
    """What `ipv2 denoise` sets besides the model, one field per flag of the same name: each
    denoiser takes some and refuses the others, naming the flag."""

    strength: str | float = DEFAULT_STRENGTH
    lung_strength: str | float | None = None
    body_strength: str | float | None = None
    sigma_hu: float | None = None
    batch_size: int | None = None


@dataclass(frozen=True)
class NoiseLevel:
    """A noise standard deviation in HU and where it came from: `given` or `measured`."""

    sigma_hu: float
    source: str


@dataclass(frozen=True)
class DenoiseRun:
    """Where and from what one volume is denoised: the device; the noise level that
    `Denoiser.noise_level` gave; the scan's region masks where already computed, used instead
    of finding the regions again by a denoiser that works by region."""

    device: str = DEFAULT_DEVICE
    noise_level: NoiseLevel | None = None
    masks: RegionMasks | None = None


class Denoiser(ABC):
    """One configured way of denoising: its settings are checked when it is made."""

    #: What the result's description and account call it: the model or method name, or the
    #: checkpoint file's stem.
    name: str
    #: Whether it computes with torch on the chosen device (a network) or on the CPU alone.
    uses_device: bool

    def load(self) -> None:
        """Reads what it needs (weights) once, so that a missing or broken model is refused
        before any scan is read; nothing for a method without weights."""
        return None

    def require_device(self, device: str) -> None:
        """Refuses a device it cannot compute on, before any long work; nothing where it
        needs no device."""
        return None

    def noise_level(self, volume: Volume, source: str) -> NoiseLevel | None:
        """The noise level it is set from before it runs (given, or measured in `volume`,
        named `source` in refusals); None for one that measures its own as it runs."""
        return None

    @abstractmethod
    def denoise(self, volume: Volume, monitor: Monitor, run: DenoiseRun) -> Volume:
        """The denoised volume on the input's grid, in HU, run as `run` says. The result's metadata holds
        `denoised_with` and, for one that measured the noise as it ran, `measured_noise_hu`."""

    @abstractmethod
    def label(self, noise_level: NoiseLevel | None) -> str:
        """What made a result, for its description: the name and its strength or noise level."""

    @abstractmethod
    def recipe(self) -> str:
        """What it makes results with, independent of the scan: two runs with the same recipe
        make the same result (`ipv2.io.made_by`)."""

    def recorded_settings(self, denoised: Volume, noise_level: NoiseLevel | None) -> dict:
        """The settings an account records: RECORDED_METADATA of the result, the weights by
        file name alone (an account travels without its machine's paths), and the noise level
        it was set from."""
        settings = {key: denoised.metadata[key] for key in RECORDED_METADATA if key in denoised.metadata}
        if "denoised_with" in settings:
            settings["denoised_with"] = Path(str(settings["denoised_with"])).name
        if noise_level is not None:
            settings["measured_noise_hu"] = round(float(noise_level.sigma_hu), 2)
        return settings
