"""The training loop: patches, AdamW with a cosine schedule, checkpoints, validation, resume."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel

from ipv2.contract import DEFAULT_TRAIN_STEPS
from ipv2.errors import Cancelled, InputError, TrainingDiverged
from ipv2.models.checkpoint import model_record, read_checkpoint, save_checkpoint, save_training_state
from ipv2.models.conditioning import NOISE_SCALE_HU
from ipv2.models.normalization import Normalization
from ipv2.models.registry import build_model
from ipv2.progress import Monitor
from ipv2.training.config import TrainConfig
from ipv2.training.data import PatchSampler, data_summary, load_pairs
from ipv2.training.distributed import DistributedContext, all_finite, barrier, setup_distributed, teardown_distributed
from ipv2.training.losses import make_loss
from ipv2.training.validation import validate_model

log = logging.getLogger(__name__)
LOSS_WINDOW = 50


@dataclass
class TrainResult:
    out: str | None
    steps: int
    losses: list[float] = field(default_factory=list)
    validation: dict | None = None


def cosine_with_warmup(total_steps: int, warmup_steps: int):
    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    return factor


def total_steps(config: TrainConfig, sampler: PatchSampler, world_size: int) -> int:
    if config.steps is not None:
        return int(config.steps)
    if config.epochs is not None:
        per_epoch = math.ceil(sampler.patches_per_epoch() / (config.batch * world_size))
        return max(1, int(math.ceil(config.epochs * per_epoch)))
    return DEFAULT_TRAIN_STEPS


def _amp_dtype(device: torch.device, enabled: bool) -> torch.dtype | None:
    if not enabled or device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def _rng_state(device: torch.device) -> dict[str, Any]:
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _restore_rng(state: dict, device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state_all(state["cuda"])


def _check_resumable(config: TrainConfig, record: dict, steps: int) -> None:
    saved = record.get("training", {}).get("config", {})
    changed = [key for key in TrainConfig.RESUME_KEYS if saved.get(key) != getattr(config, key)]
    if record.get("training", {}).get("total_steps") != steps:
        changed.append("steps/epochs")
    if changed:
        raise InputError(
            f"--resume: the saved run differs in {', '.join(changed)}; resume with the same "
            "settings or start a new run without --resume"
        )


class Trainer:
    def __init__(
        self,
        config: TrainConfig,
        context: DistributedContext,
        monitor: Monitor,
        on_step: Callable[[int, int, float], None] | None = None,
    ):
        self.config = config
        self.on_step = on_step
        self.context = context
        self.monitor = monitor
        self.device = context.device
        self.pairs = load_pairs(config.data, monitor=monitor)
        self.val_pairs = load_pairs(config.val, "validation data", monitor=monitor) if config.val else []
        kind = self.pairs[0].kind
        if self.val_pairs and self.val_pairs[0].kind != kind:
            raise InputError("validation data: not the same kind (HU volumes or 8-bit PNG) as the training data")
        self.normalization = Normalization.for_kind(kind)
        self.sampler = PatchSampler(
            self.pairs,
            config.patch,
            self.normalization,
            config.context_slices,
            config.seed,
            noise_conditioning=config.noise_conditioning,
        )
        self.noise_scale_hu = NOISE_SCALE_HU if config.noise_conditioning else None
        self.total_steps = total_steps(config, self.sampler, context.world_size)
        torch.manual_seed(config.seed)
        self.model = build_model(
            config.model,
            in_channels=int(config.noise_conditioning) + 1 + 2 * config.context_slices,
            **config.model_args,
        ).to(self.device)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, cosine_with_warmup(self.total_steps, config.warmup_steps)
        )
        self.amp_dtype = _amp_dtype(self.device, config.amp)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)
        self.loss_fn = make_loss(config.loss)
        self.step = 0
        self.updating = False  # within optimiser, scaler and schedule updates: weights half-changed
        self.losses: list[float] = []
        self.validation: dict | None = None
        if config.resume:
            self._resume()
        self.start_step = self.step  # a cancel before any new step has nothing new to save
        self.network = (
            DistributedDataParallel(self.model, device_ids=[self.device.index] if self.device.type == "cuda" else None)
            if context.distributed
            else self.model
        )

    def _record(self) -> dict:
        config = self.config
        training = {
            "config": {key: getattr(config, key) for key in TrainConfig.RESUME_KEYS},
            "steps": self.step,
            "total_steps": self.total_steps,
            "world_size": self.context.world_size,
            "device": self.device.type,
            "amp": str(self.amp_dtype).replace("torch.", "") if self.amp_dtype else None,
            "recent_loss": float(np.mean(self.losses[-LOSS_WINDOW:])) if self.losses else None,
        }
        return model_record(
            config.model,
            dict(config.model_args),
            self.normalization,
            config.context_slices,
            noise_scale_hu=self.noise_scale_hu,
            data=data_summary(self.pairs),
            training=training,
            validation=self.validation,
        )

    def _resume(self) -> None:
        path = self.config.state_path
        if not path.is_file():
            raise InputError(f"--resume: no training state {path} to resume from; run without --resume first")
        record, state_dict, training = read_checkpoint(path)
        if training is None:
            raise InputError(f"--resume: {path} is a model file, not a training state")
        _check_resumable(self.config, record, self.total_steps)
        self.model.load_state_dict(state_dict)
        self.optimizer.load_state_dict(training["optimizer"])
        self.scheduler.load_state_dict(training["scheduler"])
        self.scaler.load_state_dict(training["scaler"])
        _restore_rng(training["rng"], self.device)
        self.step = int(training["step"])
        self.losses = [float(v) for v in training["losses"]]
        self.validation = record.get("validation")
        log.info("resuming %s at step %d of %d", path, self.step, self.total_steps)

    def diverged(self, what: str) -> TrainingDiverged:
        return TrainingDiverged(
            f"training diverged at step {self.step}: {what}; no model was saved. Start again "
            f"with a lower --lr (now {self.config.lr:g}), or --loss l1"
        )

    def require_finite_weights(self) -> None:
        """Nothing non-finite is ever saved: a NaN model would denoise to NaN. Every process
        checks (their weights are equal), so that all stop together."""
        bad = [
            name
            for name, tensor in self.model.state_dict().items()
            if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all())
        ]
        if bad:
            raise self.diverged(f"{len(bad)} weight tensors hold NaN or infinite values")

    def save_state(self) -> None:
        self.require_finite_weights()
        if not self.context.is_main:
            return
        save_training_state(
            self.config.state_path,
            self.model.state_dict(),
            self._record(),
            {
                "step": self.step,
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "scaler": self.scaler.state_dict(),
                "rng": _rng_state(self.device),
                "losses": list(self.losses),
            },
        )

    def train_step(self) -> float:
        config, context = self.config, self.context
        input_patches, target_patches = self.sampler.batch(
            self.step, config.batch * context.world_size, start=context.rank * config.batch, size=config.batch
        )
        inputs = torch.from_numpy(input_patches).to(self.device, non_blocking=True)
        targets = torch.from_numpy(target_patches).to(self.device, non_blocking=True)
        self.network.train()
        with torch.autocast(
            self.device.type, dtype=self.amp_dtype or torch.float32, enabled=self.amp_dtype is not None
        ):
            loss = self.loss_fn(self.network(inputs).float(), targets)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.updating = True
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        return float(loss.detach())

    def run_validation(self) -> None:
        if self.val_pairs and self.context.is_main:
            self.validation = {
                "step": self.step,
                **validate_model(
                    self.model,
                    self.val_pairs,
                    self.normalization,
                    context_slices=self.config.context_slices,
                    device=self.device,
                    max_slices=self.config.val_slices,
                    noise_scale_hu=self.noise_scale_hu,
                ),
            }
            log.info("validation at step %d: %s", self.step, self.validation)
        barrier(self.context)

    def fit(self) -> TrainResult:
        config = self.config
        report = self.monitor.step if self.context.is_main else (lambda *_: self.monitor.check())
        report("train", self.step, self.total_steps)
        try:
            while self.step < self.total_steps:
                self.monitor.check()
                loss = self.train_step()
                self.step += 1
                self.updating = False  # the step is complete and counted
                # With float16 the gradient scaler skips steps whose loss overflowed; otherwise
                # a non-finite loss has already reached the weights.
                if not self.scaler.is_enabled() and not all_finite(self.context, loss):
                    raise self.diverged(f"the loss is {loss}")
                self.losses.append(loss)
                if self.on_step is not None and self.context.is_main:
                    self.on_step(self.step, self.total_steps, self.losses[-1])
                if config.checkpoint_every and self.step % config.checkpoint_every == 0:
                    self.save_state()
                if config.val_every and self.step % config.val_every == 0 and self.step < self.total_steps:
                    self.run_validation()
                report("train", self.step, self.total_steps)
        except Cancelled:
            # Keep what was learned: `--resume` continues from this very step.
            if self.step > self.start_step:
                self.save_state()
            raise
        except KeyboardInterrupt:
            # A cancel too. Outside the weight update the weights are those after self.step steps
            # and saving them resumes exactly; within it they are half-changed, so the last
            # periodic state is the one to resume from.
            if self.updating:
                raise Cancelled(f"interrupted within step {self.step + 1}") from None
            if self.step > self.start_step:
                self.save_state()
            raise Cancelled(f"interrupted after step {self.step}") from None
        self.run_validation()
        self.save_state()
        self.require_finite_weights()
        if self.context.is_main:
            save_checkpoint(config.out_path, self.model.state_dict(), self._record(), half=config.half_weights)
        barrier(self.context)
        return TrainResult(
            out=str(config.out_path), steps=self.step, losses=list(self.losses), validation=self.validation
        )


def train(
    config: TrainConfig, monitor: Monitor | None = None, on_step: Callable[[int, int, float], None] | None = None
) -> TrainResult:
    """Trains a model as configured; writes the model file and a resumable training state.

    Progress goes to `monitor` (stage "train", then "validate"); cancelling it, or
    KeyboardInterrupt between weight updates, saves the training state at the current step
    and raises Cancelled. `on_step(step, total, loss)`
    receives each step's training loss.
    """
    config.checked()
    config.require_outputs_apart_from_data()
    monitor = monitor or Monitor()
    context = setup_distributed(config.device)
    try:
        return Trainer(config, context, monitor, on_step).fit()
    finally:
        teardown_distributed(context)
