"""Clip sampling (as fylwen/HTT's datasets/seqset_htt.py) and the torch ``Dataset`` of training
and evaluation clips.

A clip is T frames taken every ``spacing``-th frame of one sequence (FPHA video, H2O segment),
so it covers ``T * spacing`` raw frames. With k the frame's position in its sequence, a frame
starts a clip when

    train: k mod (T * spacing) < t * spacing   (HTT: k mod 256 < 32, 32 offsets per chunk)
    test:  k mod (T * spacing) < spacing       (HTT: k mod 256 < 2, the even and the odd clip)

so test clips cover every frame exactly once. Past the end of the sequence the clip repeats its
last frame with ``not_padding = 0``.

Items are ``(sequence, start)`` pairs in a fixed order, so any sampler (``DistributedSampler``
included) can shard and shuffle them. Augmentation draws from a generator seeded by ``(seed,
epoch, item)``: a clip's augmentation does not depend on the worker, the rank, or whether the
run was resumed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Subset

from htt_ros.data import IMAGE_SIZE, DatasetError, SequenceDataset, load_fpha, load_h2o
from htt_ros.geometry import POSE_FRAME
from htt_ros.streaming.preprocess import to_network_input
from training.augment import augment_clip
from training.config import DATASETS, AugmentSection, ConfigError
from training.distributed import DistInfo, shard


@dataclass(frozen=True)
class ClipSpec:
    """Clip geometry: ``length`` T frames, P windows of ``window`` t, every ``spacing`` frames."""

    length: int = 128
    window: int = 16
    spacing: int = 2


def clip_starts(num_frames: int, spec: ClipSpec, train: bool) -> np.ndarray:
    """Positions ``[S]`` inside a sequence of ``num_frames`` frames that start a clip."""
    k = np.arange(num_frames)
    limit = spec.window * spec.spacing if train else spec.spacing
    return k[k % (spec.length * spec.spacing) < limit]


def clip_frames(start: int, num_frames: int, spec: ClipSpec) -> tuple[np.ndarray, np.ndarray]:
    """Frame positions ``[T]`` of the clip starting at ``start`` and its ``not_padding [T]``
    (bool); frames past the sequence end repeat the clip's last real frame."""
    idx = start + spec.spacing * np.arange(spec.length)
    valid = idx < num_frames
    idx[~valid] = idx[valid][-1]
    return idx, valid


class ClipDataset(Dataset[dict[str, Any]]):
    """Clips of one data set split, as tensors ready for :class:`htt_ros.model.HTT`.

    Each item is a dict:
        ``images [T, 3, H, W]`` float32, ``uint8 / 255 - 0.5``, at ``image_size``;
        ``intrinsics [T, 3, 3]`` float32 of the 480x270 decoding frame (after augmentation);
        ``joints25d [T, J, 3]`` float32 targets (u, v px of the 480x270 frame, Z m), whatever
        ``image_size`` is (:data:`htt_ros.geometry.POSE_FRAME`);
        ``joints3d [T, J, 3]`` float32 metres, camera frame (unchanged by augmentation);
        ``object [T]`` int64, ``action`` int64, ``not_padding [T]`` float32 (1 real, 0 padded);
        ``index`` int64 item index, ``video`` str sequence key (action voting).

    Args:
        data: a split read by ``load_fpha`` / ``load_h2o``.
        spec: clip geometry.
        train: training start rule (and augmentation if ``augment`` is given) or test rule.
        image_size: network input (W, H); frames are resized from 480x270 by the streaming
            pipeline's own :func:`~htt_ros.streaming.preprocess.to_network_input`, targets are
            not.
        augment: augmentation ranges, or None for none (evaluation).
        seed: base seed of the augmentation.
    """

    def __init__(
        self,
        data: SequenceDataset,
        spec: ClipSpec,
        train: bool,
        image_size: tuple[int, int] = IMAGE_SIZE,
        augment: AugmentSection | None = None,
        seed: int = 0,
    ) -> None:
        self.data = data
        self.spec = spec
        self.image_size = image_size
        self.augment = augment if augment is not None and augment.enabled else None
        self.seed = seed
        self.epoch = 0
        self.items = [
            (i, int(s))
            for i, seq in enumerate(data.sequences)
            for s in clip_starts(seq.num_frames, spec, train)
        ]

    def set_epoch(self, epoch: int) -> None:
        """Select the augmentation of ``epoch`` (call before creating the epoch's iterator)."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict[str, Any]:
        seq_index, start = self.items[index]
        seq = self.data.sequences[seq_index]
        frames, valid = clip_frames(start, seq.num_frames, self.spec)
        unique, inverse = np.unique(frames, return_inverse=True)  # padding repeats a frame
        decoded = self.data.frames(seq_index, unique.tolist())  # [U, 270, 480, 3] uint8
        resized = np.concatenate(
            [to_network_input(f, self.image_size, POSE_FRAME)[0] for f in decoded]
        )
        images = torch.from_numpy(resized)[inverse].permute(0, 3, 1, 2)  # [T, 3, H, W] uint8
        intrinsics = seq.intrinsics  # [3, 3], like the 2D joints in the 480x270 frame
        joints2d = seq.joints2d[frames]  # [T, J, 2]
        if self.augment is not None:
            rng = np.random.default_rng([self.seed, self.epoch, index])
            images, joints2d, intrinsics = augment_clip(
                images, joints2d, intrinsics, self.augment, rng
            )
        else:
            images = images.float() / 255.0
        joints3d = seq.joints3d[frames]  # [T, J, 3]
        length = self.spec.length
        return {
            "images": images - 0.5,
            "intrinsics": torch.from_numpy(np.tile(intrinsics, (length, 1, 1))).float(),
            "joints25d": torch.from_numpy(
                np.concatenate([joints2d, joints3d[..., 2:]], axis=-1)
            ).float(),
            "joints3d": torch.from_numpy(joints3d).float(),
            "object": torch.full((length,), seq.object, dtype=torch.int64),
            "action": torch.tensor(seq.action, dtype=torch.int64),
            "not_padding": torch.from_numpy(valid).float(),
            "index": torch.tensor(index, dtype=torch.int64),
            "video": seq.key,
        }


def load_split(root: str | Path, dataset: str, split: str) -> SequenceDataset:
    """Read ``split`` of the ``dataset`` (``fpha`` or ``h2o``) folder ``root``.

    Raises :class:`htt_ros.data.DatasetError` naming the missing or malformed file (and a
    missing ``root`` itself) before any DataLoader worker starts.
    """
    if split not in DATASETS[dataset]:
        raise ConfigError(f"{dataset} has no split {split!r}; allowed: {list(DATASETS[dataset])}")
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"data folder {root} does not exist (give the {dataset} root)")
    reader = {"fpha": load_fpha, "h2o": load_h2o}[dataset]
    return reader(root, split)


def eval_loader(
    clips: ClipDataset, info: DistInfo, batch_size: int, workers: int
) -> DataLoader[dict[str, Any]]:
    """This rank's share of ``clips`` in item order (nothing repeated, nothing dropped)."""
    return DataLoader(
        Subset(clips, shard(len(clips), info)),
        batch_size=batch_size,
        shuffle=False,
        num_workers=workers,
        pin_memory=info.device.type == "cuda",
    )
