"""htt-camera-demo: the node on the live synthetic camera publishes poses and exits cleanly."""

import subprocess
import sys

import pytest
from model_folders import export_small_model

pytestmark = [pytest.mark.ros, pytest.mark.slow]


def test_camera_demo_runs_the_node_on_the_synthetic_camera(tmp_path) -> None:
    model = export_small_model(tmp_path / "model", dataset="h2o", clip_length=32)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "htt_ros.tools.htt_camera_demo",
            "--seconds",
            "15",
            "--model",
            str(model),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "running: in " in result.stdout and "right wrist" in result.stdout
    assert "hand poses and" in result.stdout


def test_camera_demo_without_a_model_says_how_to_make_one(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "htt_ros.tools.htt_camera_demo", "--seconds", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "scripts/demo.sh" in result.stderr
