"""A small hand-made model card, and pose/action results stamped with a source image header."""

import numpy as np
from builtin_interfaces.msg import Time
from std_msgs.msg import Header

from htt_ros.labels import Action, LabelSet
from htt_ros.model_card import Decoding, GraphSpec, ModelCard
from htt_ros.skeleton import BONES, JOINT_NAMES
from htt_ros.streaming.results import ActionResult, FrameRef, PoseResult

ACTIONS = (
    Action("open milk", "open", "milk"),
    Action("pour milk", "pour", "milk"),
    Action("read book", "read", "book"),
)
OBJECTS = ("book", "milk", "chips")


def make_card(hands: tuple[str, ...] = ("left", "right")) -> ModelCard:
    """A card with 21 joints per hand in ``hands`` (the model files themselves do not exist)."""
    joints = 21 * len(hands)
    return ModelCard(
        dataset="tiny",
        num_joints=joints,
        hands=hands,
        joint_names=tuple(f"{hand}_{name}" for hand in hands for name in JOINT_NAMES),
        bones=tuple((a + 21 * h, b + 21 * h) for h in range(len(hands)) for a, b in BONES),
        labels=LabelSet("tiny", ACTIONS, OBJECTS, num_joints=joints),
        window=16,
        clip_length=128,
        frame_rate_hz=15.0,
        input_width=480,
        input_height=270,
        normalisation={},
        shrink="area",
        decoding=Decoding(1.0, 1.0, 0.4, (480, 270)),
        graphs={
            "pose_step": GraphSpec("pose_step.onnx", "0" * 64, (), ()),
            "action": GraphSpec("action.onnx", "0" * 64, (), ()),
        },
        provenance={},
    )


def header(sec: int = 1_700_000_123, nanosec: int = 456_789_000) -> Header:
    return Header(stamp=Time(sec=sec, nanosec=nanosec), frame_id="cam_optical")


def pose_result(card: ModelCard, tag: Header | None = None) -> PoseResult:
    """Joint ``j`` of hand ``h`` at pixel (20 + 4j + 60h, 30 + 2j), at (0.01j - 0.1 + 0.2h,
    -0.005j, 0.4 + 0.001j) m; object "milk" at 0.7."""
    j = np.arange(card.num_joints) % 21
    h = np.arange(card.num_joints) // 21
    joints2d = np.stack([20 + 4 * j + 60 * h, 30 + 2 * j], axis=1).astype(np.float32)
    joints3d = np.stack([0.01 * j - 0.1 + 0.2 * h, -0.005 * j, 0.4 + 0.001 * j], axis=1)
    return PoseResult(
        frame=FrameRef(stamp_ns=0, tag=header() if tag is None else tag),
        joints2d=joints2d,
        joints3d=joints3d.astype(np.float32),
        object_probs=np.array([0.2, 0.7, 0.1], np.float32),
        complete_window=True,
        window_frames=16,
        lag_frames=2,
    )


def action_result(smoothed: list[float] | None = None) -> ActionResult:
    """Window from header(100) to header(108, 5); "pour milk" at 0.6 unless ``smoothed``."""
    scores = np.array([0.3, 0.6, 0.1] if smoothed is None else smoothed, np.float32)
    return ActionResult(
        newest=FrameRef(stamp_ns=108_000_000_005, tag=header(108, 5)),
        first=FrameRef(stamp_ns=100_000_000_000, tag=header(100, 0)),
        window_frames=128,
        probs=scores[::-1].copy(),
        smoothed=scores,
    )
