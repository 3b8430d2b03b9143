"""`ipv2 train`'s work: a denoiser trained on purified pairs (`ipv2.training`), resumable.

A run refuses to start over the training state of an earlier run unless told to continue it
(--resume) or replace it (--overwrite); a cancelled run says what it kept and how to resume.
Under torchrun one rank prints the summary.
"""

from __future__ import annotations

import json
import os
import sys

from ipv2.contract import EXIT_CANCELLED
from ipv2.errors import Cancelled, InputError
from ipv2.io.atomic import require_new_outputs
from ipv2.progress import PROGRESS_PREFIX, MonitorFactory
from ipv2.training import TrainConfig, train

# What the command line builds a run's configuration with, besides the run itself.
__all__ = ["TrainConfig", "train_model"]


def train_model(
    config: TrainConfig, open_monitor: MonitorFactory, *, overwrite: bool = False, json_progress: bool = False
) -> int:
    """Trains as `config` says, writing its checkpoint; the exit status. `json_progress`: each
    step's loss as a progress record too."""
    config.require_outputs_apart_from_data()
    # A resumed run replaces the model file of the run it continues.
    require_new_outputs([config.out], overwrite=overwrite or config.resume)
    if config.state_path.exists() and not (config.resume or overwrite):
        raise InputError(
            f"--out {config.out}: the training state {config.state_path} of an earlier run exists; "
            "continue that run with --resume, or give --overwrite to start again"
        )
    with open_monitor() as monitor:
        try:
            result = train(config, monitor, on_step=_report_loss if json_progress else None)
        except (Cancelled, KeyboardInterrupt):
            _report_cancel(config)
            return EXIT_CANCELLED
    summary = {
        "out": result.out,
        "steps": result.steps,
        "final_loss": sum(result.losses[-50:]) / max(1, len(result.losses[-50:])),
        "validation": result.validation,
    }
    if int(os.environ.get("RANK", "0")) == 0:  # under torchrun, one summary
        print(json.dumps(summary))
    return 0


def _report_loss(step: int, total: int, loss: float) -> None:
    """A step's loss as a progress record that also carries `loss`."""
    print(PROGRESS_PREFIX + json.dumps({"stage": "train", "done": step, "total": total, "loss": loss}), flush=True)


def _report_cancel(config: TrainConfig) -> None:
    """Says what a cancelled run kept: the training state and how to resume from it, or nothing."""
    state = config.state_path
    if state.is_file():
        print(
            f"ipv2 train: cancelled; the training state is saved in {state} ({state.stat().st_size:,} bytes); "
            "run the same command with --resume to continue",
            file=sys.stderr,
        )
    else:
        print("ipv2 train: cancelled before the first step; nothing was written", file=sys.stderr)
