"""Train HTT with the paper's recipe (Adam 3e-5, StepLR(15, 0.5), 45 epochs, 2 clips per batch).

    python -m training.train --config training/configs/fpha.yaml --data FPHA_ROOT --out runs/fpha
    torchrun --nproc-per-node 4 -m training.train --config ... --data ... --out ...
    python -m training.train --data FPHA_ROOT --out runs/fpha --resume   # after a kill

RUN_DIR receives ``checkpoint.pth`` (written atomically after every epoch: weights, optimizer,
scheduler, epoch, config, labels, args, RNG states of every rank, git SHA),
``checkpoint_<epoch>.pth`` snapshots, ``config.yaml``, ``train.log``, ``metrics.jsonl`` (one
line per epoch), ``eval.json`` (the latest full evaluation) and ``tensorboard/``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import yaml
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from torch.utils.tensorboard import SummaryWriter

from htt_ros.data import DatasetError, SequenceDataset
from htt_ros.data.dataset import CACHE_DIRNAME
from htt_ros.model import HTT, CheckpointError, HTTConfig, LoadedCheckpoint, load_checkpoint
from htt_ros.model.checkpoint import save_checkpoint
from htt_ros.model.pretrained import PretrainedWeightsMissing, build_htt
from training import distributed
from training.clips import ClipDataset, ClipSpec, eval_loader, load_split
from training.config import Config, ConfigError, load_config
from training.distributed import LOG, DistInfo, EpochSampler
from training.engine import NonFiniteLossError, evaluate, train_one_epoch
from training.losses import mean_raw_pose

CHECKPOINT = "checkpoint.pth"


def git_revision() -> str:
    """Commit of this checkout (``-dirty`` when tracked files changed), or ``unknown``."""
    repo = Path(__file__).resolve().parents[1]
    try:
        sha = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return sha + ("-dirty" if dirty else "")


def resolve_config(args: argparse.Namespace, resume: LoadedCheckpoint | None) -> Config:
    """The run's config: the checkpoint's when resuming, else ``--config``; then the flags."""
    if resume is not None:
        if args.config is not None:
            LOG.info("resuming: using the run's saved config, not %s", args.config)
        cfg = Config.from_dict(resume.extra["config"], source=f"{resume.path} config")
    elif args.config is None:
        raise ConfigError("--config FILE is required (unless --resume continues a run)")
    else:
        cfg = load_config(args.config)
    cfg = cfg.override(
        "train",
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        eval_every=args.eval_every,
        pretrained=False if args.from_scratch else None,
    )
    if args.workers is not None:
        cfg = cfg.replace("data", workers=args.workers)
    return cfg


def load_resume(out: Path) -> LoadedCheckpoint:
    """The run's last checkpoint, checked to be a training checkpoint of ours."""
    ckpt = load_checkpoint(out / CHECKPOINT)
    if ckpt.kind != "htt_ros" or "config" not in ckpt.extra or ckpt.optimizer is None:
        raise CheckpointError(
            f"{ckpt.path} is not a training checkpoint written by training.train (no config or "
            f"optimizer state); --resume needs the RUN_DIR of an earlier training run"
        )
    return ckpt


def load_data(root: Path, cfg: Config, info: DistInfo) -> tuple[SequenceDataset, SequenceDataset]:
    """Train and validation splits (decoded-frame cache built by rank 0 if asked)."""
    d = cfg.data
    train_data = load_split(root, d.dataset, d.train_split)
    val_data = load_split(root, d.dataset, d.val_split)
    if train_data.labels != val_data.labels:
        raise DatasetError(f"{root}: the {d.train_split} and {d.val_split} label sets differ")
    if d.cache:
        if info.is_main:
            train_data.build_cache()
            val_data.build_cache()
        distributed.barrier()
        train_data.cache_dir = val_data.cache_dir = root / CACHE_DIRNAME
    return train_data, val_data


def write_json_line(path: Path, record: dict[str, Any]) -> None:
    with path.open("a") as f:
        f.write(json.dumps(record) + "\n")


def main(args: argparse.Namespace) -> None:
    """Train (or resume) a run; raises the errors :func:`cli` reports."""
    distributed.run(args.device, lambda info: _run(args, info))


@dataclass
class Trainee:
    """The network and what steps it."""

    model: HTT
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler


@dataclass
class Loaders:
    """Training clips (re-drawn each epoch by ``sampler``) and validation clips."""

    train_clips: ClipDataset
    sampler: EpochSampler
    train: DataLoader
    val: DataLoader


def _run(args: argparse.Namespace, info: DistInfo) -> None:
    started = time.perf_counter()
    out = Path(args.out)
    if info.is_main:
        out.mkdir(parents=True, exist_ok=True)
    distributed.barrier()
    distributed.setup_logging(info, out / "train.log")
    if not args.resume and (out / CHECKPOINT).exists():
        raise ConfigError(
            f"{out / CHECKPOINT} exists: pass --resume to continue that run or choose a new --out"
        )
    resume = load_resume(out) if args.resume else None
    cfg = resolve_config(args, resume)
    git = git_revision()
    LOG.info(
        "training on %s x %d (%s), code %s, config %s",
        info.device,
        info.world_size,
        "resuming" if resume else "new run",
        git,
        json.dumps(cfg.to_dict()),
    )
    if info.is_main:
        (out / "config.yaml").write_text(yaml.safe_dump(cfg.to_dict(), sort_keys=False))

    distributed.seed_everything(cfg.train.seed)  # the same initial weights on every rank
    train_data, val_data = load_data(Path(args.data), cfg, info)
    trainee = build_trainee(cfg, train_data, info, new_run=resume is None)
    start_epoch, global_step = 0, 0
    if resume is not None:
        start_epoch, global_step = restore(resume, trainee)
    distributed.seed_everything(cfg.train.seed + info.rank)
    if resume is not None:
        restore_rng(resume, info)
    loaders = make_loaders(Path(args.data), cfg, train_data, val_data, info)
    run = {
        "config": cfg.to_dict(),
        "args": {
            k: v if v is None or isinstance(v, bool | int | float) else str(v)
            for k, v in vars(args).items()
        },
        "git": git,
        "world_size": info.world_size,
    }
    train_epochs(out, cfg, trainee, loaders, info, start_epoch, global_step, run)
    LOG.info(
        "finished %d epochs (this invocation ran %d) in %.1f s",
        cfg.train.epochs,
        cfg.train.epochs - start_epoch,
        time.perf_counter() - started,
    )


def build_trainee(
    cfg: Config, train_data: SequenceDataset, info: DistInfo, new_run: bool
) -> Trainee:
    """The network sized by the config and the data set's labels, on ``info.device``, with its
    Adam and StepLR; a new run starts from ImageNet weights and the mean pose if configured."""
    t, labels = cfg.train, train_data.labels
    net_cfg = HTTConfig(
        num_joints=labels.num_joints,
        num_objects=len(labels.objects),
        num_actions=len(labels.actions),
        **vars(cfg.model),
    )
    model = build_htt(net_cfg, labels, pretrained=t.pretrained and new_run)
    model.trunk.fc.requires_grad_(False)  # never applied (authors' unused ResNet classifier)
    if t.init_mean_pose and new_run:
        mean = mean_raw_pose(train_data)  # [J, 3], the head's (j, xyz) order
        with torch.no_grad():
            model.pose_head[-1].bias.copy_(torch.from_numpy(mean.reshape(-1)))
    model.to(info.device)
    optimizer = torch.optim.Adam(  # fused: one kernel for all parameters, 3x faster on CPU
        [p for p in model.parameters() if p.requires_grad],
        lr=t.lr,
        weight_decay=t.weight_decay,
        fused=True,
    )
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=t.lr_step, gamma=t.lr_gamma)
    return Trainee(model, optimizer, scheduler)


def restore(resume: LoadedCheckpoint, trainee: Trainee) -> tuple[int, int]:
    """Load the checkpoint's weights, optimizer and scheduler; returns (epoch, global step)."""
    trainee.model.load_state_dict(resume.state_dict)
    trainee.optimizer.load_state_dict(resume.optimizer or {})
    trainee.scheduler.load_state_dict(resume.scheduler or {})
    epoch, global_step = int(resume.epoch or 0), int(resume.extra["global_step"])
    LOG.info("resumed %s after epoch %d", resume.path, epoch)
    return epoch, global_step


def restore_rng(resume: LoadedCheckpoint, info: DistInfo) -> None:
    """This rank's RNG state from the checkpoint (rank 0's when the world size changed)."""
    states = resume.extra["rng"]
    if len(states) != info.world_size:
        LOG.warning(
            "checkpoint has RNG states of %d ranks, this run has %d: ranks reuse rank "
            "0's state (the data order and augmentation do not depend on it)",
            len(states),
            info.world_size,
        )
    distributed.set_rng_state(states[info.rank if len(states) == info.world_size else 0])


def make_loaders(
    root: Path,
    cfg: Config,
    train_data: SequenceDataset,
    val_data: SequenceDataset,
    info: DistInfo,
) -> Loaders:
    """Clips of both splits and their loaders; raises DatasetError when no step fits."""
    d, t = cfg.data, cfg.train
    spec = ClipSpec(length=cfg.model.clip_length, window=cfg.model.window, spacing=d.spacing)
    train_clips = ClipDataset(train_data, spec, True, d.image_size, cfg.augment, seed=t.seed)
    val_clips = ClipDataset(val_data, spec, False, d.image_size)
    sampler = EpochSampler(len(train_clips), info, seed=t.seed, per_epoch=t.clips_per_epoch)
    loader = DataLoader(
        train_clips,
        batch_size=t.batch_size,
        sampler=sampler,
        num_workers=d.workers,
        pin_memory=info.device.type == "cuda",
        drop_last=True,  # as the authors
    )
    if len(loader) == 0:
        raise DatasetError(
            f"{root}: the {d.train_split} split gives {len(train_clips)} training clips, "
            f"fewer than train.batch_size {t.batch_size} x {info.world_size} ranks"
        )
    val_loader = eval_loader(val_clips, info, t.eval_batch_size, d.workers)
    LOG.info(
        "%s: %d %s sequences -> %d training clips (%d steps per epoch per rank); %d %s "
        "sequences -> %d test clips; clips of T=%d frames every %d, P windows of t=%d, images "
        "%dx%d",
        root,
        len(train_data),
        d.train_split,
        len(train_clips),
        len(loader),
        len(val_data),
        d.val_split,
        len(val_clips),
        spec.length,
        spec.spacing,
        spec.window,
        *d.image_size,
    )
    return Loaders(train_clips, sampler, loader, val_loader)


def train_epochs(
    out: Path,
    cfg: Config,
    trainee: Trainee,
    loaders: Loaders,
    info: DistInfo,
    start_epoch: int,
    global_step: int,
    run: dict[str, Any],
) -> None:
    """Epochs ``start_epoch`` to the last: train, validate when due, and (rank 0) log, write
    the checkpoint, snapshots and metrics; ``run`` goes into every checkpoint."""
    t, model = cfg.train, trainee.model
    net: torch.nn.Module = model
    if info.distributed:
        net = DistributedDataParallel(
            model, device_ids=[info.local_rank] if info.device.type == "cuda" else None
        )
    writer = SummaryWriter(out / "tensorboard", purge_step=global_step) if info.is_main else None
    for epoch in range(start_epoch, t.epochs):
        epoch_start = time.perf_counter()
        loaders.sampler.set_epoch(epoch)
        loaders.train_clips.set_epoch(epoch)
        lr = trainee.scheduler.get_last_lr()[0]
        means = train_one_epoch(
            net,
            loaders.train,
            trainee.optimizer,
            cfg.loss,
            epoch,
            info,
            frozen_batchnorm=t.frozen_batchnorm,
            writer=writer,
            global_step=global_step,
        )
        global_step += len(loaders.train)
        trainee.scheduler.step()
        record: dict[str, Any] = {"epoch": epoch + 1, "lr": lr, "train": means}
        if (epoch + 1) % t.eval_every == 0 or epoch + 1 == t.epochs:
            distributed.broadcast_buffers(model)
            result = evaluate(model, loaders.val, info)
            record["val"] = result.summary()
            if info.is_main:
                (out / "eval.json").write_text(
                    json.dumps({"epoch": epoch + 1, **result.to_dict()}, indent=1)
                )
        rng = distributed.all_gather_objects(distributed.rng_state())
        if info.distributed:
            LOG.info(
                "weights identical on all %d ranks (sha256 %s)",
                info.world_size,
                distributed.check_in_sync(model),
            )
        if writer is not None:
            log_scalars(writer, record)
            extra = run | {"global_step": global_step, "rng": rng, "metrics": record}
            last = epoch + 1 == t.epochs
            save_epoch(out, trainee, epoch + 1, extra, (epoch + 1) % t.snapshot_every == 0 or last)
            record["time_s"] = round(time.perf_counter() - epoch_start, 2)
            write_json_line(out / "metrics.jsonl", record)
        distributed.barrier()
        LOG.info(
            "epoch %d/%d done in %.1f s (lr %.3g); checkpoint %s",
            epoch + 1,
            t.epochs,
            time.perf_counter() - epoch_start,
            lr,
            out / CHECKPOINT,
        )
    if writer is not None:
        writer.close()


def log_scalars(writer: SummaryWriter, record: dict[str, Any]) -> None:
    """The epoch's learning rate, training losses and validation metrics to TensorBoard."""
    epoch = record["epoch"]
    writer.add_scalar("lr", record["lr"], epoch)
    for k, v in record["train"].items():
        writer.add_scalar(f"train/{k}", v, epoch)
    for k, v in record.get("val", {}).items():
        writer.add_scalar(f"val/{k}", v, epoch)
    writer.flush()


def save_epoch(
    out: Path, trainee: Trainee, epoch: int, extra: dict[str, Any], snapshot: bool
) -> None:
    """Write ``checkpoint.pth`` (atomically) and, with ``snapshot``, ``checkpoint_<epoch>.pth``."""
    save_checkpoint(
        out / CHECKPOINT,
        trainee.model,
        optimizer=trainee.optimizer,
        scheduler=trainee.scheduler,
        epoch=epoch,
        extra=extra,
    )
    if snapshot:
        path = out / f"checkpoint_{epoch:03d}.pth"
        shutil.copyfile(out / CHECKPOINT, path.with_suffix(".tmp"))
        os.replace(path.with_suffix(".tmp"), path)


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Train HTT (Wen et al., CVPR 2023) on FPHA, H2O or a synthetic set.",
        add_help=add_help,
    )
    # * Run
    parser.add_argument(
        "--config", type=Path, help="YAML config (training/configs/*.yaml); not needed to resume"
    )
    parser.add_argument(
        "--data", type=Path, required=True, help="data set root (FPHA or H2O folder layout)"
    )
    parser.add_argument("--out", type=Path, required=True, help="run folder (created)")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out from its checkpoint.pth (default: off, new run)",
    )
    parser.add_argument(
        "--device",
        choices=["cpu", "cuda"],
        help="device (default: cuda when available, else cpu); torchrun uses LOCAL_RANK's GPU",
    )
    # * Overrides of the config
    parser.add_argument("--epochs", type=int, help="total epochs (default: config train.epochs)")
    parser.add_argument(
        "--batch-size", type=int, help="clips per step per rank (default: config train.batch_size)"
    )
    parser.add_argument("--lr", type=float, help="Adam learning rate (default: config train.lr)")
    parser.add_argument("--seed", type=int, help="random seed (default: config train.seed)")
    parser.add_argument(
        "--eval-every", type=int, help="validate every N epochs (default: config train.eval_every)"
    )
    parser.add_argument(
        "--workers", type=int, help="DataLoader workers per rank (default: config data.workers)"
    )
    parser.add_argument(
        "--from-scratch",
        action="store_true",
        help="random ResNet-18 instead of ImageNet weights (default: config train.pretrained)",
    )
    return parser


def cli(argv: list[str] | None = None) -> int:
    """Command-line entry: known problems are one ``error:`` line (rank 0), exit code 1 or 2."""
    args = get_args_parser().parse_args(argv)
    try:
        main(args)
    except NonFiniteLossError as err:
        LOG.error("%s", err)
        return 1
    except (
        ConfigError,
        DatasetError,
        CheckpointError,
        PretrainedWeightsMissing,
    ) as err:
        if int(os.environ.get("RANK", 0)) == 0:
            print(f"training.train: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(cli())
