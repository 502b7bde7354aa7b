"""Which intrinsics a frame gets: camera_info, scaled camera_info, waiting, or the default."""

import numpy as np
from sensor_msgs.msg import CameraInfo

from htt_ros.ros.camera_intrinsics import IntrinsicsSource

K = [500.0, 0.0, 320.0, 0.0, 500.0, 240.0, 0.0, 0.0, 1.0]


def source() -> IntrinsicsSource:
    return IntrinsicsSource("/cam/camera_info", "/cam/image")


def test_camera_info_of_the_image_size_is_used_as_is() -> None:
    intrinsics = source()
    intrinsics.update(CameraInfo(width=640, height=480, k=K))
    answer = intrinsics.for_image(640, 480, now=0.0, default_hfov_deg=0.0, timeout_s=2.0)
    np.testing.assert_array_equal(answer.k, np.reshape(K, (3, 3)))
    assert answer.problem is None and answer.warning is None


def test_camera_info_for_another_resolution_is_scaled_and_said() -> None:
    intrinsics = source()
    intrinsics.update(CameraInfo(width=640, height=480, k=K))
    answer = intrinsics.for_image(320, 240, now=0.0, default_hfov_deg=0.0, timeout_s=2.0)
    np.testing.assert_allclose(answer.k, [[250, 0, 160], [0, 250, 120], [0, 0, 1]])
    assert "640x480" in answer.warning and "320x240" in answer.warning


def test_without_camera_info_frames_wait_then_use_the_default_field_of_view() -> None:
    intrinsics = source()
    intrinsics.update(CameraInfo(width=640, height=480))  # all-zero K: not calibrated
    first = intrinsics.for_image(640, 480, now=10.0, default_hfov_deg=90.0, timeout_s=2.0)
    assert first.k is None and "/cam/camera_info" in first.problem
    assert "default_hfov_deg" in first.warning
    later = intrinsics.for_image(640, 480, now=12.5, default_hfov_deg=90.0, timeout_s=2.0)
    np.testing.assert_allclose(later.k, [[320, 0, 320], [0, 320, 240], [0, 0, 1]])
    assert "90.0 degree" in later.problem


def test_without_a_default_frames_keep_waiting() -> None:
    intrinsics = source()
    for now in (0.0, 60.0):
        assert intrinsics.for_image(64, 48, now, default_hfov_deg=0.0, timeout_s=2.0).k is None
