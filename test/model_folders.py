"""Small model folders exported from random-weight networks, for pipeline and node tests."""

from pathlib import Path

import numpy as np
import torch

from htt_ros.labels import FPHA, H2O
from htt_ros.model import HTT, HTTConfig, save_checkpoint
from htt_ros.tools.htt_export import main as export_main

SIZE = (112, 64)  # network input (W, H): small keeps the tests fast; the net is size-agnostic


def export_small_model(folder: Path, dataset: str = "fpha", clip_length: int = 32) -> Path:
    """Export a seeded random-weight ``dataset`` network with T=``clip_length`` to ``folder``."""
    torch.manual_seed(0)
    net = HTT(
        HTTConfig.for_dataset(dataset, clip_length=clip_length),
        labels=FPHA if dataset == "fpha" else H2O,
    )
    checkpoint = folder.with_suffix(".pth")
    save_checkpoint(checkpoint, net)
    assert export_main([str(checkpoint), str(folder), "--input-size", *map(str, SIZE)]) == 0
    return folder


def camera_frames(n: int, size: tuple[int, int], seed: int = 0) -> np.ndarray:
    """``n`` smooth random RGB frames ``(n, H, W, 3)`` uint8 that change a little each frame."""
    rng = np.random.default_rng(seed)
    width, height = size
    base = rng.integers(0, 256, (height // 8 + 1, width // 8 + 1, 3)).astype(np.float32)
    frames = []
    for i in range(n):
        shifted = np.roll(base, i, axis=1) * (0.6 + 0.4 * np.sin(i / 7.0) ** 2)
        big = np.kron(shifted, np.ones((8, 8, 1)))[:height, :width]
        frames.append(np.clip(big, 0, 255).astype(np.uint8))
    return np.stack(frames)
