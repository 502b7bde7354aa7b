"""numpy arrays to sensor_msgs images and back for the encodings the package publishes."""

import sys

import numpy as np
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header


def rgb_to_image_msg(rgb: np.ndarray, header: Header) -> Image:
    """An rgb8 Image of a ``(H, W, 3)`` uint8 array (data assigned as bytes: fast in rclpy)."""
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected a (H, W, 3) uint8 RGB array, got {rgb.shape} {rgb.dtype}")
    rgb = np.ascontiguousarray(rgb)
    return Image(
        header=header,
        height=rgb.shape[0],
        width=rgb.shape[1],
        encoding="rgb8",
        is_bigendian=int(sys.byteorder == "big"),
        step=rgb.strides[0],
        data=rgb.tobytes(),
    )


def camera_info_msg(intrinsics: np.ndarray, width: int, height: int, header: Header) -> CameraInfo:
    """A CameraInfo for an undistorted pinhole camera with 3x3 ``intrinsics`` (pixels)."""
    k = np.asarray(intrinsics, dtype=float).reshape(3, 3)
    p = np.zeros((3, 4))
    p[:, :3] = k
    return CameraInfo(
        header=header,
        width=width,
        height=height,
        distortion_model="plumb_bob",
        d=[0.0] * 5,
        k=k.ravel().tolist(),
        r=np.eye(3).ravel().tolist(),
        p=p.ravel().tolist(),
    )
