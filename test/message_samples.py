"""One fully populated instance of every htt_ros message, and a field-by-field comparison."""

import array
import math
from typing import Any

from builtin_interfaces.msg import Time
from geometry_msgs.msg import Point
from std_msgs.msg import Header

from htt_ros.msg import Action, ClassScore, Hand, HandLabels, HandPoses, ObjectClass, Pixel
from htt_ros.skeleton import BONES, JOINT_NAMES


def _hand(side: int, offset: float) -> Hand:
    return Hand(
        side=side,
        joints_3d=[Point(x=offset + 0.01 * j, y=-0.02 * j, z=0.4 + 0.003 * j) for j in range(21)],
        joints_2d=[Pixel(x=100.5 + 3.25 * j + offset, y=200.25 - 1.5 * j) for j in range(21)],
        in_view_fraction=0.75,
    )


def samples() -> dict[str, Any]:
    """Message type name -> a sample with every field set to a non-default value."""
    header = Header(stamp=Time(sec=1_700_000_123, nanosec=456_789_000), frame_id="cam_optical")
    probabilities = [0.05, 0.7, 0.25]
    top_k = [
        ClassScore(class_id=7, label="pour milk", score=0.625),
        ClassScore(class_id=3, label="open milk", score=0.25),
    ]
    return {
        "Pixel": Pixel(x=12.5, y=-3.75),
        "ClassScore": top_k[0],
        "Hand": _hand(Hand.RIGHT, 0.0),
        "ObjectClass": ObjectClass(
            class_id=1, name="milk", confidence=0.7, probabilities=probabilities
        ),
        "HandPoses": HandPoses(
            header=header,
            image_width=1280,
            image_height=720,
            hands=[_hand(Hand.LEFT, -0.1), _hand(Hand.RIGHT, 0.1)],
            object=ObjectClass(
                class_id=1, name="milk", confidence=0.7, probabilities=probabilities
            ),
            complete_window=True,
            window_frames=16,
            lag_frames=2,
        ),
        "Action": Action(
            header=header,
            window_start=Time(sec=1_700_000_115, nanosec=1_000),
            window_frames=128,
            class_id=7,
            label="pour milk",
            verb="pour",
            noun="milk",
            confidence=0.625,
            top_k=top_k,
        ),
        "HandLabels": HandLabels(
            header=header,
            model_name="h2o_demo",
            dataset="h2o",
            action_labels=["open milk", "pour milk"],
            action_verbs=["open", "pour"],
            action_nouns=["milk", "milk"],
            object_names=["book", "milk", "chips"],
            hands=[Hand.LEFT, Hand.RIGHT],
            joint_names=list(JOINT_NAMES),
            bone_parents=[p for p, _ in BONES],
            bone_children=[c for _, c in BONES],
            pose_window=16,
            action_window=128,
            model_rate_hz=15.0,
        ),
    }


def differences(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Every field where ``actual`` differs from ``expected`` (float32 fields within 1e-6)."""
    if hasattr(expected, "get_fields_and_field_types"):
        if type(expected) is not type(actual):
            return [f"{path}: type {type(actual).__name__} != {type(expected).__name__}"]
        found = []
        for field in expected.get_fields_and_field_types():
            found += differences(
                getattr(expected, field), getattr(actual, field), f"{path}.{field}"
            )
        return found
    if isinstance(expected, list | tuple | array.array) or hasattr(expected, "tolist"):
        expected, actual = list(expected), list(actual)
        if len(expected) != len(actual):
            return [f"{path}: length {len(actual)} != {len(expected)}"]
        found = []
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            found += differences(e, a, f"{path}[{i}]")
        return found
    if isinstance(expected, float):
        same = math.isclose(expected, actual, rel_tol=1e-6, abs_tol=1e-6)
        return [] if same else [f"{path}: {actual!r} != {expected!r}"]
    return [] if expected == actual else [f"{path}: {actual!r} != {expected!r}"]
