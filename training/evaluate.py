"""Evaluate a checkpoint (ours or the authors') on a data set split with the authors' metrics.

    python -m training.evaluate runs/fpha/checkpoint.pth --data FPHA_ROOT --out reports/fpha

REPORT_DIR receives ``report.json`` (MEPE / MEPE-RA / PCK / AUC per hand, object accuracy,
video-level action accuracy, per-video predictions, and a constant-mean-pose baseline: the mean
training pose predicted for every frame), ``pck.png`` (``pck_left.png`` and ``pck_right.png``
for two hands) and ``action_confusion.png``. Clips, image size and spacing come from the
checkpoint's training config; the authors' checkpoints use the paper's (``--config`` overrides).
Under torchrun the clips are shared among ranks and the predictions gathered.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from htt_ros.data import DatasetError, SequenceDataset
from htt_ros.metrics import confusion_matrix, hand_pose_metrics, plot_confusion, plot_pck
from htt_ros.model import CheckpointError, LoadedCheckpoint, load_checkpoint
from training import distributed
from training.clips import ClipDataset, ClipSpec, eval_loader, load_split
from training.config import Config, ConfigError, DataSection, load_config
from training.distributed import LOG, DistInfo
from training.engine import EvalResult, evaluate


def checkpoint_config(ckpt: LoadedCheckpoint, config_file: Path | None) -> Config:
    """``config_file`` if given, else the checkpoint's training config, else the paper's."""
    if config_file is not None:
        return load_config(config_file)
    if "config" in ckpt.extra:
        return Config.from_dict(ckpt.extra["config"], source=f"{ckpt.path} config")
    if ckpt.labels is None:
        raise ConfigError(f"{ckpt.path} names no data set; pass --config")
    dataset = ckpt.labels.name.split(":")[0]
    return Config(data=DataSection(dataset=dataset))


def mean_pose_baseline(train: SequenceDataset, test: SequenceDataset) -> dict[str, Any]:
    """MEPE / AUC of predicting the mean training pose ``[J, 3]`` for every test frame."""
    mean = np.concatenate([s.joints3d for s in train]).mean(axis=0)
    gt = np.concatenate([s.joints3d for s in test])
    pred = np.broadcast_to(mean, gt.shape)
    return {name: m.to_dict() for name, m in hand_pose_metrics(pred, gt).items()}


def write_report(
    result: EvalResult,
    ckpt: LoadedCheckpoint,
    test: SequenceDataset,
    baseline: dict[str, Any],
    out: Path,
    extra: dict[str, Any],
) -> dict[str, Any]:
    """``report.json``, the PCK plot(s) and the action confusion matrix into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    report = {
        "checkpoint": str(ckpt.path),
        "checkpoint_sha256": ckpt.sha256,
        "checkpoint_kind": ckpt.kind,
        "epoch": ckpt.epoch,
        "data": str(test.root),
        "split": test.split,
        "labels": test.labels.name,
        **extra,
        "summary": result.summary(),
        **result.to_dict(),
        "baseline_mean_pose": baseline,
    }
    (out / "report.json").write_text(json.dumps(report, indent=1))
    hands = sorted(
        {name.removesuffix("joints3d_cent").removesuffix("joints3d") for name in result.pose}
    )
    for hand in hands:
        curves = {
            "absolute": result.pose[f"{hand}joints3d"],
            "root-aligned": result.pose[f"{hand}joints3d_cent"],
        }
        name = f"pck_{hand.rstrip('_')}.png" if hand else "pck.png"
        plot_pck(curves, out / name, title=f"3D PCK {hand.rstrip('_') or 'hand'} ({test.split})")
    names = test.labels.action_names
    matrix = confusion_matrix(result.action.predictions, result.action.labels, len(names))
    plot_confusion(matrix, names, out / "action_confusion.png", title=f"actions ({test.split})")
    return report


def main(args: argparse.Namespace) -> None:
    """Evaluate ``args.checkpoint``; raises the errors :func:`cli` reports."""
    distributed.run(args.device, lambda info: _run(args, info))


def _run(args: argparse.Namespace, info: DistInfo) -> None:
    started = time.perf_counter()
    distributed.setup_logging(info)
    ckpt = load_checkpoint(args.checkpoint, trust_pickle=args.trust_pickle)
    cfg = checkpoint_config(ckpt, args.config)
    d = cfg.data
    split = args.split or "test"
    test = load_split(args.data, d.dataset, split)
    if ckpt.labels is not None and ckpt.labels.to_dict() != test.labels.to_dict():
        raise DatasetError(
            f"{args.data} ({split}) has labels {test.labels.name!r} with "
            f"{len(test.labels.actions)} actions and {len(test.labels.objects)} objects, but "
            f"{ckpt.path} was trained on {ckpt.labels.name!r} with {len(ckpt.labels.actions)} "
            f"and {len(ckpt.labels.objects)}; evaluate on the data set it was trained on"
        )
    model = ckpt.build_model().to(info.device)
    spec = ClipSpec(length=cfg.model.clip_length, window=cfg.model.window, spacing=d.spacing)
    clips = ClipDataset(test, spec, False, d.image_size)
    workers = d.workers if args.workers is None else args.workers
    loader = eval_loader(clips, info, args.batch_size or cfg.train.eval_batch_size, workers)
    LOG.info(
        "evaluating %s (%s, epoch %s) on %s %s: %d sequences, %d clips",
        ckpt.path,
        ckpt.kind,
        ckpt.epoch,
        args.data,
        split,
        len(test),
        len(clips),
    )
    result = evaluate(model, loader, info)
    if not info.is_main:
        return
    baseline = mean_pose_baseline(load_split(args.data, d.dataset, d.train_split), test)
    extra = {"world_size": info.world_size, "seconds": round(time.perf_counter() - started, 2)}
    report = write_report(result, ckpt, test, baseline, Path(args.out), extra)
    LOG.info(
        "report in %s: %s; mean-pose baseline MEPE %s mm",
        args.out,
        ", ".join(f"{k} {v:.4g}" for k, v in report["summary"].items()),
        ", ".join(f"{k} {v['mepe_mm']:.1f}" for k, v in baseline.items()),
    )


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Evaluate an HTT checkpoint with the authors' metrics.", add_help=add_help
    )
    parser.add_argument("checkpoint", type=Path, help="checkpoint (training.train or authors')")
    parser.add_argument("--data", type=Path, required=True, help="data set root")
    parser.add_argument("--out", type=Path, required=True, help="report folder (created)")
    parser.add_argument("--split", help="split to evaluate (default: test)")
    parser.add_argument(
        "--config",
        type=Path,
        help="training config for clips and image size (default: the checkpoint's, or the "
        "paper's for authors' checkpoints)",
    )
    parser.add_argument(
        "--batch-size", type=int, help="clips per batch (default: config train.eval_batch_size)"
    )
    parser.add_argument(
        "--workers", type=int, help="DataLoader workers (default: config data.workers)"
    )
    parser.add_argument(
        "--device", choices=["cpu", "cuda"], help="device (default: cuda when available)"
    )
    parser.add_argument(
        "--trust-pickle",
        action="store_true",
        help="allow pickled objects in the checkpoint (only files you trust; default: off)",
    )
    return parser


def cli(argv: list[str] | None = None) -> int:
    """Command-line entry: known problems are one ``error:`` line, exit code 2."""
    args = get_args_parser().parse_args(argv)
    try:
        main(args)
    except (ConfigError, DatasetError, CheckpointError) as err:
        if int(os.environ.get("RANK", 0)) == 0:
            print(f"training.evaluate: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(cli())
