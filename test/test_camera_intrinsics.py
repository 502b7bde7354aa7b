"""Which intrinsics a frame gets: camera_info (ROI, binning, P, undistortion), scaled
camera_info, waiting, or the default."""

import threading
import time

import numpy as np
import pytest
from camera_scenes import DISTORTIONS, distort_points, original, through_lens
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
    assert answer.problem is None and not answer.warnings


def test_camera_info_for_another_resolution_is_scaled_and_said() -> None:
    intrinsics = source()
    intrinsics.update(CameraInfo(width=640, height=480, k=K))
    answer = intrinsics.for_image(320, 240, now=0.0, default_hfov_deg=0.0, timeout_s=2.0)
    np.testing.assert_allclose(answer.k, [[250, 0, 160], [0, 250, 120], [0, 0, 1]])
    (warning,) = answer.warnings
    assert "640x480" in warning and "320x240" in warning and "/cam/camera_info" in warning
    again = intrinsics.for_image(320, 240, now=1.0, default_hfov_deg=0.0, timeout_s=2.0)
    assert again.warnings == [] and again.k is not None  # said once, still served


def test_without_camera_info_frames_wait_then_use_the_default_field_of_view() -> None:
    intrinsics = source()
    intrinsics.update(CameraInfo(width=640, height=480))  # all-zero K: not calibrated
    first = intrinsics.for_image(640, 480, now=10.0, default_hfov_deg=90.0, timeout_s=2.0)
    assert first.k is None and "/cam/camera_info" in first.problem
    assert "default_hfov_deg" in first.warnings[0]
    later = intrinsics.for_image(640, 480, now=12.5, default_hfov_deg=90.0, timeout_s=2.0)
    np.testing.assert_allclose(later.k, [[320, 0, 320], [0, 320, 240], [0, 0, 1]])
    assert "90.0 degree" in later.problem


def test_without_a_default_frames_keep_waiting() -> None:
    intrinsics = source()
    for now in (0.0, 60.0):
        assert intrinsics.for_image(64, 48, now, default_hfov_deg=0.0, timeout_s=2.0).k is None


def info(**fields) -> CameraInfo:
    msg = CameraInfo(width=640, height=480, k=K, r=np.eye(3).ravel().tolist())
    msg.p = [450.0, 0.0, 310.0, 0.0, 0.0, 450.0, 235.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    for name, value in fields.items():
        setattr(msg, name, value)
    return msg


def answer(msg: CameraInfo, size=(640, 480), rectification="auto", topic="/cam/image_raw"):
    intrinsics = IntrinsicsSource("/cam/camera_info", topic)
    intrinsics.update(msg)
    return intrinsics.for_image(*size, 0.0, 0.0, 2.0, rectification)


def test_binning_and_region_of_interest_move_and_scale_k() -> None:
    msg = info(binning_x=2, binning_y=2)
    msg.roi.x_offset, msg.roi.y_offset, msg.roi.width, msg.roi.height = 100, 40, 400, 300
    got = answer(msg, size=(200, 150))
    np.testing.assert_allclose(got.k, [[250, 0, 110], [0, 250, 100], [0, 0, 1]])
    assert not got.warnings


def test_region_of_interest_outside_the_image_is_reported_once_and_ignored() -> None:
    msg = info()
    msg.roi.x_offset, msg.roi.width, msg.roi.height = 600, 100, 100
    intrinsics = IntrinsicsSource("/cam/camera_info", "/cam/image_raw")
    intrinsics.update(msg)
    first = intrinsics.for_image(640, 480, 0.0, 0.0, 2.0)
    np.testing.assert_array_equal(first.k, np.reshape(K, (3, 3)))
    assert "/cam/camera_info" in first.warnings[0] and "outside" in first.warnings[0]
    assert intrinsics.for_image(640, 480, 1.0, 0.0, 2.0).warnings == []


def test_auto_picks_k_p_or_undistortion_and_says_why() -> None:
    plain = answer(info(distortion_model="plumb_bob", d=[0.0] * 5))
    np.testing.assert_array_equal(plain.k, np.reshape(K, (3, 3)))
    assert plain.undistort is None and "'none'" in plain.notes[0]
    distorted = info(distortion_model="plumb_bob", d=[-0.2, 0.05, 0, 0, 0])
    rectified = answer(distorted, topic="/cam/image_rect")
    np.testing.assert_allclose(rectified.k, [[450, 0, 310], [0, 450, 235], [0, 0, 1]])
    assert rectified.undistort is None and "'rectified'" in rectified.notes[0]
    raw = answer(distorted)
    np.testing.assert_allclose(raw.k, rectified.k)  # undistorted into P's camera
    assert raw.undistort is not None and "'raw'" in raw.notes[0]
    ignored = answer(distorted, rectification="none")
    assert ignored.undistort is None and not ignored.notes


def test_a_distortion_model_it_cannot_undo_is_reported_with_the_fix() -> None:
    got = answer(info(distortion_model="fisheye62", d=[0.1] * 8), rectification="raw")
    assert got.undistort is None and got.k is not None
    assert "fisheye62" in got.problem and "rectification:=rectified" in got.problem


@pytest.mark.parametrize("model", DISTORTIONS)
def test_undistortion_recovers_the_ideal_image_and_maps_joints_back(model: str) -> None:
    ideal = original(1)
    lens = through_lens(ideal, model)
    msg = info(width=480, height=270, k=lens.k.ravel().tolist(), distortion_model=model, d=lens.d)
    msg.p = np.c_[lens.k, np.zeros(3)].ravel().tolist()
    got = answer(msg, size=(480, 270))
    np.testing.assert_allclose(got.k, lens.k)
    recovered = got.undistort.image(lens.frames[0]).astype(int)
    inner = (slice(20, 250), slice(30, 450))
    error = np.abs(recovered[inner] - ideal.frames[0][inner])
    assert np.median(error) <= 2 and np.mean(error) < 5, (np.median(error), np.mean(error))
    points = np.array([[100.0, 50.0], [240.0, 135.0], [430.0, 240.0]])
    np.testing.assert_allclose(
        got.undistort.to_raw(points), distort_points(points, lens.k, lens.d, model), atol=0.05
    )


def test_undistortion_makes_a_frame_just_large_enough_for_the_decoding_frame() -> None:
    k = [900.0, 0.0, 640.0, 0.0, 900.0, 360.0, 0.0, 0.0, 1.0]
    msg = info(width=1280, height=720, k=k, distortion_model="plumb_bob", d=[-0.2, 0.05, 0, 0, 0])
    msg.p = np.c_[np.reshape(k, (3, 3)), np.zeros(3)].ravel().tolist()
    intrinsics = IntrinsicsSource("/cam/camera_info", "/cam/image_raw")
    intrinsics.update(msg)
    got = intrinsics.for_image(1280, 720, 0.0, 0.0, 2.0, "raw", working_size=(480, 270))
    np.testing.assert_allclose(got.k, [[337.5, 0, 240], [0, 337.5, 135], [0, 0, 1]])
    undistorted = got.undistort.image(np.zeros((720, 1280, 3), np.uint8))
    assert undistorted.shape == (270, 480, 3)
    # The principal point of the small frame maps back to the raw one.
    np.testing.assert_allclose(got.undistort.to_raw(np.array([[240.0, 135.0]])), [[640, 360]])


def _stamped(stamp_s: int, fx: float) -> CameraInfo:
    info = CameraInfo(width=640, height=480, k=[fx, 0.0, 320.0, 0.0, fx, 240.0, 0.0, 0.0, 1.0])
    info.header.stamp.sec = stamp_s
    return info


def test_an_image_waits_for_the_camera_info_of_its_own_stamp() -> None:
    """Once the camera stamps camera_info as its images, an image that overtook its
    camera_info is decoded with that camera_info, not the previous camera's."""
    intrinsics = source()
    intrinsics.update(_stamped(1, 500.0))
    intrinsics.wait_for(1_000_000_000)  # the camera pairs them: later images may wait
    late = threading.Timer(0.05, intrinsics.update, [_stamped(2, 900.0)])
    late.start()
    intrinsics.wait_for(2_000_000_000)
    answer = intrinsics.for_image(640, 480, 0.0, 0.0, 0.0, "none")  # before the timer's join
    late.join()
    assert answer.k[0, 0] == 900.0


def test_a_camera_info_resent_at_the_next_heartbeat_is_still_waited_for() -> None:
    """A reliable camera_info lost on the way comes again at its writer's next heartbeat (3 s
    in Fast DDS): the image waits for it, and is told when it did not come."""
    intrinsics = source()
    intrinsics.update(_stamped(1, 500.0))
    assert intrinsics.wait_for(1_000_000_000)  # paired
    late = threading.Timer(3.2, intrinsics.update, [_stamped(2, 900.0)])
    late.start()
    assert intrinsics.wait_for(2_000_000_000)
    late.join()
    assert intrinsics.for_image(640, 480, 0.0, 0.0, 0.0, "none").k[0, 0] == 900.0


def test_a_wait_that_runs_out_says_so(monkeypatch) -> None:
    monkeypatch.setattr(IntrinsicsSource, "MATCH_WAIT_S", 0.1)
    intrinsics = source()
    assert intrinsics.wait_for(1_000_000_000)  # not paired yet: nothing to wait for
    intrinsics.update(_stamped(1, 500.0))
    assert intrinsics.wait_for(1_000_000_000)
    assert not intrinsics.wait_for(2_000_000_000)  # its camera_info never came
    started = time.monotonic()
    assert intrinsics.wait_for(3_000_000_000)  # the camera_infos stopped: no more waits
    intrinsics.update(_stamped(3, 700.0))  # they are back, stamped as the images
    assert not intrinsics.wait_for(4_000_000_000)  # so the next image waits again
    assert time.monotonic() - started >= 0.1


def test_an_image_whose_camera_info_was_lost_does_not_wait(monkeypatch) -> None:
    """A later camera_info means the image's own was lost (best effort, a full queue): the
    image goes on with the latest at once instead of stalling inference."""
    monkeypatch.setattr(IntrinsicsSource, "MATCH_WAIT_S", 600.0)
    intrinsics = source()
    intrinsics.update(_stamped(1, 500.0))
    intrinsics.wait_for(1_000_000_000)  # paired
    intrinsics.update(_stamped(3, 700.0))  # the camera_info of stamp 2 never comes
    waiting = threading.Thread(target=intrinsics.wait_for, args=[2_000_000_000], daemon=True)
    waiting.start()
    waiting.join(60)
    assert not waiting.is_alive()
    assert intrinsics.for_image(640, 480, 0.0, 0.0, 0.0, "none").k[0, 0] == 700.0
