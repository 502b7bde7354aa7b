"""Everything distributed in one place: torchrun set-up, seeds, rank-0 logging, gathering.

``torchrun --nproc-per-node N -m training.train ...`` (or ``python -m torch.distributed.run``)
sets RANK, WORLD_SIZE and LOCAL_RANK; without them the run is a single process. The backend is
NCCL on CUDA and gloo on CPU. Only rank 0 logs at INFO, shows progress bars, writes TensorBoard
and checkpoints; every rank computes, and evaluation results are gathered from all ranks.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import random
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import Sampler

from training.config import ConfigError

T = TypeVar("T")
LOG = logging.getLogger("training")


@dataclass(frozen=True)
class DistInfo:
    """This process's place in the run."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def init_distributed(device: str | None = None) -> DistInfo:
    """Join the torchrun process group if there is one and pick this rank's device.

    ``device`` is ``cpu``, ``cuda`` or None (CUDA when available). Raises ``ValueError`` when
    CUDA is asked for but absent.
    """
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device not in ("cpu", "cuda"):
        raise ValueError(f"--device {device!r}; allowed: ['cpu', 'cuda']")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda but torch sees no CUDA device; use --device cpu")
    rank = int(os.environ.get("RANK", 0))
    world_size = int(os.environ.get("WORLD_SIZE", 1))
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    dev = torch.device("cuda", local_rank) if device == "cuda" else torch.device("cpu")
    if device == "cuda":
        torch.cuda.set_device(dev)
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group(
            backend="nccl" if device == "cuda" else "gloo",
            rank=rank,
            world_size=world_size,
            timeout=timedelta(minutes=30),
        )
    return DistInfo(rank, world_size, local_rank, dev)


def run(device: str, job: Callable[[DistInfo], None]) -> None:
    """Set up this process's rank, run ``job`` with it, and always tear the group down."""
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: torch sees no CUDA device; use --device cpu")
    info = init_distributed(device)
    try:
        job(info)
    finally:
        cleanup()


def cleanup() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def barrier() -> None:
    if dist.is_initialized():
        dist.barrier()


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def setup_logging(info: DistInfo, log_file: Path | None = None) -> None:
    """INFO to stderr (and ``log_file``) on rank 0; warnings and errors only on other ranks."""
    LOG.handlers.clear()
    LOG.propagate = False
    LOG.setLevel(logging.INFO if info.is_main else logging.WARNING)
    prefix = f"[rank {info.rank}] " if info.distributed else ""
    fmt = logging.Formatter(f"%(asctime)s {prefix}%(levelname)s %(message)s", "%H:%M:%S")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None and info.is_main:
        handlers.append(logging.FileHandler(log_file))
    for handler in handlers:
        handler.setFormatter(fmt)
        LOG.addHandler(handler)


def all_gather_objects(obj: T) -> list[T]:
    """``obj`` of every rank, in rank order (``[obj]`` when not distributed)."""
    if not dist.is_initialized():
        return [obj]
    out: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """Sum of ``tensor`` over ranks (a new tensor; the input is left as it is)."""
    out = tensor.clone()
    if dist.is_initialized():
        dist.all_reduce(out, op=dist.ReduceOp.SUM)
    return out


def all_finite(value: torch.Tensor) -> bool:
    """True when ``value`` is finite on every rank (so all ranks stop together otherwise)."""
    flag = torch.isfinite(value.detach()).all().to(torch.int32).reshape(1)
    if dist.is_initialized():
        dist.all_reduce(flag, op=dist.ReduceOp.MIN)
    return bool(flag.item())


def shard(num_items: int, info: DistInfo) -> list[int]:
    """This rank's items ``rank, rank + world, ...`` of ``range(num_items)``; unlike
    ``DistributedSampler`` nothing is repeated, so gathered evaluation counts each item once."""
    return list(range(info.rank, num_items, info.world_size))


class EpochSampler(Sampler[int]):
    """Shuffled training items of one epoch for this rank, optionally a fresh random subset.

    Each epoch permutes ``range(num_items)`` with a generator seeded by ``seed + epoch`` (the
    same on every rank), keeps the first ``per_epoch`` items (0: all of them), wraps around to a
    multiple of the world size and yields this rank's share ``rank, rank + world, ...``. With
    ``per_epoch=0`` the order is exactly ``DistributedSampler(shuffle=True)``'s.
    """

    def __init__(self, num_items: int, info: DistInfo, seed: int = 0, per_epoch: int = 0) -> None:
        if per_epoch < 0:
            raise ValueError(f"per_epoch must be >= 0, got {per_epoch}")
        self.num_items = num_items
        self.info = info
        self.seed = seed
        self.epoch = 0
        drawn = min(per_epoch, num_items) if per_epoch else num_items
        self.num_samples = math.ceil(drawn / info.world_size)
        self.drawn = drawn

    def set_epoch(self, epoch: int) -> None:
        """Select the permutation (and subset) of ``epoch``."""
        self.epoch = epoch

    def __len__(self) -> int:
        return self.num_samples

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator()
        generator.manual_seed(self.seed + self.epoch)
        order = torch.randperm(self.num_items, generator=generator).tolist()[: self.drawn]
        total = self.num_samples * self.info.world_size
        if order:
            order = (order * math.ceil(total / len(order)))[:total]
        return iter(order[self.info.rank : total : self.info.world_size])


def parameter_digest(module: torch.nn.Module) -> str:
    """sha256 of ``module``'s parameters (names and bytes, in order)."""
    digest = hashlib.sha256()
    for name, tensor in module.named_parameters():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


def check_in_sync(module: torch.nn.Module) -> str:
    """Digest of ``module``'s parameters, after checking that every rank holds the same ones
    (DDP keeps them equal; a difference means a rank diverged). Buffers are left out: with
    training-mode batch-norm each rank's running statistics follow its own batches, and rank 0's,
    which DDP broadcasts before every forward pass, are the ones saved. Raises ``RuntimeError``."""
    digests = all_gather_objects(parameter_digest(module))
    if len(set(digests)) != 1:
        raise RuntimeError(f"ranks hold different weights: sha256 per rank {digests}")
    return digests[0]


def broadcast_buffers(module: torch.nn.Module) -> None:
    """Copy rank 0's buffers (batch-norm running statistics) to every rank, so that all ranks
    evaluate the network the checkpoint holds."""
    if dist.is_initialized():
        for buffer in module.buffers():
            dist.broadcast(buffer, src=0)


def rng_state() -> dict[str, Any]:
    """This process's RNG states as plain lists (checkpoint-safe without pickle)."""
    version, mt, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    state: dict[str, Any] = {
        "python": [version, list(mt), gauss],
        "numpy": [name, keys.tolist(), pos, has_gauss, cached],
        "torch": torch.get_rng_state().tolist(),
    }
    if torch.cuda.is_available():
        state["cuda"] = [s.tolist() for s in torch.cuda.get_rng_state_all()]
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Inverse of :func:`rng_state`."""
    version, mt, gauss = state["python"]
    random.setstate((version, tuple(mt), gauss))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(torch.tensor(state["torch"], dtype=torch.uint8))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([torch.tensor(s, dtype=torch.uint8) for s in state["cuda"]])
