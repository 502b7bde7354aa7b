"""The README's first command: htt-demo runs the node on the synthetic camera and succeeds."""

import subprocess
import sys

import pytest

pytestmark = [pytest.mark.ros, pytest.mark.slow]


def test_demo_runs_the_node_on_the_synthetic_camera(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "htt_ros.demo", "--seconds", "15"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "running: in " in result.stdout and "right wrist" in result.stdout
    assert "hand poses and" in result.stdout
