"""Frame selection by stamp and reset detection on stamps that jitter, skip and go backwards."""

import numpy as np
import pytest

from htt_ros.streaming.frame_selection import NS_PER_S, CameraState, FrameSelector, ResetDetector

CAMERA = CameraState(640, 480, np.array([[500.0, 0, 320], [0, 500, 240], [0, 0, 1]]))


def camera_stamps(rate_hz: float, n: int, jitter_s: float = 0.0, seed: int = 0) -> list[int]:
    rng = np.random.default_rng(seed)
    times = np.arange(n) / rate_hz + rng.uniform(-jitter_s, jitter_s, n)
    return [int(t * NS_PER_S) + 10 * NS_PER_S for t in times]


def selected(selector: FrameSelector, stamps: list[int]) -> list[int]:
    return [i for i, stamp in enumerate(stamps) if selector.take(stamp)]


def test_30hz_camera_into_15hz_model_takes_every_second_frame() -> None:
    assert selected(FrameSelector(15.0), camera_stamps(30.0, 20)) == list(range(0, 20, 2))


def test_jitter_does_not_change_the_selection() -> None:
    stamps = camera_stamps(30.0, 300, jitter_s=0.004)
    assert selected(FrameSelector(15.0), stamps) == list(range(0, 300, 2))


def test_60hz_camera_gives_15hz_and_rate_does_not_drift() -> None:
    stamps = camera_stamps(60.0, 600)  # 10 s
    taken = selected(FrameSelector(15.0), stamps)
    assert taken == list(range(0, 600, 4))


def test_odd_ratio_keeps_the_average_rate() -> None:
    stamps = camera_stamps(25.0, 250)  # 10 s at 25 Hz into 15 Hz: no integer ratio
    taken = selected(FrameSelector(15.0), stamps)
    assert 145 <= len(taken) <= 151  # about 15 Hz over 10 s
    gaps = np.diff(np.array(stamps)[taken]) / NS_PER_S
    assert gaps.min() >= 0.039 and gaps.max() <= 0.081


def test_a_dropped_camera_frame_takes_the_next_one() -> None:
    stamps = camera_stamps(30.0, 12)
    del stamps[4]  # frame 4 (due) lost in transport
    taken = selected(FrameSelector(15.0), stamps)
    assert [stamps[i] for i in taken][:4] == [stamps[0], stamps[2], stamps[4], stamps[6]]


def test_rate_zero_takes_every_frame_and_negative_rate_is_rejected() -> None:
    assert selected(FrameSelector(0.0), camera_stamps(30.0, 7)) == list(range(7))
    with pytest.raises(ValueError, match="rate_hz"):
        FrameSelector(-1.0)


def test_resets() -> None:
    detector = ResetDetector(max_gap_s=0.5)
    t0 = 100 * NS_PER_S
    assert detector.check(t0, CAMERA) == "first frame"
    assert detector.check(t0 + NS_PER_S // 30, CAMERA) is None
    assert "backwards" in detector.check(t0, CAMERA)
    assert detector.check(t0 + NS_PER_S // 30, CAMERA) is None
    assert "gap of 0.600 s" in detector.check(t0 + NS_PER_S // 30 + 6 * NS_PER_S // 10, CAMERA)
    bigger = CameraState(1280, 720, CAMERA.intrinsics)
    assert "image size changed from 640x480 to 1280x720" in detector.check(t0 + NS_PER_S, bigger)
    zoomed = CameraState(1280, 720, CAMERA.intrinsics * [[1.1], [1.1], [1]])
    assert detector.check(t0 + NS_PER_S + 1000, zoomed) == "camera intrinsics changed"
    assert detector.check(t0 + NS_PER_S + 2000, zoomed) is None


def test_gap_check_can_be_disabled() -> None:
    detector = ResetDetector(max_gap_s=0.0)
    detector.check(0, CAMERA)
    assert detector.check(3600 * NS_PER_S, CAMERA) is None
