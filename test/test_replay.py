"""htt-replay on a small bag with a small random-weight model: the offline report, and offline and
live replay giving the same predictions for the same frames."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from htt_ros.bags.make_bag import synthetic_sequences, write_bag
from htt_ros.bags.recording import open_recording
from htt_ros.data import synthetic_labels
from htt_ros.model import HTT, HTTConfig, save_checkpoint
from htt_ros.tools.htt_export import main as export_main
from htt_ros.tools.htt_replay import main

pytestmark = pytest.mark.slow  # every test exports a model
SCORE_FIGURES = {"pck.png", "confusion.png", "latency.png", "frames.png"}
FIGURES = SCORE_FIGURES | {"action_timeline.png", "in_view.png"}  # + predictions.jsonl's
REPORT_KEYS = {
    "mode", "dataset", "frames_in_bag", "frames_sent", "poses", "poses_matched",
    "dropped_frames", "pose", "object_accuracy", "action", "latency_ms", "throughput",
    "details", "model", "input", "backend", "figures", "protocol", "online_action",
    "pose_latency_ms",
}  # fmt: skip


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    """A random-weight network with the synthetic FPHA label set, 112x64 input, T=16."""
    folder = tmp_path_factory.mktemp("replay_model") / "synthetic_fpha"
    labels = synthetic_labels("fpha")
    torch.manual_seed(0)
    config = HTTConfig.for_dataset(
        "fpha", clip_length=16, num_actions=len(labels.actions), num_objects=len(labels.objects)
    )
    save_checkpoint(folder.with_suffix(".pth"), HTT(config, labels=labels))
    args = [str(folder.with_suffix(".pth")), str(folder), "--input-size", "112", "64"]
    assert export_main(args) == 0
    return folder


@pytest.fixture(scope="module")
def bag(tmp_path_factory) -> Path:
    labels, sequences = synthetic_sequences("fpha", count=2, frames=36, seed=1)
    path = tmp_path_factory.mktemp("replay_bag") / "bag"
    write_bag(path, labels, sequences, progress=False)
    return path


def run(model: Path, bag: Path, out: Path, *args: str) -> dict:
    assert main([str(model), str(bag), "--out", str(out), "--quiet", *args]) == 0
    return json.loads((out / "report.json").read_text())


@pytest.fixture(scope="module")
def offline(model: Path, bag: Path, tmp_path_factory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("offline")
    return run(model, bag, out), out


def test_offline_report_has_every_key_and_figure(offline) -> None:
    report, out = offline
    assert set(report) == REPORT_KEYS
    assert set(report["figures"]) == FIGURES
    for name in FIGURES:
        assert (out / name).stat().st_size > 5000
    assert report["frames_sent"] == report["frames_in_bag"] == 72
    assert report["poses"] == report["poses_matched"] == 36  # 30 Hz camera, 15 Hz model
    assert set(report["pose"]) == {"joints3d", "joints3d_cent"}
    assert report["pose"]["joints3d"]["num_frames"] == 36
    assert set(report["latency_ms"]) == {"count", "p50", "p90", "p99", "max", "mean"}
    action = report["action"]
    assert action["sequences"] == 2 and action["sequences_without_action"] == 0
    assert 0.0 <= action["video_accuracy"] <= 1.0 and action["labels"] == [0, 1]
    assert report["details"]["resets"] == 1  # the gap between the sequences
    summary = (out / "summary.txt").read_text()
    assert "MEPE joints3d (mm)" in summary and "latency ms p50/p90/p99/max" in summary
    lines = [json.loads(line) for line in (out / "predictions.jsonl").open()]
    assert sum("hands" in line for line in lines) == 36  # the evaluation runs on top
    assert all(("hands" in line) != ("action" in line) for line in lines) and len(lines) > 36


@pytest.mark.ros
def test_live_replay_predicts_what_offline_replay_does(model, bag, offline, tmp_path) -> None:
    from htt_ros.bags.evaluation import ReplayRun, evaluate, read_ground_truth, write_report
    from htt_ros.bags.live import run_live
    from htt_ros.bags.replay import run_offline
    from htt_ros.engines.loader import load_model
    from htt_ros.streaming.pipeline import StreamingConfig

    recording = open_recording(bag)
    # A quarter of the recorded rate: a frame every 133 ms against ~25 ms of inference, so that
    # DDS delivering a few frames at once on a busy machine does not make the node drop one.
    live: ReplayRun = run_live(model, recording, 24, 0.25, ["action_stride:=8"])
    assert live.dropped_frames == 0 and live.frames_sent == 72, live.details
    reference = run_offline(load_model(model), recording, StreamingConfig())
    assert set(live.poses) == set(reference.poses) and len(live.poses) == 36
    for stamp, pose in reference.poses.items():
        assert np.abs(live.poses[stamp].joints3d - pose.joints3d).max() < 1e-4
        assert np.abs(live.poses[stamp].joints2d - pose.joints2d).max() < 1e-2  # float32 pixels
        assert live.poses[stamp].object_id == pose.object_id
    # Offline replay knows where the bag ends and classifies its last tokens once more; the
    # node cannot tell the end of a stream from a pause, so it has one action less.
    *during, (last_stamp, _) = reference.action_scores
    assert last_stamp == max(reference.poses)
    assert [s for s, _ in live.action_scores] == [s for s, _ in during]
    for (_, top_k), (_, probs) in zip(live.action_scores, during, strict=True):
        listed = top_k > 0
        assert np.allclose(top_k[listed], probs[listed], atol=1e-6)
    assert live.latencies_ms and len(live.latencies_ms) == 36
    # The live report of that run.
    truth = read_ground_truth(bag)
    report, curves = evaluate(live, truth, 24)
    write_report(tmp_path, report, curves, live, truth, bag, recording.image_topic)
    assert report["mode"] == "live" and set(report["figures"]) == SCORE_FIGURES
    assert report["action"]["predictions"] == offline[0]["action"]["predictions"]
    assert report["action"]["scores_from"] == "Action.top_k"
