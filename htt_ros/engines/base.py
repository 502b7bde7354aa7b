"""The interface every backend implements: run one of the model folder's graphs.

A model folder holds two graphs (see model.json): ``pose_step`` (ResNet + P for one new frame)
and ``action`` (A over the last T tokens). A backend turns each into a :class:`GraphRunner`;
the streaming pipeline only ever talks to runners, so it is the same code on every backend.
"""

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from htt_ros.errors import UserError


@dataclass(frozen=True)
class TensorSpec:
    """Name, shape and numpy dtype of one graph input or output (static shapes only)."""

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype


class GraphRunner(Protocol):
    """One loaded graph, ready to run on host numpy arrays."""

    backend: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run once. ``feeds`` maps every input name to an array of its spec's shape and dtype;
        returns every output by name as host arrays (owned by the caller)."""
        ...


class EngineError(UserError, RuntimeError):
    """A graph cannot be loaded or run; the message names the file, the cause and the fix."""


def check_feeds(inputs: tuple[TensorSpec, ...], feeds: dict[str, np.ndarray], graph: str) -> None:
    """Raise EngineError unless ``feeds`` holds exactly ``inputs`` with their shapes and dtypes."""
    expected = {spec.name for spec in inputs}
    if set(feeds) != expected:
        raise EngineError(
            f"{graph}: inputs {sorted(feeds)} given, the graph takes {sorted(expected)}"
        )
    for spec in inputs:
        array = feeds[spec.name]
        if array.shape != spec.shape or array.dtype != spec.dtype:
            raise EngineError(
                f"{graph}: input '{spec.name}' must be {spec.dtype} {spec.shape}, "
                f"got {array.dtype} {array.shape}"
            )
