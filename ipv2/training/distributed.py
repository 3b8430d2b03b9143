"""One code path for one process or many: `torchrun` sets WORLD_SIZE, RANK and LOCAL_RANK.

Each process trains on its share of every global batch; DistributedDataParallel averages
the gradients, so N processes with batch B follow the same schedule as one with N x B.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ipv2.contract import DEFAULT_DEVICE
from ipv2.device import resolve_device


@dataclass(frozen=True)
class DistributedContext:
    world_size: int
    rank: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def setup_distributed(device_name: str = DEFAULT_DEVICE) -> DistributedContext:
    """Joins the process group when launched by torchrun; a single process otherwise."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    device = resolve_device(device_name)
    if world_size <= 1:
        return DistributedContext(1, 0, 0, device)
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return DistributedContext(world_size, rank, local_rank, device)


def teardown_distributed(context: DistributedContext) -> None:
    if context.distributed and dist.is_initialized():
        dist.destroy_process_group()


def barrier(context: DistributedContext) -> None:
    if context.distributed:
        dist.barrier()


def all_finite(context: DistributedContext, value: float) -> bool:
    """Whether `value` is finite in every process: all of them then stop together, none left
    waiting in the next gradient exchange for one that stopped."""
    finite = bool(torch.isfinite(torch.tensor(value)))
    if not context.distributed:
        return finite
    flag = torch.tensor([0.0 if finite else 1.0], device=context.device)
    dist.all_reduce(flag, op=dist.ReduceOp.MAX)
    return bool(flag.item() == 0.0)
