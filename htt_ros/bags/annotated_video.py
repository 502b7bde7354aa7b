"""``htt-replay --annotated-video``: every input frame, drawn, into an MP4 file (mp4v) at the
input's frame rate (the median step of its first stamps)."""

from pathlib import Path

import cv2
import numpy as np

from htt_ros.errors import UserError

RATE_FRAMES = 8  # frames whose stamps set the video's rate; held until the file opens
DEFAULT_FPS = 30.0  # a recording of a single frame
FOURCC = "mp4v"


class AnnotatedVideo:
    """Writes drawn RGB frames in stamp order; opens the file once the rate is known."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.frames_written = 0
        self._writer: cv2.VideoWriter | None = None
        self._size: tuple[int, int] | None = None
        self._first: list[tuple[int, np.ndarray]] = []

    def add(self, rgb: np.ndarray, stamp_ns: int) -> None:
        """One ``(H, W, 3)`` uint8 RGB frame; frames of another size are resized to the
        first one's."""
        if self._writer is None:
            self._first.append((stamp_ns, rgb))
            if len(self._first) >= RATE_FRAMES:
                self._open()
            return
        self._write(rgb)

    def close(self) -> None:
        if self._writer is None and self._first:
            self._open()
        if self._writer is not None:
            self._writer.release()
            self._writer = None

    def _open(self) -> None:
        """:raises UserError: when OpenCV cannot write ``path``."""
        steps = np.diff([stamp for stamp, _ in self._first])
        steps = steps[steps > 0]
        fps = 1e9 / float(np.median(steps)) if len(steps) else DEFAULT_FPS
        height, width = self._first[0][1].shape[:2]
        self._size = (width, height)
        fourcc = cv2.VideoWriter_fourcc(*FOURCC)
        self._writer = cv2.VideoWriter(str(self.path), fourcc, fps, self._size)
        if not self._writer.isOpened():
            raise UserError(
                f"OpenCV cannot write the video {self.path}; give a path ending in .mp4 in a "
                f"writable folder"
            )
        for _, rgb in self._first:
            self._write(rgb)
        self._first = []

    def _write(self, rgb: np.ndarray) -> None:
        if rgb.shape[1::-1] != self._size:
            rgb = cv2.resize(rgb, self._size, interpolation=cv2.INTER_AREA)
        self._writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        self.frames_written += 1
