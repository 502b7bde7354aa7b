"""The paper's two central claims, measured on one data set with a reduced budget.

    python -m training.experiments.claims --data /tmp/synth --out /tmp/claims \\
        --config training/configs/synthetic.yaml

(a) pose: short windows beat single frames. Block P over t = ``--pose-windows`` (default 16
    and 1) frames, both with clips of T = the largest window and the base config's frames per
    step (its ``batch_size * T``, as whole clips of T); scored by MEPE (mm).
(b) action: long windows beat short ones. Clips of T = ``--action-lengths`` (default 16 and
    64) frames, both with the config's t and ``--action-batch`` clips per step (default 2, the
    paper's batch), so the longer clips cost proportionally more compute, as in the paper;
    scored by video-level action accuracy.

Every run starts from ``--config`` (the base: image size, augmentation, learning rate,
schedule, seed) and makes its number of steps per epoch (``clips_per_epoch / batch_size``); the
runs of a pair differ only in t or T. Each run is trained with ``training.train`` and scored
with ``training.evaluate`` on the config's validation split. OUT receives one run and report
folder per setting, ``claims.json`` (settings, wall times, headline numbers, mean-pose
baseline, chance) and ``claims.md`` (the table).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from training import evaluate, train
from training.clips import load_split
from training.config import Config, ConfigError, load_config


@dataclass(frozen=True)
class Setting:
    """One training run of a claim: its name, the claim it serves and its config."""

    name: str
    claim: str
    config: Config


def with_clips(base: Config, clip_length: int, window: int, batch_size: int) -> Config:
    """``base`` with clips of ``clip_length`` frames, windows of ``window`` and ``batch_size``
    clips per step, making the base's number of steps per epoch."""
    t = base.train
    if t.clips_per_epoch == 0:
        raise ConfigError("claims: the base config needs train.clips_per_epoch > 0")
    steps = t.clips_per_epoch // t.batch_size
    cfg = base.replace("model", clip_length=clip_length, window=window)
    return cfg.replace("train", batch_size=batch_size, clips_per_epoch=steps * batch_size)


def settings(
    base: Config, pose_windows: list[int], action_lengths: list[int], action_batch: int = 2
) -> list[Setting]:
    """The runs of both claims (pose runs use T = max window, action runs the base's t)."""
    pose_length = max(pose_windows)
    frames = base.train.batch_size * base.model.clip_length
    if frames % pose_length:
        raise ConfigError(
            f"claims: train.batch_size {base.train.batch_size} x T={base.model.clip_length} is "
            f"not a multiple of T={pose_length}; choose a batch size that makes whole clips"
        )
    runs = [
        Setting(f"pose_t{t}", "pose", with_clips(base, pose_length, t, frames // pose_length))
        for t in pose_windows
    ]
    window = base.model.window
    for length in action_lengths:
        if length % window:
            raise ConfigError(f"claims: T={length} is not a multiple of the config's t={window}")
    runs += [
        Setting(f"action_T{T}", "action", with_clips(base, T, window, action_batch))
        for T in action_lengths
    ]
    return runs


def run_setting(setting: Setting, data: Path, out: Path, extra: list[str]) -> dict[str, Any]:
    """Train and evaluate one setting (skipped when its report exists); its summary."""
    run_dir, report_dir = out / setting.name, out / f"{setting.name}_report"
    report_file = report_dir / "report.json"
    if not report_file.exists():
        config_file = out / f"{setting.name}.yaml"
        config_file.write_text(yaml.safe_dump(setting.config.to_dict(), sort_keys=False))
        started = time.perf_counter()
        args = ["--config", str(config_file), "--data", str(data), "--out", str(run_dir)]
        if train.cli([*args, *extra]) != 0:
            raise RuntimeError(f"training {setting.name} failed; see {run_dir / 'train.log'}")
        seconds = time.perf_counter() - started
        (run_dir / "wall_time.json").write_text(json.dumps({"train_seconds": seconds}))
        checkpoint = str(run_dir / train.CHECKPOINT)
        if evaluate.cli([checkpoint, "--data", str(data), "--out", str(report_dir)]) != 0:
            raise RuntimeError(f"evaluating {setting.name} failed")
    report = json.loads(report_file.read_text())
    wall = json.loads((run_dir / "wall_time.json").read_text())["train_seconds"]
    m, t = setting.config.model, setting.config.train
    return {
        "name": setting.name,
        "claim": setting.claim,
        "T": m.clip_length,
        "t": m.window,
        "batch_size": t.batch_size,
        "clips_per_epoch": t.clips_per_epoch,
        "epochs": t.epochs,
        "train_seconds": round(wall, 1),
        "mepe_mm": report["summary"]["joints3d/mepe_mm"],
        "mepe_ra_mm": report["summary"]["joints3d_cent/mepe_mm"],
        "object_accuracy": report["object_accuracy"],
        "action_accuracy": report["action"]["video_accuracy"],
        "action_clip_accuracy": report["action"]["clip_accuracy"],
        "num_videos": report["num_videos"],
        "baseline_mepe_mm": report["baseline_mean_pose"]["joints3d"]["mepe_mm"],
    }


def markdown(rows: list[dict[str, Any]], chance: float) -> str:
    """The results as a markdown table."""
    lines = [
        "| run | claim | T | t | batch | clips/epoch x epochs | train s | MEPE mm | MEPE-RA mm "
        "| object acc | video action acc |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['claim']} | {r['T']} | {r['t']} | {r['batch_size']} | "
            f"{r['clips_per_epoch']} x {r['epochs']} | {r['train_seconds']:.0f} | "
            f"{r['mepe_mm']:.1f} | {r['mepe_ra_mm']:.1f} | {100 * r['object_accuracy']:.1f} % | "
            f"{100 * r['action_accuracy']:.1f} % |"
        )
    baseline = rows[0]["baseline_mepe_mm"] if rows else float("nan")
    lines.append("")
    lines.append(
        f"Constant-mean-pose baseline MEPE {baseline:.1f} mm; action chance {100 * chance:.1f} % "
        f"({rows[0]['num_videos'] if rows else 0} test videos)."
    )
    return "\n".join(lines) + "\n"


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Measure HTT's two claims (t for pose, T for actions) on one data set."
    )
    parser.add_argument("--data", type=Path, required=True, help="data set root")
    parser.add_argument("--out", type=Path, required=True, help="results folder (created)")
    parser.add_argument(
        "--config",
        type=Path,
        default=Path(__file__).resolve().parents[1] / "configs" / "synthetic.yaml",
        help="base config; needs train.clips_per_epoch > 0 (default: configs/synthetic.yaml)",
    )
    parser.add_argument(
        "--pose-windows",
        type=int,
        nargs="+",
        default=[16, 1],
        help="block-P windows t of claim (a) (default: 16 1)",
    )
    parser.add_argument(
        "--action-lengths",
        type=int,
        nargs="+",
        default=[16, 64],
        help="clip lengths T of claim (b) (default: 16 64)",
    )
    parser.add_argument(
        "--action-batch",
        type=int,
        default=2,
        help="clips per step of both runs of claim (b) (default: 2, the paper's batch)",
    )
    parser.add_argument("--epochs", type=int, help="override train.epochs of the base config")
    parser.add_argument(
        "--clips-per-epoch", type=int, help="override train.clips_per_epoch of the base config"
    )
    parser.add_argument(
        "--batch-size", type=int, help="override train.batch_size of the base config"
    )
    parser.add_argument("--device", choices=["cpu", "cuda"], help="passed to training.train")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    try:
        base = load_config(args.config).override(
            "train",
            epochs=args.epochs,
            clips_per_epoch=args.clips_per_epoch,
            batch_size=args.batch_size,
        )
        runs = settings(base, args.pose_windows, args.action_lengths, args.action_batch)
    except ConfigError as err:
        print(f"claims: error: {err}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    extra = ["--device", args.device] if args.device else []
    rows = [run_setting(s, args.data, args.out, extra) for s in runs]
    chance = 1.0 / len(load_split(args.data, base.data.dataset, "train").labels.actions)
    summary = {"data": str(args.data), "base_config": base.to_dict(), "chance": chance}
    summary["runs"] = rows
    (args.out / "claims.json").write_text(json.dumps(summary, indent=1))
    table = markdown(rows, chance)
    (args.out / "claims.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
