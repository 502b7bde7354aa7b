"""HTT's 2.5D -> 3D decoding and intrinsics helpers, numpy only.

The pose head predicts raw ``(tx, ty, s)`` per joint in the pixel frame of a ``(W, H)`` =
480x270 image (:data:`POSE_FRAME`, the frame of the authors' inputs), whatever size the network
input has; ``K`` are the intrinsics of that frame (Wen et al. 2023, authors'
``recover_3d_proj_pinhole``):

    u = TRANS_FACTOR * tx + W / 2          v = TRANS_FACTOR * ty + H / 2        (pixels)
    Z = fx * (SCALE_FACTOR * s) + OFF_Z                                         (metres)
    X = (u - cx) * Z / fx                  Y = (v - cy) * Z / fx                (metres)

The 2D origin is the image centre, not the principal point, and ``fx`` divides both X and Y
(``fy`` is never used). A network trained at a reduced input size keeps this frame, so its
targets, the loss weights and the depth scale stay the paper's. :mod:`htt_ros.model.decoding`
is the torch twin; the two must agree.
"""

from __future__ import annotations

import numpy as np

TRANS_FACTOR = 100.0
SCALE_FACTOR = 1e-4
OFF_Z = 0.4  # metres
POSE_FRAME = (480, 270)  # (W, H) of the pixel frame the pose head predicts in


def decode_25d(
    pose_raw: np.ndarray, intrinsics: np.ndarray, frame: tuple[int, int] = POSE_FRAME
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode raw pose outputs to pixels, depth and camera-frame 3D joints.

    Args:
        pose_raw: ``[..., J, 3]`` raw ``(tx, ty, s)`` from the pose head.
        intrinsics: ``[..., 3, 3]`` camera matrix of the image scaled to ``frame`` (leading
            dims broadcast against ``pose_raw``'s).
        frame: ``(W, H)`` of the pixel frame the pose head predicts in.

    Returns:
        ``joints2d [..., J, 2]`` pixels of ``frame``, ``depth [..., J]`` metres,
        ``joints3d [..., J, 3]`` metres (camera frame), all float64 unless the inputs are
        float32.
    """
    pose_raw = np.asarray(pose_raw)
    intrinsics = np.asarray(intrinsics)
    if pose_raw.shape[-1] != 3 or intrinsics.shape[-2:] != (3, 3):
        raise ValueError(
            f"expected pose_raw [..., J, 3] and intrinsics [..., 3, 3], got {pose_raw.shape} "
            f"and {intrinsics.shape}"
        )
    width, height = frame
    centre = np.array([width / 2.0, height / 2.0], dtype=pose_raw.dtype)
    fx = intrinsics[..., 0, 0][..., None]  # [..., 1]
    principal = intrinsics[..., None, :2, 2]  # [..., 1, 2]
    joints2d = TRANS_FACTOR * pose_raw[..., :2] + centre  # [..., J, 2]
    depth = fx * (SCALE_FACTOR * pose_raw[..., 2]) + OFF_Z  # [..., J]
    xy = (joints2d - principal) * (depth / fx)[..., None]  # [..., J, 2]
    joints3d = np.concatenate([xy, depth[..., None]], axis=-1)  # [..., J, 3]
    return joints2d, depth, joints3d


def scale_intrinsics(
    intrinsics: np.ndarray, source_size: tuple[int, int], target_size: tuple[int, int]
) -> np.ndarray:
    """Intrinsics of an image resized from ``source_size`` to ``target_size`` (both ``(W, H)``).

    Rows 0 and 1 of ``K`` scale by ``W_t / W_s`` and ``H_t / H_s`` (the authors scale full-res
    FPHA by 1/4 and H2O by 0.375 to reach 480x270). ``intrinsics`` is ``[..., 3, 3]``.
    """
    scaled = np.array(intrinsics, dtype=np.float64, copy=True)
    scaled[..., 0, :] *= target_size[0] / source_size[0]
    scaled[..., 1, :] *= target_size[1] / source_size[1]
    return scaled


def pinhole_intrinsics(width: int, height: int, hfov_deg: float) -> np.ndarray:
    """``(3, 3)`` intrinsics of an ideal camera with a horizontal field of view ``hfov_deg``,
    square pixels and the principal point at the image centre (for a camera without
    calibration)."""
    if not 0 < hfov_deg < 180:
        raise ValueError(f"horizontal field of view must be in (0, 180) degrees, got {hfov_deg}")
    f = width / 2.0 / np.tan(np.radians(hfov_deg) / 2.0)
    return np.array([[f, 0.0, width / 2.0], [0.0, f, height / 2.0], [0.0, 0.0, 1.0]])
