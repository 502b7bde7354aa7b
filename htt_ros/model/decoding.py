"""Torch twin of :func:`htt_ros.geometry.decode_25d` (HTT's 2.5D -> 3D decoding).

Same formula and constants; see :mod:`htt_ros.geometry` for the equations. Differentiable.
"""

from __future__ import annotations

import torch

from htt_ros.geometry import OFF_Z, POSE_FRAME, SCALE_FACTOR, TRANS_FACTOR


def decode_25d(
    pose_raw: torch.Tensor, intrinsics: torch.Tensor, frame: tuple[int, int] = POSE_FRAME
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """pose_raw ``[..., J, 3]`` raw (tx, ty, s), intrinsics ``[..., 3, 3]`` of the image scaled
    to ``frame`` ``(W, H)`` -> ``joints2d [..., J, 2]`` px of ``frame``, ``depth [..., J]`` m,
    ``joints3d [..., J, 3]`` m (camera frame)."""
    width, height = frame
    centre = pose_raw.new_tensor([width / 2.0, height / 2.0])
    fx = intrinsics[..., 0, 0].unsqueeze(-1)  # [..., 1]
    principal = intrinsics[..., None, :2, 2]  # [..., 1, 2]
    joints2d = TRANS_FACTOR * pose_raw[..., :2] + centre  # [..., J, 2]
    depth = fx * (SCALE_FACTOR * pose_raw[..., 2]) + OFF_Z  # [..., J]
    xy = (joints2d - principal) * (depth / fx).unsqueeze(-1)  # [..., J, 2]
    return joints2d, depth, torch.cat([xy, depth.unsqueeze(-1)], dim=-1)
