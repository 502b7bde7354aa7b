"""The HTT network in PyTorch (torch is imported only here and in :mod:`htt_ros.export`)."""

from htt_ros.model.checkpoint import (
    CheckpointError,
    LoadedCheckpoint,
    load_checkpoint,
    load_network,
    save_checkpoint,
)
from htt_ros.model.config import HTTConfig
from htt_ros.model.htt import HTT

__all__ = [
    "HTT",
    "CheckpointError",
    "HTTConfig",
    "LoadedCheckpoint",
    "load_checkpoint",
    "load_network",
    "save_checkpoint",
]
