"""htt-bench MODEL --node: camera, node and consumer processes over DDS; what it reports.

No timing thresholds (the machine is shared): the numbers must exist, be sane and follow the
definitions of htt_ros.benchmarks.node_benchmark.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from model_folders import export_small_model

from htt_ros.benchmarks import process_usage
from htt_ros.benchmarks.node_benchmark import frame_stats
from htt_ros.streaming.frame_selection import NS_PER_S

MS = 1_000_000
STAMPS = 10**12 + np.round(np.arange(90) * NS_PER_S / 30).astype(np.int64)  # 3 s at 30 Hz


def test_drops_are_counted_against_the_frames_the_model_should_take() -> None:
    taken = STAMPS[::2]  # a 15 Hz model takes every second frame: 45
    received = {int(s): int(s) + 20 * MS for s in taken}
    stats, _ = frame_stats(STAMPS, received, 15.0, 0.0)
    assert stats["frames"] == {"sent": 90, "expected": 45, "processed": 45}
    assert stats["drop_fraction"] == 0.0 and stats["latency_ms"]["p99"] == pytest.approx(20.0)
    # After a lost frame the node's selector takes the next (odd) one, which counts as well.
    items = list(received.items())
    odd = {int(s): int(s) + 20 * MS for s in STAMPS[41:-2:2]}  # frames 41, 43, ..., 87
    shifted = dict(items[:20]) | odd
    stats, _ = frame_stats(STAMPS, shifted, 15.0, 0.0)
    assert stats["frames"]["processed"] == 44 and stats["drop_fraction"] == pytest.approx(1 / 45)
    lost = dict(list(received.items())[9:])  # nine never processed
    stats, _ = frame_stats(STAMPS, lost, 15.0, 0.0)
    assert stats["drop_fraction"] == pytest.approx(9 / 45)
    stats, _ = frame_stats(STAMPS, received, 15.0, 1.0)  # the first second left out
    assert stats["frames"]["expected"] == stats["frames"]["processed"] < 45
    assert stats["processed_hz"] == pytest.approx(15.0, rel=0.05)
    stats, _ = frame_stats(STAMPS, {}, 15.0, 0.0)
    assert stats["drop_fraction"] == 1.0 and stats["latency_ms"] is None


def test_process_usage_reads_this_process() -> None:
    first = process_usage.sample(os.getpid())
    sum(i * i for i in range(2_000_000))
    second = process_usage.sample(os.getpid())
    assert second.cpu_s > first.cpu_s and first.rss_mb > 10
    summary = process_usage.summarize([first, second])
    assert summary["cpu_percent"] > 0 and summary["rss_mb"]["max"] >= summary["rss_mb"]["start"]


def test_memory_growth_is_only_measured_over_late_enough_samples() -> None:
    samples = [process_usage.Usage(t, cpu_s=t / 2, rss_mb=100 + t) for t in range(10)]
    late = process_usage.summarize(samples, memory_from=6, edge=1)
    assert late["rss_mb"] == {"start": 106, "end": 109, "max": 109}
    assert late["rss_growth_mb"] == 3 and late["cpu_percent"] == 50
    too_late = process_usage.summarize(samples, memory_from=9, edge=1)
    assert too_late["rss_mb"] == {"start": 100, "end": 109, "max": 109}
    assert too_late["rss_growth_mb"] is None


def test_process_usage_of_an_exited_process_is_none() -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    stat = Path(f"/proc/{process.pid}/stat")
    deadline = time.monotonic() + 30
    while stat.read_text().rsplit(") ", 1)[1][0] != "Z":  # exited, not reaped: a zombie
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert process_usage.sample(process.pid) is None
    process.wait()
    assert process_usage.sample(process.pid) is None


@pytest.mark.ros
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_htt_bench_node_writes_the_numbers_and_the_plot(tmp_path: Path) -> None:
    model = export_small_model(tmp_path / "model")
    out = tmp_path / "bench.json"
    command = [sys.executable, "-m", "htt_ros.tools.htt_bench", str(model), "--node"]
    command += ["--duration", "6", "--warmup", "1", "--camera-size", "224", "128"]
    command += ["--peak", "8", "12", "--peak-duration", "3", "--json", str(out)]
    command += ["--node-param", "action_stride:=4"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=540)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "remap" not in done.stderr  # the node's parameter is not an argument for rcl here
    assert "latency ms: p50" in done.stdout and "peak throughput" in done.stdout
    node = json.loads(out.read_text())["node"]
    latency = node["latency_ms"]
    assert 0 < latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["max"]
    assert 0.0 <= node["drop_fraction"] <= 1.0
    frames = node["frames"]
    assert frames["processed"] > 0 and 0 < frames["expected"] < frames["sent"]  # 15 of 30 Hz
    assert node["processed_hz"] > 0 and node["model_rate_hz"] == 15.0
    assert node["node_parameters"] == ["action_stride:=4"]
    assert node["backend"] == "onnxruntime" and node["precision"] == "fp32"
    assert node["cpu_percent"] > 0 and node["rss_mb"]["start"] > 10
    assert node["cpu_ms_per_processed_frame"] > 0
    # Growth is measured once the pose histories are full (clip_length poses after the warm-up):
    # a node slowed by a loaded machine fills them late, and the report says growth is not known.
    full_at_s = 1 + json.loads((model / "model.json").read_text())["clip_length"] / min(
        15.0, node["processed_hz"]
    )
    if full_at_s < 5:  # two samples or more before the camera stops at 6 s
        assert isinstance(node["rss_growth_mb"], float)
    elif full_at_s > 6:
        assert node["rss_growth_mb"] is None and "growth not measured" in done.stdout
    steps = node["peak"]["steps"]
    assert [step["rate_hz"] for step in steps][:1] == [8.0]
    assert node["peak_input_hz"] in (None, 8.0, 12.0)
    assert Path(node["plot"]) == out.with_suffix(".png") and out.with_suffix(".png").stat().st_size
    assert node["node_counters"]["frames_received"] > 0


def test_htt_bench_node_refuses_a_bad_node_parameter(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "htt_ros.tools.htt_bench", str(tmp_path), "--node"]
    done = subprocess.run([*command, "--node-param", "precision=int8"], capture_output=True)
    assert done.returncode == 2
    assert b"write NAME:=VALUE" in done.stderr and b"Traceback" not in done.stderr
