"""htt-quantize: int8 graphs calibrated on frames from a bag, a folder or the renderer, what they
cost in accuracy written to the model card, loadable as int8."""

import json
import math
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest
from model_folders import camera_frames, export_small_model

from htt_ros.engines.base import EngineError
from htt_ros.engines.loader import load_model
from htt_ros.engines.quantize import CHOICES
from htt_ros.model_card import ModelCard, ModelCardError
from htt_ros.streaming.pipeline import StreamingConfig, StreamingPipeline
from htt_ros.tools.htt_make_bag import main as make_bag

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict:
    """A pristine small model folder, a folder of frames and a bag."""
    root = tmp_path_factory.mktemp("quantize")
    frames_dir = root / "frames"
    frames_dir.mkdir()
    for i, rgb in enumerate(camera_frames(40, (224, 128), seed=4)):
        cv2.imwrite(str(frames_dir / f"{i:04d}.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    bag = root / "bag"
    args = [str(bag), "--layout", "synthetic-fpha", "--sequences", "3", "--frames", "14"]
    assert make_bag([*args, "--quiet"]) == 0
    return {"model": export_small_model(root / "model"), "folder": frames_dir, "bag": bag}


def quantize(args: list[str]) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "htt_ros.tools.htt_quantize", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


@pytest.mark.timeout(900)
@pytest.mark.parametrize("kind", ["folder", "bag", "synthetic"])
def test_quantize_reports_int8_against_fp32(sources, tmp_path, kind) -> None:
    folder = tmp_path / "model"
    shutil.copytree(sources["model"], folder)
    with pytest.raises(EngineError, match="htt-quantize"):
        load_model(folder, precision="int8")
    source = "synthetic" if kind == "synthetic" else str(sources[kind])
    frames = ["--max-frames", "16", "--held-out-frames", "20"]
    proc = quantize([str(folder), "--calibration", source, *frames])
    assert proc.returncode == 0, proc.stderr
    assert "joint_change_mm" in proc.stdout and "held-out frames" in proc.stdout, proc.stdout

    card = ModelCard.load(folder)
    q = card.quantization
    assert card.extra["int8"]["pose_step"]["file"] == "pose_step.int8.onnx"
    assert q.choice == "conv" and q.calibration == {"source": source, "frames": 16}
    assert q.held_out["source"] == source and 0 < q.held_out["frames"] <= 20
    assert set(q.hands) == set(card.hands) == {"right"}
    numbers = [q.joint_change_mm, *vars(q.hands["right"]).values()]
    assert all(math.isfinite(x) and x >= 0 for x in numbers), numbers
    assert q.hands["right"].mean_mm == pytest.approx(q.joint_change_mm)
    assert 0 <= q.object_agreement <= 1 and 0 <= q.action_agreement <= 1
    saved = json.loads((folder / "model.json").read_text())["quantization"]
    assert saved["joint_change_mm"] == q.joint_change_mm
    load_model(folder, precision="int8")


def test_int8_tracks_fp32_and_the_card_reads_with_and_without_quantization(
    sources, tmp_path
) -> None:
    folder = tmp_path / "model"
    shutil.copytree(sources["model"], folder)
    frames = ["--max-frames", "16", "--held-out-frames", "16"]
    proc = quantize([str(folder), "--calibration", str(sources["folder"]), *frames])
    assert proc.returncode == 0, proc.stderr
    results = {}
    for precision in ("fp32", "int8"):
        model = load_model(folder, precision=precision)
        config = StreamingConfig(rate_hz=0.0, action_stride=8)
        pipeline = StreamingPipeline(model.card, model.pose_step, model.action, config)
        k = np.array([[112.0, 0, 112], [0, 112, 64], [0, 0, 1]])
        rgbs = camera_frames(24, (224, 128), seed=9)
        outs = [pipeline.push(rgb, (i + 1) * 10**8, k) for i, rgb in enumerate(rgbs)]
        results[precision] = np.stack([p.joints3d for o in outs for p in o.poses])
    error_mm = 1000 * np.abs(results["int8"] - results["fp32"]).mean()
    spread_mm = 1000 * np.abs(results["fp32"] - results["fp32"].mean(0)).mean()
    # Random weights give nearly constant poses; int8 must still stay below their variation.
    assert error_mm < min(spread_mm, 5.0), (error_mm, spread_mm)

    data = json.loads((folder / "model.json").read_text())
    data["quantization"]["hands"]["right"]["p95_mm"] = -1.0
    (folder / "model.json").write_text(json.dumps(data))
    with pytest.raises(ModelCardError, match="negative or not finite"):
        ModelCard.load(folder)
    del data["quantization"]  # a card written before htt-quantize measured accuracy
    (folder / "model.json").write_text(json.dumps(data))
    assert ModelCard.load(folder).quantization is None
    load_model(folder, precision="int8")


def test_a_source_too_short_for_held_out_frames_is_refused(sources, tmp_path) -> None:
    folder = tmp_path / "model"
    shutil.copytree(sources["model"], folder)
    proc = quantize([str(folder), "--calibration", str(sources["folder"]), "--max-frames", "40"])
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    line = proc.stderr.splitlines()[-1]  # after the calibration's progress bar
    assert line.startswith("htt-quantize: no held-out frames"), line
    assert "--held-out SOURCE" in line, line


@pytest.mark.timeout(900)
def test_compare_measures_every_choice_and_keeps_the_chosen_one(sources, tmp_path) -> None:
    folder = tmp_path / "model"
    shutil.copytree(sources["model"], folder)
    frames = ["--max-frames", "8", "--held-out-frames", "8"]
    args = [str(folder), "--calibration", "synthetic", *frames, "--compare"]
    proc = quantize([*args, "--choice", "conv-fp32-stem"])
    assert proc.returncode == 0, proc.stderr
    table = proc.stdout.split("int8 against fp32")[0]
    for choice in ("fp32", *CHOICES):
        (row,) = [line for line in table.splitlines() if line.split()[:1] == [choice]]
        assert row.endswith(" ms"), row
    assert ModelCard.load(folder).quantization.choice == "conv-fp32-stem"
