"""The README's main job (python -m training.demo) end to end on a tiny data set and config:
every step runs, a second run reuses all of them, and a changed config trains again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from training.demo import main

REPO = Path(__file__).resolve().parents[1]
CONFIG = """\
model: {window: 2, clip_length: 4}
data: {dataset: fpha, image_size: [64, 36], spacing: 2, workers: 0}
train: {epochs: %d, batch_size: 2, eval_batch_size: 8, pretrained: false,
        frozen_batchnorm: false, init_mean_pose: true}
"""
STEPS = ("synthesising", "training", "exporting", "writing the held-out sequences")


def run_demo(tmp_path: Path, config: Path) -> str:
    env = os.environ | {"HTT_ROS_HOME": str(tmp_path / "home")}
    args = ["--workdir", str(tmp_path / "work"), "--config", str(config)]
    args += ["--sequences", "8", "--frames", "12", "--rate", "2"]
    proc = subprocess.run(
        [sys.executable, "-m", "training.demo", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    tmp = tmp_path_factory.mktemp("demo")
    (tmp / "tiny.yaml").write_text(CONFIG % 1)
    return tmp, run_demo(tmp, tmp / "tiny.yaml")


@pytest.mark.ros
@pytest.mark.slow
@pytest.mark.timeout(600)  # the demo run in first_run is allowed 400 s
def test_demo_runs_every_step_and_reports_against_the_baselines(first_run) -> None:
    tmp, out = first_run
    assert all(f"==> {name}" in out for name in STEPS), out
    assert "constant mean pose MEPE" in out and "action chance 4.2 %" in out
    report = json.loads((tmp / "work" / "report" / "report.json").read_text())
    assert report["mode"] == "live" and report["poses_matched"] > 0
    card = json.loads((tmp / "home" / "models" / "demo" / "model.json").read_text())
    assert (card["input_width"], card["input_height"]) == (64, 36)


@pytest.mark.ros
@pytest.mark.slow
@pytest.mark.timeout(1200)  # two demo runs, 400 s each allowed
def test_a_second_run_reuses_everything_and_a_new_config_trains_again(first_run) -> None:
    tmp, _ = first_run
    again = run_demo(tmp, tmp / "tiny.yaml")
    assert not any(f"==> {name}" in again for name in STEPS), again
    assert "==> running htt_node live" in again

    (tmp / "tiny.yaml").write_text(CONFIG % 2)
    changed = run_demo(tmp, tmp / "tiny.yaml")
    assert "made from other inputs" in changed
    assert "==> training" in changed and "==> exporting" in changed
    assert "==> synthesising" not in changed and "==> writing the held-out" not in changed
    assert (
        json.loads((tmp / "work" / "run" / "metrics.jsonl").read_text().splitlines()[-1])["epoch"]
        == 2
    )


def test_a_checkpoint_without_a_bag_is_refused_with_the_fix(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--workdir", str(tmp_path), "--checkpoint", str(tmp_path / "model.pth")])
    assert exit_info.value.code == 2
    assert "--checkpoint needs --bag" in capsys.readouterr().err
