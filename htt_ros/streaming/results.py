"""What the pipeline emits, as plain data (the ROS node turns these into messages)."""

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class FrameRef:
    """The frame a result describes: its stamp and whatever the caller attached (a ROS header)."""

    stamp_ns: int
    tag: Any = None


@dataclass(frozen=True)
class PoseResult:
    """Hands and object for one processed frame.

    ``joints2d (J, 2)`` pixels of the original image, ``joints3d (J, 3)`` metres in the camera
    optical frame, ``object_probs (O,)``; ``window_frames`` valid frames were in the pose window,
    ``complete_window`` when that is the full t; ``lag_frames`` newer frames were in it.
    """

    frame: FrameRef
    joints2d: np.ndarray
    joints3d: np.ndarray
    object_probs: np.ndarray
    complete_window: bool
    window_frames: int
    lag_frames: int


@dataclass(frozen=True)
class ActionResult:
    """The action over the last ``window_frames`` processed frames, ``first`` to ``newest``.

    ``probs (A,)`` is this window's softmax; ``smoothed (A,)`` the mean over the recent windows
    (the paper's voting across clips), which is what to report.
    """

    newest: FrameRef
    first: FrameRef
    window_frames: int
    probs: np.ndarray
    smoothed: np.ndarray


@dataclass
class StepOutput:
    """Everything one pushed frame produced."""

    selected: bool = False
    reset_reason: str | None = None
    poses: list[PoseResult] = field(default_factory=list)
    actions: list[ActionResult] = field(default_factory=list)
