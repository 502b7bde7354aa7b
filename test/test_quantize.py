"""htt-quantize: int8 graphs calibrated on frames, recorded in the card, loadable as int8."""

import cv2
import numpy as np
import pytest
from model_folders import camera_frames, export_small_model

from htt_ros.engines.base import EngineError
from htt_ros.engines.loader import load_model
from htt_ros.model_card import ModelCard
from htt_ros.streaming.pipeline import StreamingConfig, StreamingPipeline
from htt_ros.tools.htt_quantize import main

pytestmark = pytest.mark.slow


def test_quantize_writes_int8_graphs_that_track_fp32(tmp_path) -> None:
    folder = export_small_model(tmp_path / "model")
    frames_dir = tmp_path / "frames"
    frames_dir.mkdir()
    frames = camera_frames(24, (224, 128), seed=4)
    for i, rgb in enumerate(frames):
        cv2.imwrite(str(frames_dir / f"{i:04d}.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))

    with pytest.raises(EngineError, match="htt-quantize"):
        load_model(folder, precision="int8")
    assert main([str(folder), "--calibration", str(frames_dir)]) == 0

    card = ModelCard.load(folder)
    assert card.extra["int8"]["pose_step"]["file"] == "pose_step.int8.onnx"
    assert card.extra["int8"]["calibration"]["pose_step_feeds"] >= 24
    results = {}
    for precision in ("fp32", "int8"):
        model = load_model(folder, precision=precision)
        config = StreamingConfig(rate_hz=0.0, action_stride=8)
        pipeline = StreamingPipeline(model.card, model.pose_step, model.action, config)
        k = np.array([[112.0, 0, 112], [0, 112, 64], [0, 0, 1]])
        outs = [pipeline.push(rgb, (i + 1) * 10**8, k) for i, rgb in enumerate(frames)]
        results[precision] = np.stack([p.joints3d for o in outs for p in o.poses])
    error_mm = 1000 * np.abs(results["int8"] - results["fp32"]).mean()
    spread_mm = 1000 * np.abs(results["fp32"] - results["fp32"].mean(0)).mean()
    # Random weights give nearly constant poses; int8 must still stay below their variation.
    assert error_mm < min(spread_mm, 5.0), (error_mm, spread_mm)


def test_quantize_reports_a_folder_without_frames(tmp_path, capsys) -> None:
    folder = export_small_model(tmp_path / "model")
    (tmp_path / "empty").mkdir()
    assert main([str(folder), "--calibration", str(tmp_path / "empty")]) == 2
    assert "no images" in capsys.readouterr().err
