"""End-to-end training on a tiny synthetic data set: learning, kill-and-resume, evaluation, DDP.

The data set (8 short FPHA-layout videos) and the config (32x18 images, T=8, t=2, from scratch)
are tiny so the whole module runs in about two minutes on two CPU cores.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from htt_ros.data import write_dataset
from htt_ros.model import load_checkpoint
from training import evaluate, train

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
CONFIG = """\
model: {window: 2, clip_length: 8}
data: {dataset: fpha, image_size: [32, 18], spacing: 2, workers: 0}
train: {epochs: 2, batch_size: 2, eval_batch_size: 8, lr: 5.0e-4, pretrained: false,
        frozen_batchnorm: false, eval_every: 1, snapshot_every: 1}
"""


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(data folder, config file, scratch folder)."""
    root = tmp_path_factory.mktemp("training")
    data = root / "synth"
    write_dataset(data, "fpha", seed=3, sequences=8, frames=16, subjects=2, progress=False)
    config = root / "tiny.yaml"
    config.write_text(CONFIG)
    return data, config, root


def _train(setup: tuple[Path, Path, Path], run: str, *extra: str) -> Path:
    data, config, root = setup
    out = root / run
    code = train.cli(["--config", str(config), "--data", str(data), "--out", str(out), *extra])
    assert code == 0
    return out


def _metrics(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def full_run(setup: tuple[Path, Path, Path]) -> Path:
    return _train(setup, "full", "--device", "cpu")


def test_training_from_scratch_lowers_the_loss(full_run: Path) -> None:
    epochs = _metrics(full_run)
    assert [e["epoch"] for e in epochs] == [1, 2]
    assert epochs[1]["train"]["loss"] < epochs[0]["train"]["loss"]
    assert {"joints3d/mepe_mm", "object_accuracy", "action_accuracy"} <= set(epochs[1]["val"])
    names = sorted(p.name for p in full_run.iterdir())
    assert names == [
        "checkpoint.pth",
        "checkpoint_001.pth",
        "checkpoint_002.pth",
        "config.yaml",
        "eval.json",
        "metrics.jsonl",
        "tensorboard",
        "train.log",
    ]
    assert any(
        p.name.startswith("events.out.tfevents") for p in (full_run / "tensorboard").iterdir()
    )
    ckpt = load_checkpoint(full_run / "checkpoint.pth")
    assert ckpt.epoch == 2 and ckpt.optimizer and ckpt.scheduler
    assert ckpt.extra["git"] and len(ckpt.extra["rng"]) == 1
    assert ckpt.labels is not None and len(ckpt.labels.actions) == 24  # synthetic verb x noun


def test_resume_after_a_kill_gives_the_same_weights(
    setup: tuple[Path, Path, Path], full_run: Path
) -> None:
    first = _train(setup, "resumed", "--epochs", "1")
    assert load_checkpoint(first / "checkpoint.pth").epoch == 1
    data, _, _ = setup
    assert train.cli(["--data", str(data), "--out", str(first), "--resume", "--epochs", "2"]) == 0
    resumed = load_checkpoint(first / "checkpoint.pth")
    uninterrupted = load_checkpoint(full_run / "checkpoint.pth")
    assert resumed.epoch == 2
    for key, value in uninterrupted.state_dict.items():
        assert torch.allclose(resumed.state_dict[key], value, rtol=0, atol=1e-6), key
    assert _metrics(first)[-1]["train"] == pytest.approx(_metrics(full_run)[-1]["train"])


def test_a_new_run_refuses_to_overwrite_a_checkpoint(
    setup: tuple[Path, Path, Path], full_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, config, _ = setup
    code = train.cli(["--config", str(config), "--data", str(data), "--out", str(full_run)])
    assert code == 2 and "pass --resume" in capsys.readouterr().err


def test_evaluate_writes_report_and_plots(setup: tuple[Path, Path, Path], full_run: Path) -> None:
    data, _, root = setup
    out = root / "report"
    assert (
        evaluate.cli([str(full_run / "checkpoint.pth"), "--data", str(data), "--out", str(out)])
        == 0
    )
    assert {p.name for p in out.iterdir()} == {"report.json", "pck.png", "action_confusion.png"}
    report = json.loads((out / "report.json").read_text())
    assert report["epoch"] == 2 and report["split"] == "test"
    assert 0.0 <= report["action"]["video_accuracy"] <= 1.0 and report["num_videos"] >= 1
    assert report["pose"]["joints3d"]["mepe_mm"] > 0
    assert report["baseline_mean_pose"]["joints3d"]["mepe_mm"] > 0
    # the same checkpoint scored during training gives the same numbers
    during = json.loads((full_run / "eval.json").read_text())
    assert report["action"]["video_accuracy"] == during["action"]["video_accuracy"]
    assert report["pose"]["joints3d"]["mepe_mm"] == pytest.approx(
        during["pose"]["joints3d"]["mepe_mm"]
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.timeout(600)  # torchrun is allowed 240 s, then a single-process evaluation
def test_two_process_gloo_run(setup: tuple[Path, Path, Path]) -> None:
    data, config, root = setup
    out = root / "ddp"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
        "--master-port", str(_free_port()), "-m", "training.train", "--config", str(config),
        "--data", str(data), "--out", str(out), "--epochs", "1", "--device", "cpu",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    log = (out / "train.log").read_text()
    assert "cpu x 2" in log and "weights identical on all 2 ranks" in log
    # only rank 0 wrote: one checkpoint, no temporary files, no rank-1 log lines
    assert sorted(p.name for p in out.glob("*.pth*")) == ["checkpoint.pth", "checkpoint_001.pth"]
    assert "[rank 1]" not in log
    ckpt = load_checkpoint(out / "checkpoint.pth")
    assert ckpt.extra["world_size"] == 2 and len(ckpt.extra["rng"]) == 2
    assert ckpt.extra["rng"][0] != ckpt.extra["rng"][1]  # ranks are seeded apart
    # metrics gathered from both ranks == one process evaluating the same checkpoint
    report_dir = root / "ddp_report"
    assert (
        evaluate.cli([str(out / "checkpoint.pth"), "--data", str(data), "--out", str(report_dir)])
        == 0
    )
    single = json.loads((report_dir / "report.json").read_text())
    gathered = json.loads((out / "eval.json").read_text())
    assert gathered["num_clips"] == single["num_clips"]
    assert gathered["num_frames"] == single["num_frames"]
    assert gathered["videos"] == single["videos"]
    assert gathered["object_accuracy"] == pytest.approx(single["object_accuracy"])
    for name, metrics in single["pose"].items():
        assert gathered["pose"][name]["mepe_mm"] == pytest.approx(metrics["mepe_mm"], rel=1e-4)
        assert gathered["pose"][name]["auc"] == pytest.approx(metrics["auc"], abs=1e-3)
