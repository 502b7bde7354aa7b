"""Bring a camera frame to the network's input size."""

import cv2
import numpy as np


def to_network_input(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize an RGB frame to the network size: the one resize of training, evaluation and the
    robot (``training.clips`` calls it too), so the three see the same pixels.

    Args:
        rgb: ``(H, W, 3)`` uint8 RGB frame of any size.
        size: network input ``(W, H)``.

    Returns:
        ``(1, H', W', 3)`` uint8 network input: pixel-area averaging when shrinking (no
        aliasing at reduced training resolutions), bilinear when enlarging.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 RGB frame, got {rgb.shape} {rgb.dtype}")
    height, width = rgb.shape[:2]
    if (width, height) != size:
        shrink = size[0] < width or size[1] < height
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return np.ascontiguousarray(rgb)[None]
