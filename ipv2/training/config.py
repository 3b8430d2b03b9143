"""Settings of one training run."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ipv2.contract import DEFAULT_DEVICE, DEFAULT_LOSS, DEFAULT_MODEL, LOSSES
from ipv2.device_names import require_device_name
from ipv2.errors import InputError, require_choice
from ipv2.input_checks import require_arch_args, require_context_slices
from ipv2.models.registry import build_model, model_spec


@dataclass
class TrainConfig:
    data: list[str]
    out: str
    model: str = DEFAULT_MODEL
    model_args: dict = field(default_factory=dict)
    val: list[str] = field(default_factory=list)
    steps: int | None = None
    epochs: float | None = None
    patch: int = 96
    batch: int = 16
    lr: float = 2e-4
    weight_decay: float = 1e-4
    warmup_steps: int = 0
    loss: str = DEFAULT_LOSS
    context_slices: int = 0
    seed: int = 0
    device: str = DEFAULT_DEVICE
    amp: bool = True
    checkpoint_every: int = 500
    val_every: int = 0
    val_slices: int = 16
    resume: bool = False
    half_weights: bool = False
    noise_conditioning: bool = False

    def checked(self) -> TrainConfig:
        model_spec(self.model)
        self.model = self.model.lower()
        # As the checkpoint record will hold them (JSON), so that a resumed run compares equal.
        self.model_args = json.loads(json.dumps(dict(self.model_args)))
        if not self.data:
            raise InputError("training data: give at least one --data path")
        if self.steps is not None and self.epochs is not None:
            raise InputError("give either --steps or --epochs, not both")
        if self.steps is not None and self.steps < 1:
            raise InputError(f"--steps {self.steps} must be at least 1")
        if self.epochs is not None and not self.epochs > 0:
            raise InputError(f"--epochs {self.epochs} must be positive")
        if not isinstance(self.seed, int) or not 0 <= self.seed < 2**32:
            raise InputError(f"--seed {self.seed} must be an integer from 0 to {2**32 - 1}")
        if self.patch < 16:
            raise InputError(f"--patch {self.patch} is too small; use at least 16 pixels")
        if self.batch < 1:
            raise InputError(f"--batch {self.batch} must be at least 1")
        if not self.lr > 0:
            raise InputError(f"--lr {self.lr} must be positive")
        require_choice(self.loss, LOSSES, "--loss")
        self.device = require_device_name(self.device, "--device")
        require_context_slices(self.context_slices)
        self._require_buildable_model()
        if self.checkpoint_every < 0 or self.val_every < 0:
            raise InputError("--checkpoint-every and --val-every must be 0 (never) or more")
        if self.warmup_steps < 0:
            raise InputError(f"warm-up steps {self.warmup_steps} must be 0 or more")
        if not str(self.out):
            raise InputError("--out: give the checkpoint file to write")
        return self

    def _require_buildable_model(self) -> None:
        """The architecture arguments checked, then the network built on the meta device
        (shapes only, no memory) so that inconsistent ones fail here, before any work."""
        import torch

        require_arch_args(self.model, self.model_args)
        try:
            with torch.device("meta"):
                build_model(
                    self.model,
                    in_channels=int(self.noise_conditioning) + 1 + 2 * self.context_slices,
                    **self.model_args,
                )
        except (TypeError, ValueError) as error:
            raise InputError(f"--model-arg: {self.model} cannot be built with {self.model_args} ({error})") from None

    def require_outputs_apart_from_data(self) -> None:
        """Refuses an --out whose model file or training state is one of the files training reads.

        Compared with the files `--data` and `--val` resolve to (the train_input and
        train_target inside a folder, both halves of a pair), not with the strings given.
        """
        from ipv2.io.atomic import is_same_file
        from ipv2.training.data import training_files

        outputs = (self.out_path, self.state_path)
        for source in training_files(list(self.data) + list(self.val)):
            for output in outputs:
                if is_same_file(output, source):
                    what = "" if output == self.out_path else f" (its training state {output})"
                    raise InputError(
                        f"--out {self.out}{what} would replace the training data file {source}; choose another --out"
                    )

    @property
    def out_path(self) -> Path:
        return Path(self.out)

    @property
    def state_path(self) -> Path:
        """The resumable training state written beside the model file."""
        return self.out_path.with_name(self.out_path.stem + ".train-state.pt")

    def to_dict(self) -> dict:
        return asdict(self)

    # Changing any of these between a run and its resumption would change the weights.
    RESUME_KEYS = (
        "model",
        "model_args",
        "patch",
        "batch",
        "lr",
        "weight_decay",
        "warmup_steps",
        "loss",
        "context_slices",
        "seed",
        "noise_conditioning",
    )
