"""Network configuration of HTT and its FPHA / H2O presets (authors' train.py defaults)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from htt_ros.labels import get_label_set


@dataclass(frozen=True)
class HTTConfig:
    """Sizes of one HTT network.

    Parameters:
        num_joints: joints per frame, 21 (one hand, FPHA) or 42 (left then right hand, H2O).
        num_objects: object classes (FPHA 26, H2O 8).
        num_actions: action classes (FPHA 45, H2O 36).
        window: t, frames per block-P window (16).
        clip_length: T, frames per block-A sequence (128); a multiple of ``window``.
        d_model, num_heads, dim_feedforward: transformer width (512, 8 heads of 64, FF 2048).
        pose_layers, action_layers: encoder layers of block P and block A (2 each).
    """

    num_joints: int = 21
    num_objects: int = 26
    num_actions: int = 45
    window: int = 16
    clip_length: int = 128
    d_model: int = 512
    num_heads: int = 8
    dim_feedforward: int = 2048
    pose_layers: int = 2
    action_layers: int = 2

    def __post_init__(self) -> None:
        if self.num_joints not in (21, 42):
            raise ValueError(f"num_joints must be 21 or 42, got {self.num_joints}")
        if self.clip_length % self.window:
            raise ValueError(
                f"clip_length T={self.clip_length} must be a multiple of window t={self.window}"
            )
        if self.d_model % self.num_heads:
            raise ValueError(f"d_model {self.d_model} not divisible by {self.num_heads} heads")

    @classmethod
    def for_dataset(cls, name: str, **overrides: Any) -> HTTConfig:
        """Preset for ``fpha`` or ``h2o``; ``overrides`` replace fields (e.g. ``clip_length``)."""
        labels = get_label_set(name)
        base = {
            "num_joints": labels.num_joints,
            "num_objects": len(labels.objects),
            "num_actions": len(labels.actions),
        }
        return cls(**{**base, **overrides})

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HTTConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError``."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown HTTConfig fields {unknown}; known fields: {sorted(known)}")
        return cls(**{k: int(v) for k, v in data.items()})
