"""``precision: auto`` runs the int8 graphs on ONNX Runtime's CPU when htt-quantize made them.

Through the real node: a quantized folder runs int8 and says why; a folder without int8 graphs
runs fp32 and says how to get them.
"""

import shutil
import time
from pathlib import Path

import cv2
import pytest
import rclpy
from model_folders import camera_frames, export_small_model
from test_node_pipeline import Recorder, run_camera, start_node

from htt_ros.engines.loader import resolve_precision
from htt_ros.model_card import ModelCard
from htt_ros.subprocesses import interrupt
from htt_ros.tools.htt_quantize import main as quantize

pytestmark = [pytest.mark.ros, pytest.mark.slow]


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> tuple[Path, Path]:
    """A model folder and a copy of it with int8 graphs."""
    tmp = tmp_path_factory.mktemp("precision")
    plain = export_small_model(tmp / "plain")
    quantized = tmp / "quantized"
    shutil.copytree(plain, quantized)
    frames = tmp / "frames"
    frames.mkdir()
    for i, rgb in enumerate(camera_frames(12, (224, 128), seed=1)):
        cv2.imwrite(str(frames / f"{i:03d}.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert quantize([str(quantized), "--calibration", str(frames), "--max-frames", "8"]) == 0
    return plain, quantized


def test_auto_is_int8_only_on_the_cpu_with_int8_graphs(folders) -> None:
    plain, quantized = (ModelCard.load(folder) for folder in folders)
    assert resolve_precision("onnxruntime", "auto", quantized) == "int8"
    assert resolve_precision("onnxruntime", "auto", plain) == "fp32"
    assert resolve_precision("onnxruntime", "auto", quantized, device="cuda") == "fp32"
    assert resolve_precision("torch", "auto", quantized) == "fp32"
    assert resolve_precision("tensorrt", "auto", quantized) == "fp16"
    assert resolve_precision("onnxruntime", "fp32", quantized) == "fp32"


@pytest.mark.timeout(300)
def test_the_node_runs_int8_on_a_quantized_folder(folders) -> None:
    node = start_node(folders[1])
    try:
        with rclpy.init():
            recorder = Recorder()
            run_camera(recorder, "normal", 30.0, 30, node)
    finally:
        output = interrupt(node, timeout=30)
    assert "on onnxruntime int8 (precision auto: the model folder has int8 graphs)" in output
    assert recorder.hands, output


@pytest.mark.timeout(300)
def test_the_node_says_how_to_get_int8(folders) -> None:
    node = start_node(folders[0])
    try:
        with rclpy.init():
            recorder = Recorder()
            deadline = time.monotonic() + 120
            while not (recorder.status and recorder.status[-1]["state"] == "active"):
                assert time.monotonic() < deadline and node.poll() is None
                rclpy.spin_once(recorder, timeout_sec=0.1)
    finally:
        output = interrupt(node, timeout=30)
    assert "fp32 (precision auto: no int8 graphs in the model folder; htt-quantize" in output
