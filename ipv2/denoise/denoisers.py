"""The denoisers `ipv2 denoise --model` names: a registered network (its bundled weights), a
checkpoint written by `ipv2 train`, or a classical method (BM3D, non-local means).

A network measures the noise itself and takes a strength (`ipv2.denoise.strength`); a
classical method is set from one noise level, given or measured before it runs. Each refuses
the settings of the other kind, naming the flag, when it is made.
"""

from __future__ import annotations

from pathlib import Path

from ipv2.contract import CLASSICAL_DENOISERS, DEFAULT_STRENGTH, NETWORKS
from ipv2.denoise.classical import denoise_volume_classical, measure_sigma_hu, require_sigma_hu
from ipv2.denoise.denoiser import Denoiser, DenoiseRun, DenoiseSettings, NoiseLevel
from ipv2.denoise.inference import denoise_volume, lung_field_of, resolve_model
from ipv2.denoise.strength import dose_multiple, region_strengths
from ipv2.device import resolve_device
from ipv2.errors import InputError
from ipv2.input_checks import require_soft_tissue
from ipv2.models.checkpoint import LoadedModel
from ipv2.progress import Monitor
from ipv2.volume import Volume


def denoiser_for(model: str, settings: DenoiseSettings | None = None) -> Denoiser:
    """The denoiser `model` names with `settings`: a classical method by its name, otherwise a
    network (registered name or checkpoint file, read by `load`)."""
    settings = settings or DenoiseSettings()
    if str(model).lower() in CLASSICAL_DENOISERS:
        return ClassicalDenoiser(model, settings)
    return NetworkDenoiser(model, settings)


class ClassicalDenoiser(Denoiser):
    """A classical method (`ipv2.denoise.classical`), on the CPU, set from one noise level:
    the one given, or the one measured in the scan's soft tissue."""

    uses_device = False

    def __init__(self, method: str, settings: DenoiseSettings):
        if settings.sigma_hu is not None:
            require_sigma_hu(settings.sigma_hu)
        if settings.batch_size is not None:
            raise InputError(f"--batch sets a network's forward pass; {method} denoises one slice at a time")
        if dose_multiple(settings.strength) != dose_multiple(DEFAULT_STRENGTH):
            raise InputError(f"--strength applies to the networks; {method} takes --sigma")
        if settings.lung_strength is not None or settings.body_strength is not None:
            raise InputError(f"--strength-lung and --strength-body apply to the networks; {method} takes --sigma")
        self.name = str(method).lower()
        self._sigma_hu = settings.sigma_hu

    def noise_level(self, volume: Volume, source: str) -> NoiseLevel:
        if self._sigma_hu is not None:
            return NoiseLevel(self._sigma_hu, "given")
        require_soft_tissue(volume, source)
        return NoiseLevel(measure_sigma_hu(volume), "measured")

    def denoise(self, volume: Volume, monitor: Monitor, run: DenoiseRun) -> Volume:
        sigma = run.noise_level.sigma_hu if run.noise_level is not None else self._sigma_hu
        return denoise_volume_classical(volume, self.name, sigma_hu=sigma, monitor=monitor)

    def label(self, noise_level: NoiseLevel | None) -> str:
        return f"{self.name}, sigma {noise_level.sigma_hu:.1f} HU" if noise_level is not None else self.name

    def recipe(self) -> str:
        sigma = "measured" if self._sigma_hu is None else f"{self._sigma_hu:g} HU"
        return f"{self.name}, sigma {sigma}"


class NetworkDenoiser(Denoiser):
    """A trained network (`ipv2.denoise.inference`): a registered model's bundled weights or a
    checkpoint file, with a strength for the whole scan or one for the lung field and one for
    the body."""

    uses_device = True

    def __init__(self, model: str, settings: DenoiseSettings):
        for flag, value in (
            ("--strength", settings.strength),
            ("--strength-lung", settings.lung_strength),
            ("--strength-body", settings.body_strength),
        ):
            if value is not None:
                try:
                    dose_multiple(value)
                except InputError as error:
                    raise InputError(f"{flag}: {error}") from None
        if settings.batch_size is not None and settings.batch_size < 1:
            raise InputError(f"--batch {settings.batch_size} must be at least 1")
        if settings.sigma_hu is not None:
            raise InputError(
                f"--sigma applies to the classical methods ({', '.join(CLASSICAL_DENOISERS)}); "
                f"model {model} is a network and takes the noise level from the image itself"
            )
        self.name = model if model in NETWORKS else Path(model).stem
        self._model = model
        self._settings = settings
        self._regions = region_strengths(settings.strength, settings.lung_strength, settings.body_strength)
        self._loaded: LoadedModel | None = None

    def load(self) -> None:
        self._loaded_model()

    def _loaded_model(self) -> LoadedModel:
        if self._loaded is None:
            self._loaded = resolve_model(self._model)
        return self._loaded

    def require_device(self, device: str) -> None:
        resolve_device(device)

    def denoise(self, volume: Volume, monitor: Monitor, run: DenoiseRun) -> Volume:
        settings = self._settings
        return denoise_volume(
            volume,
            model=self._loaded_model(),
            device=run.device,
            monitor=monitor,
            batch_size=settings.batch_size,
            strength=settings.strength,
            lung_strength=settings.lung_strength,
            body_strength=settings.body_strength,
            # only region-aware strengths look for the lung field, and then in masks already computed
            lung_field=lung_field_of(run.masks) if run.masks is not None and self._regions is not None else None,
        )

    def label(self, noise_level: NoiseLevel | None) -> str:
        if self._regions is None:
            return f"{self.name}, strength {self._settings.strength}"
        return f"{self.name}, strength lung {self._regions[0]} body {self._regions[1]}"

    def recipe(self) -> str:
        model = self._model if self._model in NETWORKS else str(Path(self._model).resolve())
        lung, body = (dose_multiple(value) for value in self._regions or (self._settings.strength,) * 2)
        if lung == body:
            return f"{model}, strength {lung:g}"
        return f"{model}, strength lung {lung:g} body {body:g}"
