"""Multi-process training under ``torchrun``: process-group setup and gathering embeddings across processes.

Every process embeds its share of a global batch; :func:`gather_with_grad` concatenates all shares so the loss
sees the whole global batch (every process's names are negatives for the others). Only the local share carries
gradient; since DistributedDataParallel averages gradients over processes, the trainer multiplies the loss by the
world size, which makes the summed gradient exactly that of one process training on the whole global batch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class ProcessGroup:
    """This process's place in the run: ``rank`` of ``world_size`` processes (1 without torchrun)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """True for the process that evaluates, logs and writes files."""
        return self.rank == 0

    @property
    def active(self) -> bool:
        """True when several processes train together."""
        return self.world_size > 1


def join_from_environment(device: torch.device) -> ProcessGroup:
    """Join the process group that ``torchrun`` describes in the environment (NCCL on GPU, gloo on CPU).

    Returns a single-process group when ``WORLD_SIZE`` is unset or 1.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return ProcessGroup()
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", rank=rank, world_size=world_size)
    return ProcessGroup(rank, world_size, local_rank)


def gather_with_grad(local: torch.Tensor, group: ProcessGroup) -> torch.Tensor:
    """Return all processes' ``local`` tensors concatenated in rank order; gradient flows into this rank's part."""
    if not group.active:
        return local
    parts = [torch.empty_like(local) for _ in range(group.world_size)]
    dist.all_gather(parts, local.contiguous())
    parts[group.rank] = local
    return torch.cat(parts)


def barrier(group: ProcessGroup) -> None:
    """Wait for every process (no-op in a single process)."""
    if group.active:
        dist.barrier()


def leave(group: ProcessGroup) -> None:
    """Destroy the process group at the end of a multi-process run."""
    if group.active and dist.is_initialized():
        dist.destroy_process_group()
