"""``htt-quantize MODEL_DIR --calibration FRAMES_DIR``: int8 (static QDQ) graphs for ONNX Runtime.

The fp32 pipeline runs over real frames in order while every graph input is recorded; ONNX
Runtime's static quantizer calibrates activation ranges on those inputs and writes
``pose_step.int8.onnx`` (the ResNet's convolutions in int8) and ``action.int8.onnx`` (A's matrix
products in int8) next to the fp32 graphs (weights int8 per channel, activations uint8, QDQ
format so TensorRT and ORT read them alike). The model card records the files, their checksums
and the calibration source; ``precision: int8`` uses them.
"""

import tempfile
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from htt_ros.engines.base import GraphRunner
from htt_ros.engines.loader import GRAPHS, INT8_SUFFIX, load_model
from htt_ros.errors import UserError
from htt_ros.geometry import pinhole_intrinsics
from htt_ros.model_card import ModelCard, sha256_file
from htt_ros.streaming.pipeline import StreamingConfig, StreamingPipeline

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
# The heavy ops of each graph; norms, softmax and the mask logic stay in float, where int8 costs
# accuracy. In pose_step only the ResNet's convolutions: they are nearly all of its multiply-adds,
# while the pose transformer's and the heads' matrix products in int8 (per-tensor uint8 inputs)
# moved the joints 2.5 mm against 0.19 mm for the convolutions alone, whatever the calibration
# method (min-max, percentile, entropy) or weight granularity (per channel or per tensor).
QUANTIZED_OPS = {"pose_step": ["Conv"], "action": ["MatMul", "Gemm"]}


class CalibrationError(UserError, ValueError):
    """The calibration frames cannot be used; the message names the folder or file and the fix."""


class RecordingRunner:
    """Wraps a runner and keeps a copy of every feed it is given."""

    def __init__(self, runner: GraphRunner) -> None:
        self.runner, self.backend = runner, runner.backend
        self.inputs, self.outputs = runner.inputs, runner.outputs
        self.feeds: list[dict[str, np.ndarray]] = []

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        self.feeds.append({k: v.copy() for k, v in feeds.items()})
        return self.runner.run(feeds)


def frame_paths(folder: Path, limit: int) -> list[Path]:
    """The images under ``folder`` (recursively, in path order), at most ``limit``."""
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise CalibrationError(
            f"no images ({', '.join(IMAGE_SUFFIXES)}) under {folder}; give a folder of frames "
            f"recorded by the camera the model will run on"
        )
    return paths[:limit]


def read_frames(paths: list[Path]) -> Iterator[np.ndarray]:
    """The RGB frames of ``paths``, with a progress bar."""
    for path in tqdm(paths, desc="calibration frames", unit="frame"):
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise CalibrationError(f"{path} is not a readable image; remove it from the folder")
        yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def record_feeds(folder: Path, frames: Iterator[np.ndarray]) -> dict[str, list]:
    """Run the fp32 model over ``frames`` (every frame processed) and collect graph inputs."""
    model = load_model(folder, "onnxruntime", "fp32")
    pose, action = RecordingRunner(model.pose_step), RecordingRunner(model.action)
    config = StreamingConfig(mode="sliding", action_stride=4, action_smoothing=1, rate_hz=0.0)
    pipeline = StreamingPipeline(model.card, pose, action, config)
    for i, rgb in enumerate(frames):
        # Calibration needs plausible, not exact, intrinsics: a 90 degree field of view.
        k = pinhole_intrinsics(rgb.shape[1], rgb.shape[0], 90.0)
        pipeline.push(rgb, (i + 1) * 66_666_667, k)
    pipeline.flush()
    return {"pose_step": pose.feeds, "action": action.feeds}


class _Reader:
    """The quantizer's CalibrationDataReader over recorded feeds."""

    def __init__(self, feeds: list[dict[str, np.ndarray]]) -> None:
        self._feeds = iter(feeds)

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._feeds, None)


def quantize_folder(folder: Path, feeds: dict[str, list], source: str) -> ModelCard:
    """Write the int8 graphs of ``folder`` calibrated on ``feeds``; update and return the card."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    card = ModelCard.load(folder)
    int8 = {}
    for name in GRAPHS:
        source_path = folder / card.graphs[name].file
        target = source_path.with_name(source_path.name.removesuffix(".onnx") + INT8_SUFFIX)
        with tempfile.TemporaryDirectory() as tmp:
            prepared = Path(tmp) / "prepared.onnx"
            quant_pre_process(str(source_path), str(prepared), skip_symbolic_shape=True)
            quantize_static(
                str(prepared),
                str(target),
                _Reader(feeds[name]),
                quant_format=QuantFormat.QDQ,
                per_channel=True,
                op_types_to_quantize=QUANTIZED_OPS[name],
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
            )
        int8[name] = {"file": target.name, "sha256": sha256_file(target)}
    int8["calibration"] = {"source": source, "pose_step_feeds": len(feeds["pose_step"])}
    card.extra["int8"] = int8
    card.write(folder)
    return card
