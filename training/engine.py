"""One training epoch and one evaluation pass (the torchvision / DETR ``engine.py`` split).

Training runs the network in eval mode when batch-norm is frozen, as the authors do: batch-norm
then uses its running statistics and never updates them, while its affine parameters still
learn (the network has no dropout, so nothing else changes).

Evaluation runs every rank on its shard of the test clips, gathers the per-clip predictions on
every rank, and scores them with :mod:`htt_ros.metrics`: MEPE, MEPE-RA, PCK/AUC per hand,
per-frame object accuracy and video-level action accuracy by summed clip probabilities.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Sized
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.tensorboard import SummaryWriter

from htt_ros.metrics import (
    PoseMetrics,
    VideoActionResult,
    hand_pose_metrics,
    object_accuracy,
    video_action_accuracy,
)
from htt_ros.model.decoding import decode_25d
from htt_ros.progress import Progress, progress_iter
from training.config import LossSection
from training.distributed import LOG, DistInfo, all_finite, all_gather_objects, all_reduce_sum
from training.losses import htt_loss

TARGETS = ("intrinsics", "joints25d", "joints3d", "object", "action", "not_padding")


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; the run stops (the last checkpoint is the one before)."""


def _to_device(batch: dict[str, Any], device: torch.device) -> dict[str, Any]:
    return {
        k: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v
        for k, v in batch.items()
    }


def train_one_epoch(
    model: nn.Module,
    loader: Iterable[dict[str, Any]],
    optimizer: torch.optim.Optimizer,
    loss_weights: LossSection,
    epoch: int,
    info: DistInfo,
    frozen_batchnorm: bool = True,
    writer: SummaryWriter | None = None,
    global_step: int = 0,
) -> dict[str, float]:
    """Train one epoch; returns the mean of each loss term over all ranks' steps.

    ``model`` may be wrapped in DistributedDataParallel. ``global_step`` is the step count
    before this epoch (TensorBoard x axis). Raises :class:`NonFiniteLossError` on every rank as
    soon as any rank's loss is not finite.
    """
    model.train(not frozen_batchnorm)
    sums: dict[str, torch.Tensor] = defaultdict(lambda: torch.zeros((), device=info.device))
    steps = 0
    start = time.perf_counter()
    total = len(loader) if isinstance(loader, Sized) else None
    bar = Progress(f"epoch {epoch + 1} train", total, unit="steps", enabled=info.is_main)
    for batch in bar.iterate(loader):
        batch = _to_device(batch, info.device)
        outputs = model(batch["images"], batch["not_padding"] > 0)
        loss, terms = htt_loss(outputs, batch, loss_weights)
        if not all_finite(loss):
            values = {k: round(float(v), 6) for k, v in terms.items()}
            raise NonFiniteLossError(
                f"non-finite loss at epoch {epoch + 1}, step {steps + 1} (on at least one "
                f"rank); this rank's terms: {values}. Stopping; lower train.lr or check the data"
            )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        steps += 1
        for k, v in terms.items():
            sums[k] += v
        if info.is_main:
            bar.set_postfix(f"loss {float(terms['loss']):.3f}")
            if writer is not None:
                for k, v in terms.items():
                    writer.add_scalar(f"train_step/{k}", float(v), global_step + steps)
    count = all_reduce_sum(torch.tensor(float(steps), device=info.device))
    means = {k: float(all_reduce_sum(v) / count.clamp(min=1)) for k, v in sums.items()}
    LOG.info(
        "epoch %d: %d steps x %d ranks in %.1f s, %s",
        epoch + 1,
        steps,
        info.world_size,
        time.perf_counter() - start,
        ", ".join(f"{k} {v:.4f}" for k, v in means.items()),
    )
    return means


@dataclass(frozen=True)
class EvalResult:
    """Scores of one evaluation pass over every test clip of a split.

    Attributes:
        pose: evaluator name (``joints3d``, ``joints3d_cent`` or per hand ``left_`` /
            ``right_``) -> :class:`htt_ros.metrics.PoseMetrics`.
        object_accuracy: per-frame object accuracy on real frames.
        action: video-level action result (soft voting over clips).
        num_clips, num_frames: clips and real frames scored.
    """

    pose: dict[str, PoseMetrics]
    object_accuracy: float
    action: VideoActionResult
    num_clips: int
    num_frames: int

    def summary(self) -> dict[str, float]:
        """Headline numbers (mm and fractions) for logs and TensorBoard."""
        out = {f"{name}/mepe_mm": 1000.0 * m.mepe for name, m in self.pose.items()}
        out |= {f"{name}/auc": m.auc for name, m in self.pose.items()}
        out |= {
            "object_accuracy": self.object_accuracy,
            "action_accuracy": self.action.accuracy,
            "action_clip_accuracy": self.action.clip_accuracy,
        }
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready report (lengths in mm)."""
        return {
            "pose": {name: m.to_dict() for name, m in self.pose.items()},
            "object_accuracy": self.object_accuracy,
            "action": {  # the keys htt-replay's report uses too
                "video_accuracy": self.action.accuracy,
                "clip_accuracy": self.action.clip_accuracy,
            },
            "num_clips": self.num_clips,
            "num_frames": self.num_frames,
            "num_videos": len(self.action.videos),
            "videos": {
                str(key): {"label": int(label), "prediction": int(pred)}
                for key, label, pred in zip(
                    self.action.videos, self.action.labels, self.action.predictions, strict=True
                )
            },
        }


@torch.no_grad()
def predict(model: nn.Module, loader: Iterable[dict[str, Any]], info: DistInfo) -> dict[str, Any]:
    """Run ``model`` (unwrapped) on this rank's clips; per-clip numpy arrays keyed by name:
    ``index [C]``, ``video`` (C keys), ``joints3d``/``gt_joints3d [C, L, J, 3]``,
    ``not_padding [C, L]``, ``object_logits [C, L, O]``, ``object [C, L]``,
    ``action_probs [C, A]``, ``action [C]``."""
    model.eval()
    parts: dict[str, list[Any]] = defaultdict(list)
    for batch in progress_iter(loader, "evaluate", unit="batches", enabled=info.is_main):
        videos = batch["video"]
        batch = _to_device(batch, info.device)
        out = model(batch["images"], batch["not_padding"] > 0)
        _, _, joints3d = decode_25d(out["pose_raw"], batch["intrinsics"])
        values = {
            "index": batch["index"],
            "joints3d": joints3d,
            "gt_joints3d": batch["joints3d"],
            "not_padding": batch["not_padding"],
            "object_logits": out["object_logits"],
            "object": batch["object"],
            "action_probs": out["action_logits"].softmax(dim=-1),
            "action": batch["action"],
        }
        for k, v in values.items():
            parts[k].append(v.cpu().numpy())
        parts["video"].extend(videos)
    return {k: v if k == "video" else np.concatenate(v) for k, v in parts.items()}


def evaluate(model: nn.Module, loader: Iterable[dict[str, Any]], info: DistInfo) -> EvalResult:
    """Evaluate on every rank's shard, gather, and score (the same result on every rank)."""
    start = time.perf_counter()
    local = predict(model, loader, info)
    shards = [s for s in all_gather_objects(local) if "index" in s]  # empty shards have no keys
    if not shards:
        raise ValueError("no evaluation clips: the split has no frames")
    order = np.argsort(np.concatenate([s["index"] for s in shards]), kind="stable")
    merged = {k: np.concatenate([s[k] for s in shards])[order] for k in shards[0] if k != "video"}
    videos = [v for s in shards for v in s["video"]]
    videos = [videos[i] for i in order]
    frames = merged["joints3d"].shape[1]
    per_frame = ("joints3d", "gt_joints3d", "not_padding", "object_logits", "object")
    flat = {k: merged[k].reshape(-1, *merged[k].shape[2:]) for k in per_frame}  # [C * L, ...]
    pose = hand_pose_metrics(flat["joints3d"], flat["gt_joints3d"], flat["not_padding"])
    result = EvalResult(
        pose=pose,
        object_accuracy=object_accuracy(
            flat["object_logits"], flat["object"], flat["not_padding"]
        ),
        action=video_action_accuracy(merged["action_probs"], merged["action"], videos),
        num_clips=len(videos),
        num_frames=int((flat["not_padding"] > 0).sum()),
    )
    LOG.info(
        "evaluated %d clips (%d real frames of %d) in %.1f s: %s",
        result.num_clips,
        result.num_frames,
        frames * result.num_clips,
        time.perf_counter() - start,
        ", ".join(f"{k} {v:.4g}" for k, v in result.summary().items()),
    )
    return result
