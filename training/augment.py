"""The authors' training augmentation of a clip, with torchvision's functional ops.

In the authors' order (fylwen/HTT datasets/seqset_htt.py, colour ops of libyana v0.2.0):
1. Gaussian blur of radius (standard deviation) U(0, 1) * ``blur_radius``, drawn per frame;
2. colour jitter: brightness, contrast, saturation U(1 - x, 1 + x) and hue U(-x, x) drawn once
   per clip, applied in an order reshuffled for every frame;
3. translation, sampled once per clip: up to ``translate * W`` px (48 px at 480x270) in x and y,
   whole pixels, nearest-neighbour warp with black fill (the border the shift uncovers stays
   black, as colour comes first); the same shift moves the 2D joints and left-multiplies the
   intrinsics (the principal point moves), both in the 480x270 decoding frame whatever the
   image size; 3D joints are unchanged.

Pixel ranges are the authors' at 480x270 and scale with the network image (a 128x72 image is
shifted up to 12.8 px and blurred up to radius 0.13 px), so a reduced-resolution run sees the
same augmentation relative to the image.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
import torchvision.transforms.v2.functional as TF
from torchvision.transforms import InterpolationMode

from htt_ros.data import IMAGE_SIZE
from training.config import AugmentSection


def augment_clip(
    images: torch.Tensor,
    joints2d: np.ndarray,
    intrinsics: np.ndarray,
    cfg: AugmentSection,
    rng: np.random.Generator,
) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """Augment one clip.

    Args:
        images: ``[T, 3, H, W]`` uint8 RGB, any size of the 480x270 aspect ratio.
        joints2d: ``[T, J, 2]`` pixels of the 480x270 frame.
        intrinsics: ``[3, 3]`` camera matrix of the 480x270 frame.
        cfg: augmentation ranges.
        rng: the clip's generator (all draws come from it, in a fixed order).

    Returns:
        images ``[T, 3, H, W]`` float32 in [0, 1], joints2d ``[T, J, 2]`` and intrinsics
        ``[3, 3]`` after the translation.
    """
    T, _, height, width = images.shape
    scale = width / IMAGE_SIZE[0]
    dx, dy = (int(cfg.translate * width * u) for u in rng.uniform(-1.0, 1.0, 2))
    brightness, contrast, saturation = rng.uniform(
        [1 - cfg.brightness, 1 - cfg.contrast, 1 - cfg.saturation],
        [1 + cfg.brightness, 1 + cfg.contrast, 1 + cfg.saturation],
    )
    hue = rng.uniform(-cfg.hue, cfg.hue)
    radii = rng.uniform(0.0, 1.0, T) * cfg.blur_radius * scale
    orders = [rng.permutation(4) for _ in range(T)]

    colour: list[Callable[[torch.Tensor], torch.Tensor]] = [
        lambda x: TF.adjust_brightness(x, brightness),
        lambda x: TF.adjust_contrast(x, contrast),
        lambda x: TF.adjust_saturation(x, saturation),
        lambda x: TF.adjust_hue(x, hue),
    ]
    frames = images.float() / 255.0
    out = torch.empty_like(frames)
    for i in range(T):
        frame = gaussian_blur(frames[i], float(radii[i]))
        for op in orders[i]:
            frame = colour[op](frame)
        out[i] = frame
    out = TF.affine(
        out,
        angle=0.0,
        translate=[dx, dy],
        scale=1.0,
        shear=[0.0, 0.0],
        interpolation=InterpolationMode.NEAREST,
        fill=0.0,
    )
    dx_frame, dy_frame = dx * IMAGE_SIZE[0] / width, dy * IMAGE_SIZE[1] / height
    shift = np.array([[1.0, 0.0, dx_frame], [0.0, 1.0, dy_frame], [0.0, 0.0, 1.0]])
    return out, joints2d + np.array([dx_frame, dy_frame]), shift @ intrinsics


def gaussian_blur(image: torch.Tensor, radius: float) -> torch.Tensor:
    """PIL-style Gaussian blur of ``[3, H, W]`` with standard deviation ``radius`` px (the
    kernel spans +-3 sigma); radius 0 returns the image."""
    if radius <= 0.0:
        return image
    half = max(1, math.ceil(3.0 * radius))
    return TF.gaussian_blur(image, kernel_size=[2 * half + 1] * 2, sigma=[radius, radius])
