"""int8 (static QDQ) graphs for ONNX Runtime, calibrated on camera frames.

The fp32 pipeline runs over frames in order while every graph input is recorded; ONNX Runtime's
static quantizer calibrates activation ranges on those inputs and writes
``pose_step.int8.onnx`` (the ResNet's convolutions in int8) and ``action.int8.onnx`` (A's matrix
products in int8) next to the fp32 graphs (weights int8, activations uint8, QDQ format so
TensorRT and ORT read them alike). How pose_step is quantized is a named :data:`CHOICES` entry;
the model card records the files, their checksums and the choice; ``precision: int8`` uses
them.
"""

import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from htt_ros.engines.base import GraphRunner
from htt_ros.engines.frame_sources import CalibrationError, SourceFrame
from htt_ros.engines.loader import GRAPHS, INT8_SUFFIX, load_model
from htt_ros.model_card import ModelCard, sha256_file
from htt_ros.streaming.pipeline import StreamingConfig, StreamingPipeline


@dataclass(frozen=True)
class Int8Choice:
    """How pose_step is quantized (A's MatMul and Gemm always are, min-max, per channel).

    ``ops`` the op types in int8 (norms, softmax and the mask logic always stay in float);
    ``method`` ONNX Runtime's calibration (``MinMax``, ``Percentile``, ``Entropy``);
    ``fp32_convs`` convolutions kept in fp32, by index in graph order (negative from the end:
    the ResNet's stem is 0, its last block's convolutions -1 to -5); ``reduce_range`` 7-bit
    weights, which keeps the u8 x s8 products of CPUs without VNNI from saturating their
    16-bit sums."""

    description: str
    ops: tuple[str, ...] = ("Conv",)
    method: str = "MinMax"
    per_channel: bool = True
    fp32_convs: tuple[int, ...] = ()
    reduce_range: bool = False


CHOICES = {
    "conv": Int8Choice("the ResNet's convolutions, min-max, weights per channel"),
    "conv-per-tensor": Int8Choice("as conv, weights per tensor", per_channel=False),
    "conv-percentile": Int8Choice("as conv, 99.999th percentile ranges", method="Percentile"),
    "conv-entropy": Int8Choice("as conv, entropy (KL) ranges", method="Entropy"),
    "conv-7bit": Int8Choice("as conv, 7-bit weights", reduce_range=True),
    "conv-fp32-stem": Int8Choice("as conv, the stem convolution in fp32", fp32_convs=(0,)),
    "conv-fp32-ends": Int8Choice(
        "as conv, the stem and the last block's convolutions in fp32",
        fp32_convs=(0, -1, -2, -3, -4, -5),
    ),
    "all": Int8Choice("every Conv, MatMul and Gemm", ops=("Conv", "MatMul", "Gemm")),
}
DEFAULT_CHOICE = "conv"
ACTION_OPS = ("MatMul", "Gemm")


class RecordingRunner:
    """Wraps a runner and keeps a copy of every feed it is given."""

    def __init__(self, runner: GraphRunner) -> None:
        self.runner, self.backend = runner, runner.backend
        self.inputs, self.outputs = runner.inputs, runner.outputs
        self.feeds: list[dict[str, np.ndarray]] = []

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        self.feeds.append({k: v.copy() for k, v in feeds.items()})
        return self.runner.run(feeds)


def record_feeds(folder: Path, frames: Iterable[SourceFrame]) -> dict[str, list]:
    """Run the fp32 model over ``frames`` (every frame processed) and collect graph inputs."""
    model = load_model(folder, "onnxruntime", "fp32")
    pose, action = RecordingRunner(model.pose_step), RecordingRunner(model.action)
    config = StreamingConfig(mode="sliding", action_stride=4, action_smoothing=1, rate_hz=0.0)
    pipeline = StreamingPipeline(model.card, pose, action, config)
    for frame in frames:
        pipeline.push(frame.rgb, frame.stamp_ns, frame.k)
    pipeline.flush()
    if not pose.feeds:
        raise CalibrationError("the calibration source gave no frames; give one with frames")
    return {"pose_step": pose.feeds, "action": action.feeds}


class _Reader:
    """The quantizer's CalibrationDataReader over recorded feeds."""

    def __init__(self, feeds: list[dict[str, np.ndarray]]) -> None:
        self._feeds = iter(feeds)

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._feeds, None)


def conv_names(path: Path, indices: tuple[int, ...]) -> list[str]:
    """The names of the Conv nodes at ``indices`` (graph order) of the ONNX file ``path``."""
    import onnx

    convs = [n.name for n in onnx.load(str(path)).graph.node if n.op_type == "Conv"]
    return [convs[i] for i in indices if -len(convs) <= i < len(convs)]


def quantize_graph(
    source: Path, target: Path, feeds: list[dict], choice: Int8Choice, ops: tuple[str, ...]
) -> None:
    """Write the int8 QDQ graph of ``source`` to ``target``, calibrated on ``feeds``."""
    from onnxruntime.quantization import (
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(target),
            _Reader(feeds),
            quant_format=QuantFormat.QDQ,
            per_channel=choice.per_channel,
            reduce_range=choice.reduce_range,
            op_types_to_quantize=list(ops),
            nodes_to_exclude=conv_names(prepared, choice.fp32_convs),
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod[choice.method],
        )


def quantize_folder(folder: Path, feeds: dict[str, list], choice: str) -> ModelCard:
    """Write the int8 graphs of ``folder`` calibrated on ``feeds`` the ``choice`` way; update
    the card's ``extra.int8`` (files, checksums, choice) and return the card."""
    card = ModelCard.load(folder)
    pose_choice = CHOICES[choice]
    settings = {
        "pose_step": (pose_choice, pose_choice.ops),
        "action": (Int8Choice("A's matrix products"), ACTION_OPS),
    }
    int8: dict = {}
    for name in GRAPHS:
        source = folder / card.graphs[name].file
        target = source.with_name(source.name.removesuffix(".onnx") + INT8_SUFFIX)
        quantize_graph(source, target, feeds[name], *settings[name])
        int8[name] = {"file": target.name, "sha256": sha256_file(target)}
    card.extra["int8"] = int8
    card.write(folder)
    return card
