"""What int8 costs in accuracy: fp32 and int8 side by side on the same held-out frames.

Both models run the streaming pipeline as the node does (sliding windows, every frame
processed, A every ``ACTION_STRIDE`` tokens); their poses are paired by frame and their A runs
by order. The result is the model card's :class:`~htt_ros.model_card.Quantization` numbers.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from htt_ros.engines.frame_sources import SourceFrame
from htt_ros.engines.loader import LoadedModel
from htt_ros.model_card import HandChange
from htt_ros.streaming.pipeline import StreamingConfig, StreamingPipeline
from htt_ros.streaming.results import StepOutput

ACTION_STRIDE = 8  # the node's default


@dataclass
class Outputs:
    """One model's outputs over the held-out frames, in frame order."""

    joints2d: list[np.ndarray] = field(default_factory=list)  # (J, 2) image pixels
    joints3d: list[np.ndarray] = field(default_factory=list)  # (J, 3) metres
    objects: list[int] = field(default_factory=list)
    actions: list[int] = field(default_factory=list)

    def add(self, out: StepOutput) -> None:
        for pose in out.poses:
            self.joints2d.append(pose.joints2d)
            self.joints3d.append(pose.joints3d)
            self.objects.append(int(pose.object_probs.argmax()))
        self.actions += [int(a.probs.argmax()) for a in out.actions]


def run_models(models: list[LoadedModel], frames: Iterable[SourceFrame]) -> list[Outputs]:
    """Each model's outputs over ``frames`` (read once, pushed to every model in turn)."""
    config = StreamingConfig(action_stride=ACTION_STRIDE, action_smoothing=1, rate_hz=0.0)
    pipelines = [StreamingPipeline(m.card, m.pose_step, m.action, config) for m in models]
    outputs = [Outputs() for _ in models]
    for frame in frames:
        for pipeline, out in zip(pipelines, outputs, strict=True):
            out.add(pipeline.push(frame.rgb, frame.stamp_ns, frame.k))
    for pipeline, out in zip(pipelines, outputs, strict=True):
        out.add(pipeline.flush())
    return outputs


def _change(distances: np.ndarray, scale: float, unit: str) -> dict[str, float]:
    return {
        f"mean_{unit}": scale * float(distances.mean()),
        f"p95_{unit}": scale * float(np.percentile(distances, 95)),
        f"max_{unit}": scale * float(distances.max()),
    }


def compare(reference: Outputs, other: Outputs, hands: tuple[str, ...]) -> dict:
    """Per-hand joint changes, their mean over all hands (``joint_change_mm``) and the top-1
    agreements of ``other`` against ``reference``."""
    if not reference.joints3d:
        raise ValueError("no poses to compare: the held-out frames gave none")
    d3 = np.linalg.norm(np.stack(other.joints3d) - np.stack(reference.joints3d), axis=-1)
    d2 = np.linalg.norm(np.stack(other.joints2d) - np.stack(reference.joints2d), axis=-1)
    per_hand = d3.shape[1] // len(hands)
    changes = {}
    for h, name in enumerate(hands):
        joints = slice(h * per_hand, (h + 1) * per_hand)
        changes[name] = HandChange(
            **_change(d3[:, joints], 1000.0, "mm"), **_change(d2[:, joints], 1.0, "px")
        )
    actions = len(reference.actions)
    return {
        "joint_change_mm": 1000.0 * float(d3.mean()),
        "hands": changes,
        "object_agreement": float(np.mean(np.equal(reference.objects, other.objects))),
        "action_agreement": float(np.mean(np.equal(reference.actions, other.actions)))
        if actions
        else None,
    }
