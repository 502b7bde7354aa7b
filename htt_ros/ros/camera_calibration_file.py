"""Intrinsics that do not come from a CameraInfo topic: a camera_calibration YAML file (the
format ``camera_info_manager`` reads and ``cameracalibrator`` writes) or a horizontal field of
view, each as the CameraInfo a camera driver would publish with every image."""

from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sensor_msgs.msg import CameraInfo
from std_msgs.msg import Header

from htt_ros.errors import UserError
from htt_ros.geometry import pinhole_intrinsics
from htt_ros.ros.image_messages import camera_info_msg

MATRICES = {  # key: (rows, cols, CameraInfo field)
    "camera_matrix": (3, 3, "k"),
    "rectification_matrix": (3, 3, "r"),
    "projection_matrix": (3, 4, "p"),
}


class CalibrationFileError(UserError, ValueError):
    """A camera_calibration YAML file cannot be used; the message names the key."""


def _matrix(path: Path, data: dict[str, Any], key: str, rows: int, cols: int) -> list[float]:
    entry = data.get(key)
    values = entry.get("data") if isinstance(entry, dict) else None
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        array = np.zeros(0)
    if array.size != rows * cols:
        raise CalibrationFileError(
            f"{path}: {key} must be a mapping with rows: {rows}, cols: {cols} and {rows * cols} "
            f"numbers in data; fix the file (the format camera_calibration writes)"
        )
    return array.ravel().tolist()


def read_calibration(path: Path) -> CameraInfo:
    """The CameraInfo of a camera_calibration YAML file (header left empty).

    :raises CalibrationFileError: naming the missing or malformed key.
    """
    try:
        data = yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as error:
        problem = " ".join(str(error).split())
        raise CalibrationFileError(f"{path} is not YAML ({problem}); fix the file") from None
    if not isinstance(data, dict):
        raise CalibrationFileError(
            f"{path} is not a camera_calibration file (image_width, image_height, "
            f"camera_matrix, ...); pass the YAML that camera_calibration writes"
        )
    size = [data.get(key) for key in ("image_width", "image_height")]
    if not all(isinstance(n, int) and n > 0 for n in size):
        raise CalibrationFileError(
            f"{path}: image_width and image_height must be positive integers, got {size}; "
            f"fix the file"
        )
    info = CameraInfo(width=size[0], height=size[1])
    for key, (rows, cols, field) in MATRICES.items():
        if key == "camera_matrix" or key in data:
            setattr(info, field, _matrix(path, data, key, rows, cols))
    if "rectification_matrix" not in data:
        info.r = np.eye(3).ravel().tolist()
    if "distortion_coefficients" in data:
        coefficients = data["distortion_coefficients"]
        count = coefficients.get("cols", 0) if isinstance(coefficients, dict) else 0
        info.d = _matrix(path, data, "distortion_coefficients", 1, count) if count else []
    info.distortion_model = str(data.get("distortion_model", "plumb_bob"))
    if info.k[0] <= 0 or info.k[4] <= 0:
        raise CalibrationFileError(
            f"{path}: camera_matrix has no positive focal lengths; fix the file"
        )
    return info


def hfov_calibration(width: int, height: int, hfov_deg: float) -> CameraInfo:
    """The CameraInfo of an ideal ``width`` x ``height`` camera of ``hfov_deg`` degrees."""
    return camera_info_msg(pinhole_intrinsics(width, height, hfov_deg), width, height, Header())


def for_image(calibration: CameraInfo, header: Header) -> CameraInfo:
    """A copy of ``calibration`` carrying an image's ``header``, as a driver publishes it."""
    return CameraInfo(
        header=header,
        width=calibration.width,
        height=calibration.height,
        distortion_model=calibration.distortion_model,
        d=list(calibration.d),
        k=list(calibration.k),
        r=list(calibration.r),
        p=list(calibration.p),
    )
