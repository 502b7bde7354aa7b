"""The replay memory benchmark through its command, on a short small recording: it renders the
video, replays it with htt-replay and reports resident memory sampled from /proc."""

import json
import subprocess
import sys

import pytest
from model_folders import export_small_model

from htt_ros.benchmarks.process_usage import summarize
from htt_ros.benchmarks.replay_memory import describe


@pytest.mark.slow  # exports a model, renders and replays a video
def test_the_benchmark_renders_replays_and_reports_memory(tmp_path) -> None:
    model = export_small_model(tmp_path / "model", clip_length=16)
    out = tmp_path / "memory"
    command = [sys.executable, "-m", "htt_ros.benchmarks.replay_memory", str(model), str(out)]
    command += ["--minutes", "0.1", "--size", "224", "128", "--layout", "fpha"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "resident memory over the second half" in done.stdout
    result = json.loads((out / "replay_memory.json").read_text())
    assert done.stdout.strip() == describe(result)
    assert len(result["samples"]) >= 10  # a 6 s recording, sampled ten times a second
    rss = result["summary"]["rss_mb"]
    assert 0 < rss["start"] <= rss["max"] and rss["end"] <= rss["max"]
    assert max(s[2] for s in result["samples"]) >= rss["max"] > 50  # Python, numpy, ONNX Runtime
    assert (out / "replay_memory.png").stat().st_size > 0
    assert len((out / "report" / "predictions.jsonl").read_text().splitlines()) > 0


def test_a_run_too_short_to_measure_says_so() -> None:
    result = {"recording": "0.001 min", "wall_s": 0.2, "samples": [], "summary": summarize([])}
    assert describe(result) == (
        "htt-replay on 0.001 min: 0.2 s, too short to measure its memory (0 samples); "
        "give more --minutes"
    )
