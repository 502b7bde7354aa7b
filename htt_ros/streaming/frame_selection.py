"""Which frames to process, chosen by their stamps, and when the history must start over."""

from dataclasses import dataclass

import numpy as np

NS_PER_S = 1_000_000_000


class FrameSelector:
    """Picks frames so that the processed stream runs at ``rate_hz`` whatever the camera rate.

    A frame is taken when its stamp reaches the next due time, less a quarter period of
    tolerance for stamp jitter. The next due time is one period after the previous due time when
    the frame was on time (so rounding does not drift), else one period after the frame (after a
    lost frame or an odd rate ratio the spacing stays even). A 30 Hz camera into a 15 Hz model
    gives every 2nd frame, as the authors' subsampling does.
    ``rate_hz`` 0 takes every frame.
    """

    def __init__(self, rate_hz: float) -> None:
        if rate_hz < 0:
            raise ValueError(f"rate_hz must be >= 0, got {rate_hz}")
        self.period_ns = round(NS_PER_S / rate_hz) if rate_hz > 0 else 0
        self._due_ns: int | None = None

    def reset(self) -> None:
        self._due_ns = None

    def take(self, stamp_ns: int) -> bool:
        """Whether the frame stamped ``stamp_ns`` is processed (stamps must not go backwards:
        the caller resets first)."""
        if self.period_ns == 0:
            return True
        tolerance = self.period_ns // 4
        due = self._due_ns
        if due is not None and stamp_ns < due - tolerance:
            return False
        on_time = due is not None and stamp_ns <= due + tolerance
        self._due_ns = (due if on_time else stamp_ns) + self.period_ns
        return True


@dataclass(frozen=True)
class CameraState:
    """What must stay constant for the history to remain valid."""

    width: int
    height: int
    intrinsics: np.ndarray  # (3, 3) pixels

    def differs_from(self, other: "CameraState") -> str | None:
        if (self.width, self.height) != (other.width, other.height):
            return (
                f"image size changed from {other.width}x{other.height} "
                f"to {self.width}x{self.height}"
            )
        if not np.allclose(self.intrinsics, other.intrinsics, rtol=1e-6, atol=1e-6):
            return "camera intrinsics changed"
        return None


class ResetDetector:
    """Says why the history must be dropped before a frame, or None when it may continue.

    Reasons: the first frame, time going backwards (a bag looping), a gap longer than
    ``max_gap_s`` (0 disables the check), a change of image size or intrinsics.
    """

    def __init__(self, max_gap_s: float) -> None:
        self.max_gap_ns = round(max_gap_s * NS_PER_S)
        self._last_stamp_ns: int | None = None
        self._camera: CameraState | None = None

    def check(self, stamp_ns: int, camera: CameraState) -> str | None:
        last, previous_camera = self._last_stamp_ns, self._camera
        self._last_stamp_ns, self._camera = stamp_ns, camera
        if last is None or previous_camera is None:
            return "first frame"
        if stamp_ns < last:
            return f"time went backwards by {(last - stamp_ns) / NS_PER_S:.3f} s"
        if self.max_gap_ns and stamp_ns - last > self.max_gap_ns:
            return f"gap of {(stamp_ns - last) / NS_PER_S:.3f} s between frames"
        return camera.differs_from(previous_camera)
