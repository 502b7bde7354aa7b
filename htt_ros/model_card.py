"""The model card ``model.json`` of a model folder: what the two ONNX graphs are and how to use.

Written by ``htt-export`` next to ``pose_step.onnx`` and ``action.onnx``; read by the streaming
pipeline and the node. Standard library only (no numpy, no torch).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from htt_ros.errors import UserError
from htt_ros.labels import LabelSet

MODEL_CARD_NAME = "model.json"
SHRINKS = ("area", "bilinear")  # how a camera frame is shrunk (htt_ros.streaming.preprocess)
# 2: decoding.frame replaced decoding.centre; 3: pose_step places the new frame at the last valid
# position (one ResNet pass per frame while a window fills), and shrink
FORMAT_VERSION = 3


class ModelCardError(UserError, ValueError):
    """A model folder or its ``model.json`` is missing, malformed or does not match its files."""


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class TensorSpec:
    """Name, numpy dtype (``uint8``, ``float32``, ``bool``) and static shape of a graph I/O."""

    name: str
    dtype: str
    shape: tuple[int, ...]


@dataclass(frozen=True)
class GraphSpec:
    """One ONNX file of the folder and its inputs/outputs."""

    file: str
    sha256: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]


@dataclass(frozen=True)
class Decoding:
    """Constants of the 2.5D decoding (see :mod:`htt_ros.geometry`); ``frame`` is the ``(W, H)``
    pixel frame the pose head predicts in (480x270 for every HTT model, whatever its input
    size): scale the camera intrinsics to it, decode, and scale the 2D joints back."""

    trans_factor: float
    scale_factor: float
    off_z: float
    frame: tuple[int, int]


@dataclass(frozen=True)
class HandChange:
    """How far int8 moves one hand's joints from fp32 over the held-out frames: 3D in mm and 2D
    in image pixels, mean, 95th percentile and worst over every joint of every frame."""

    mean_mm: float
    p95_mm: float
    max_mm: float
    mean_px: float
    p95_px: float
    max_px: float


@dataclass(frozen=True)
class Quantization:
    """What int8 costs in accuracy against fp32, measured by htt-quantize on held-out frames.

    Parameters:
        joint_change_mm: mean 3D change of every joint of every hand.
        hands: each hand of ``ModelCard.hands``'s :class:`HandChange`.
        object_agreement: fraction of poses whose top-1 object is fp32's.
        action_agreement: fraction of A runs whose top-1 action is fp32's (None: A never ran).
        choice: the quantizer setting (``htt-quantize --choice``).
        calibration, held_out: each a ``{"source": ..., "frames": n}``.
    """

    joint_change_mm: float
    hands: dict[str, HandChange]
    object_agreement: float
    action_agreement: float | None
    choice: str
    calibration: dict[str, Any]
    held_out: dict[str, Any]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Quantization:
        return cls(
            joint_change_mm=float(data["joint_change_mm"]),
            hands={
                str(k): HandChange(**{f: float(x) for f, x in v.items()})
                for k, v in data["hands"].items()
            },
            object_agreement=float(data["object_agreement"]),
            action_agreement=None
            if data["action_agreement"] is None
            else float(data["action_agreement"]),
            choice=str(data["choice"]),
            calibration=dict(data["calibration"]),
            held_out=dict(data["held_out"]),
        )

    def problems(self, hands: tuple[str, ...]) -> list[str]:
        """What is inconsistent in it for a model with ``hands``."""
        numbers = [self.joint_change_mm] + [
            x for h in self.hands.values() for x in asdict(h).values()
        ]
        agreements = [a for a in (self.object_agreement, self.action_agreement) if a is not None]
        problems = []
        if set(self.hands) != set(hands):
            problems.append(f"quantization hands {sorted(self.hands)} are not {sorted(hands)}")
        if not all(math.isfinite(x) and x >= 0 for x in numbers):
            problems.append("a quantization joint change is negative or not finite")
        if not all(0 <= a <= 1 for a in agreements):
            problems.append("a quantization agreement is outside [0, 1]")
        return problems


@dataclass(frozen=True)
class ModelCard:
    """Contents of ``model.json``.

    Parameters:
        dataset: data set the model was trained on (``fpha``, ``h2o`` or custom).
        num_joints, hands, joint_names, bones: skeleton of the output joints (bones as
            (parent, child) indices into the J output joints).
        labels: action (with verb/noun) and object names in logit order.
        window, clip_length: t (frames per P window) and T (tokens per A sequence).
        frame_rate_hz: frame rate the model was trained at (frames to feed per second).
        input_width, input_height: network image size in pixels.
        normalisation: the in-graph image normalisation, ``x / scale_divisor + offset``.
        shrink: how a camera frame is shrunk to the network input, as the training images
            were made (one of :data:`SHRINKS`, see :mod:`htt_ros.streaming.preprocess`).
        decoding: 2.5D decoding constants.
        graphs: ``pose_step`` and ``action`` graph descriptions.
        provenance: checkpoint name, sha256 and kind, htt_ros and torch versions, export time.
        quantization: what the int8 graphs cost in accuracy (written by htt-quantize; None
            before it runs, and in cards written before it existed).
    """

    dataset: str
    num_joints: int
    hands: tuple[str, ...]
    joint_names: tuple[str, ...]
    bones: tuple[tuple[int, int], ...]
    labels: LabelSet
    window: int
    clip_length: int
    frame_rate_hz: float
    input_width: int
    input_height: int
    normalisation: dict[str, Any]
    shrink: str
    decoding: Decoding
    graphs: dict[str, GraphSpec]
    provenance: dict[str, str]
    format_version: int = FORMAT_VERSION
    extra: dict[str, Any] = field(default_factory=dict)
    quantization: Quantization | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["labels"] = self.labels.to_dict()
        return data

    def write(self, folder: str | Path) -> Path:
        """Write ``folder/model.json`` and return its path."""
        path = Path(folder) / MODEL_CARD_NAME
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return path

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "model card") -> ModelCard:
        """Validate and build; raises :class:`ModelCardError` naming ``source`` and the field."""
        if data.get("format_version") != FORMAT_VERSION:
            raise ModelCardError(
                f"{source}: format_version {data.get('format_version')!r}, this htt_ros reads "
                f"{FORMAT_VERSION}; re-export the model folder with this htt_ros (htt-export)"
            )
        try:
            card = cls(
                dataset=str(data["dataset"]),
                num_joints=int(data["num_joints"]),
                hands=tuple(data["hands"]),
                joint_names=tuple(data["joint_names"]),
                bones=tuple((int(a), int(b)) for a, b in data["bones"]),
                labels=LabelSet.from_dict(data["labels"]),
                window=int(data["window"]),
                clip_length=int(data["clip_length"]),
                frame_rate_hz=float(data["frame_rate_hz"]),
                input_width=int(data["input_width"]),
                input_height=int(data["input_height"]),
                normalisation=dict(data["normalisation"]),
                shrink=str(data["shrink"]),
                decoding=_decoding_from_dict(data["decoding"]),
                graphs={k: _graph_from_dict(v) for k, v in data["graphs"].items()},
                provenance={k: str(v) for k, v in data["provenance"].items()},
                extra=dict(data.get("extra", {})),
                quantization=None
                if data.get("quantization") is None
                else Quantization.from_dict(data["quantization"]),
            )
        except KeyError as err:
            raise ModelCardError(
                f"{source}: missing field {err}; re-export it (htt-export)"
            ) from err
        except (TypeError, ValueError) as err:
            raise ModelCardError(f"{source}: malformed field ({err}); re-export it") from err
        card._validate(source)
        return card

    @classmethod
    def load(cls, folder: str | Path, verify: bool = True) -> ModelCard:
        """Read ``folder/model.json``; with ``verify`` also check the .onnx checksums."""
        path = Path(folder) / MODEL_CARD_NAME
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise ModelCardError(
                f"{path} not found: {folder} is not a model folder; create one with "
                f"`htt-export CHECKPOINT {folder}`"
            ) from None
        except json.JSONDecodeError as err:
            raise ModelCardError(f"{path} is not valid JSON ({err}); re-export it") from err
        card = cls.from_dict(data, source=str(path))
        if verify:
            card.verify_checksums(folder)
        return card

    def verify_checksums(self, folder: str | Path) -> None:
        """Raise :class:`ModelCardError` when a graph file is missing or its sha256 differs."""
        for name, graph in self.graphs.items():
            path = Path(folder) / graph.file
            if not path.is_file():
                raise ModelCardError(f"{path} ({name} graph) is missing; re-export the folder")
            actual = sha256_file(path)
            if actual != graph.sha256:
                raise ModelCardError(
                    f"{path}: sha256 {actual} does not match model.json ({graph.sha256}); the "
                    f"file was changed or corrupted, re-export the model folder"
                )

    def _validate(self, source: str) -> None:
        problems = []
        if set(self.graphs) != {"pose_step", "action"}:
            problems.append(f"graphs are {sorted(self.graphs)}, expected ['action', 'pose_step']")
        if len(self.joint_names) != self.num_joints:
            problems.append(f"{len(self.joint_names)} joint names for {self.num_joints} joints")
        if self.labels.num_joints != self.num_joints:
            problems.append(f"labels have {self.labels.num_joints} joints, not {self.num_joints}")
        if any(not (0 <= i < self.num_joints) for bone in self.bones for i in bone):
            problems.append("a bone index is outside 0..num_joints-1")
        if self.shrink not in SHRINKS:
            problems.append(f"shrink {self.shrink!r} is not one of {', '.join(SHRINKS)}")
        if self.clip_length % self.window:
            problems.append(f"T={self.clip_length} is not a multiple of t={self.window}")
        if self.quantization is not None:
            problems += self.quantization.problems(self.hands)
        if problems:
            raise ModelCardError(f"{source}: " + "; ".join(problems) + "; re-export the folder")


def _specs(items: list[dict[str, Any]]) -> tuple[TensorSpec, ...]:
    return tuple(TensorSpec(str(s["name"]), str(s["dtype"]), tuple(s["shape"])) for s in items)


def _graph_from_dict(data: dict[str, Any]) -> GraphSpec:
    return GraphSpec(data["file"], data["sha256"], _specs(data["inputs"]), _specs(data["outputs"]))


def _decoding_from_dict(data: dict[str, Any]) -> Decoding:
    frame = tuple(int(c) for c in data["frame"])
    if len(frame) != 2 or min(frame) <= 0:
        raise ValueError(f"decoding frame must be a positive (W, H), got {frame}")
    return Decoding(
        float(data["trans_factor"]), float(data["scale_factor"]), float(data["off_z"]), frame
    )
