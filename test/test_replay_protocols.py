"""htt-replay's two protocols on a bag made from a small synthetic data set folder.

``--protocol paper`` with the torch backend must give what ``python -m training.evaluate``
gives on the folder: every video's action, MEPE and MEPE-RA within 0.1 mm. ``--protocol
streaming`` replays segment and sliding modes and scores each output when it is published.
"""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from htt_ros.bags.evaluation import GroundTruth, ReplayRun
from htt_ros.bags.streaming_protocol import online_action
from htt_ros.data import load_fpha, write_dataset
from htt_ros.model import HTT, HTTConfig, save_checkpoint
from htt_ros.tools.htt_export import main as export_main
from htt_ros.tools.htt_make_bag import main as make_bag_main
from htt_ros.tools.htt_replay import main as replay_main
from training import evaluate
from training.config import Config

# t=4, T=8 at 15 Hz: 30-40 frame videos give each parity two full clips and a padded one with a
# partial P window, so padding, parities and voting are all exercised.
CONFIG = {
    "model": {"window": 4, "clip_length": 8},
    "data": {"dataset": "fpha", "image_size": [64, 36], "spacing": 2, "workers": 0},
    "train": {"eval_batch_size": 4, "pretrained": False},
}


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("protocols")
    data = root / "synth"
    write_dataset(data, "fpha", seed=7, sequences=10, frames=36, subjects=2, progress=False)
    labels = load_fpha(data, "test").labels
    cfg = Config.from_dict(CONFIG)
    torch.manual_seed(1)
    net = HTT(
        HTTConfig.for_dataset(
            "fpha",
            window=4,
            clip_length=8,
            num_actions=len(labels.actions),
            num_objects=len(labels.objects),
        ),
        labels=labels,
    )
    checkpoint = root / "model.pth"
    save_checkpoint(checkpoint, net, extra={"config": cfg.to_dict(), "git": "test"})
    model = root / "model"
    assert export_main([str(checkpoint), str(model), "--input-size", "64", "36"]) == 0
    bag = root / "bag"
    assert make_bag_main([str(data), str(bag), "--layout", "fpha", "--quiet"]) == 0
    (root / "config.yaml").write_text(yaml.safe_dump(cfg.to_dict()))
    return {"root": root, "data": data, "checkpoint": checkpoint, "model": model, "bag": bag}


def replay(setup: dict[str, Path], name: str, *args: str) -> dict:
    out = setup["root"] / name
    argv = [str(setup["model"]), str(setup["bag"]), "--out", str(out), "--quiet", *args]
    assert replay_main(argv) == 0
    return json.loads((out / "report.json").read_text())


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_paper_protocol_equals_the_evaluator(setup) -> None:
    out = setup["root"] / "evaluator"
    args = [str(setup["checkpoint"]), "--data", str(setup["data"]), "--out", str(out)]
    assert evaluate.cli([*args, "--device", "cpu", "--workers", "0"]) == 0
    reference = json.loads((out / "report.json").read_text())
    paper = replay(setup, "paper", "--protocol", "paper", "--backend", "torch")

    videos = reference["videos"].values()
    assert paper["action"]["labels"] == [v["label"] for v in videos]  # the bag's order
    assert paper["action"]["predictions"] == [v["prediction"] for v in videos]
    assert paper["action"]["video_accuracy"] == reference["action"]["video_accuracy"]
    assert paper["details"]["clips"] == reference["num_clips"] and paper["details"]["spacing"] == 2
    assert paper["poses_matched"] == paper["frames_in_bag"] == reference["num_frames"]
    assert set(paper["pose"]) == set(reference["pose"]) == {"joints3d", "joints3d_cent"}
    for name, metrics in reference["pose"].items():
        assert abs(paper["pose"][name]["mepe_mm"] - metrics["mepe_mm"]) < 0.1, name
    assert len(set(paper["action"]["predictions"])) > 1  # a test that can tell videos apart


def test_paper_protocol_refuses_live_replay(setup, capsys) -> None:
    argv = [str(setup["model"]), str(setup["bag"]), "--protocol", "paper", "--mode", "live"]
    assert replay_main(argv) == 2
    assert "offline only" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_streaming_protocol_reports_every_mode_and_lag(setup) -> None:
    report = replay(setup, "streaming", "--protocol", "streaming")
    assert report["figures"] == ["streaming.png"]
    assert (setup["root"] / "streaming" / "streaming.png").stat().st_size > 5000
    runs = [row["run"] for row in report["table"]]
    assert runs == ["segment", "sliding lag 0", "sliding lag 1", "sliding lag 2", "sliding lag 3"]
    latency = [row["pose_latency_ms_p50"] for row in report["table"]]
    period_ms = 1000 / 15
    for lag, ms in zip(range(4), latency[1:], strict=True):
        assert ms >= lag * period_ms - 1  # a pose waits for its look-ahead frames
    assert latency[4] > latency[1] + 2 * period_ms
    for run in report["runs"]:
        online = run["online_action"]
        assert online["frames"] == run["frames_in_bag"] and 0 <= online["frame_accuracy"] <= 1
        assert online["sequences"] == run["action"]["sequences"]
        assert online["never_right"] + online["delay_s"]["count"] == online["sequences"]
    summary = (setup["root"] / "streaming" / "summary.txt").read_text()
    assert summary.startswith("| run | MEPE joints3d (mm) |") and "sliding lag 3" in summary


def test_bad_lags_are_refused_in_one_line(setup, capsys) -> None:
    argv = [str(setup["model"]), str(setup["bag"]), "--protocol", "streaming", "--lags", "0,9"]
    assert replay_main(argv) == 2
    error = capsys.readouterr().err
    assert "--lags [9] outside [0, 3]" in error and len(error.strip().splitlines()) == 1


def test_an_action_counts_from_its_publication_and_must_stay_right() -> None:
    """Two sequences of 10 frames; the published actions and when they came out decide the
    per-frame accuracy and the delays."""
    stamps = list(range(10)) + list(range(20, 30))
    truth = GroundTruth(
        {s: np.zeros((21, 3)) for s in stamps}, {}, {}, [(0, 9, 1), (20, 29, 2)], [], [], "x"
    )
    one_hot = np.eye(3)
    run = ReplayRun("offline")
    # class 1 published at 3 (right), class 0 at 5 (wrong), class 1 at 7: right from 7 on;
    # the second sequence gets class 1 at 22 and nothing right: never right.
    for at, cls in [(3, 1), (5, 0), (7, 1), (22, 1)]:
        run.action_scores.append((at, one_hot[cls]))
        run.action_available_ns.append(at)
    scores = online_action(run, truth)
    assert scores["frame_accuracy"] == pytest.approx((2 + 3) / 20)  # frames 3, 4 and 7, 8, 9
    assert scores["never_right"] == 1 and scores["delay_s"]["count"] == 1
    assert scores["delay_s"]["p50"] == pytest.approx(7e-9)


@pytest.mark.ros
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_streaming_protocol_in_live_replay(setup) -> None:
    """The node in its own process, each output scored when it arrived (on the bag's clock)."""
    args = ["--protocol", "streaming", "--mode", "live", "--lags", "1", "--rate", "0.5"]
    report = replay(setup, "streaming_live", *args)
    assert report["mode"] == "live" and report["figures"] == ["streaming.png"]
    assert [row["run"] for row in report["table"]] == ["segment", "sliding lag 1"]
    for run in report["runs"]:
        assert run["pose_latency_ms"]["count"] == run["poses"] > 0
        assert run["pose_latency_ms"]["p50"] > 0
        assert run["online_action"]["frames"] == run["frames_in_bag"]
    sliding = report["table"][1]
    assert sliding["pose_latency_ms_p50"] >= 1000 / 15 - 1  # one frame of look-ahead at least
