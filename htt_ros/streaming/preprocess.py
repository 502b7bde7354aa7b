"""Bring a camera frame to the network's input size."""

import cv2
import numpy as np


def to_network_input(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize an RGB frame to the network size.

    Args:
        rgb: ``(H, W, 3)`` uint8 RGB frame of any size.
        size: network input ``(W, H)``.

    Returns:
        ``(1, H', W', 3)`` uint8 network input (bilinear, as the authors resized their data).
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 RGB frame, got {rgb.shape} {rgb.dtype}")
    height, width = rgb.shape[:2]
    if (width, height) != size:
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(rgb)[None]
