"""What a CameraInfo means for the frames the network sees: intrinsics, undistortion, ROI.

For each CameraInfo (and image size) :class:`IntrinsicsSource` decides once, following
image_geometry's conventions:

- ROI and binning: the calibration is for the full sensor; an image of a region of interest,
  binned by ``binning_x`` x ``binning_y``, has its principal point moved by the ROI offset and
  its focal lengths and principal point divided by the binning (0 means 1).
- A CameraInfo for another image size is scaled to the image (and said so).
- ``rectification`` (a node parameter, :data:`RECTIFICATIONS`): ``raw`` undistorts each frame
  (OpenCV maps computed once per CameraInfo, into the camera matrix of ``P``) and maps the
  decoded 2D joints back to the raw image's pixels (the undistorted frame is made only as large
  as needed to cover ``working_size``, the model's decoding frame, which keeps it cheap);
  ``rectified`` takes the images as already
  rectified and uses ``P``; ``none`` uses ``K`` and ignores the distortion; ``auto`` is ``none``
  for zero distortion, ``rectified`` for a topic whose name says ``rect``, else ``raw``.
"""

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np
from sensor_msgs.msg import CameraInfo

from htt_ros.geometry import pinhole_intrinsics, scale_intrinsics
from htt_ros.ros.qos import RELIABLE_REPAIR_S

RECTIFICATIONS = ("auto", "raw", "rectified", "none")
UNDISTORTABLE = ("plumb_bob", "rational_polynomial", "equidistant")


@dataclass(frozen=True)
class Undistortion:
    """Undistorts frames of one camera and maps points of the result back to raw pixels."""

    maps: tuple[np.ndarray, np.ndarray]
    to_raw: Callable[[np.ndarray], np.ndarray]  # [N, 2] undistorted -> raw pixels

    def image(self, rgb: np.ndarray) -> np.ndarray:
        return cv2.remap(rgb, *self.maps, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


@dataclass
class Intrinsics:
    """The answer for one frame: ``k`` (3, 3) of the frame to feed, or None to skip the frame;
    ``undistort`` to apply to it first (None: feed it as it is); ``problem`` is what
    diagnostics should report (None when all is well); ``warnings`` and ``notes`` are what to
    log (each said once per CameraInfo) as warnings and as information."""

    k: np.ndarray | None
    problem: str | None = None
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    undistort: Undistortion | None = None


def _matrix(values, rows: int, cols: int) -> np.ndarray:
    return np.array(values, dtype=np.float64).reshape(rows, cols)


def _undistortion(
    model: str, k: np.ndarray, d: np.ndarray, r: np.ndarray, new_k: np.ndarray, size
) -> Undistortion:
    if model == "equidistant":
        d4 = np.zeros(4)
        d4[: min(4, d.size)] = d[:4]
        maps = cv2.fisheye.initUndistortRectifyMap(k, d4, r, new_k, size, cv2.CV_16SC2)

        def project(rays: np.ndarray) -> np.ndarray:
            return cv2.fisheye.projectPoints(rays[:, None], np.zeros(3), np.zeros(3), k, d4)[0]
    else:
        maps = cv2.initUndistortRectifyMap(k, d, r, new_k, size, cv2.CV_16SC2)

        def project(rays: np.ndarray) -> np.ndarray:
            return cv2.projectPoints(rays, np.zeros(3), np.zeros(3), k, d)[0]

    def to_raw(points: np.ndarray) -> np.ndarray:
        points = np.asarray(points, dtype=np.float64)
        rays = np.c_[points, np.ones(len(points))] @ np.linalg.inv(new_k).T @ r  # R^T per row
        return project(np.ascontiguousarray(rays)).reshape(-1, 2)

    return Undistortion(maps, to_raw)


class IntrinsicsSource:
    """Keeps the latest CameraInfo and answers for frames of a given size.

    Without a valid camera_info the frame waits, unless ``default_hfov_deg`` > 0 and
    ``timeout_s`` has passed since the first such frame: then an ideal camera of that field of
    view is assumed.

    Like image_transport's camera subscriber, a camera that stamps each camera_info as its image
    is paired by stamp: once a camera_info has matched an image's stamp, :meth:`wait_for` lets
    an image that arrived before its own camera_info wait for it (up to MATCH_WAIT_S: a reliable
    camera_info lost on the way comes again at its writer's next heartbeat), so the first frames
    after a change of lens are not decoded with the previous calibration.
    """

    MATCH_WAIT_S = RELIABLE_REPAIR_S

    def __init__(self, info_topic: str, image_topic: str) -> None:
        self.info_topic, self.image_topic = info_topic, image_topic
        self.info: CameraInfo | None = None
        self._waiting_since: float | None = None
        self._cache: tuple[tuple, Intrinsics] | None = None
        self._said: set[str] = set()
        self._arrived = threading.Condition()
        self._stamps: deque[int] = deque(maxlen=30)  # stamps of the latest camera_infos
        self._image_stamps: deque[int] = deque(maxlen=30)  # and of the latest images
        self._paired = False  # a camera_info has carried an image's stamp

    def update(self, info: CameraInfo) -> None:
        stamp = info.header.stamp.sec * 1_000_000_000 + info.header.stamp.nanosec
        with self._arrived:
            self.info = info
            self._stamps.append(stamp)
            self._paired = self._paired or stamp in self._image_stamps
            self._arrived.notify_all()

    def wait_for(self, stamp_ns: int) -> bool:
        """Wait up to MATCH_WAIT_S for the camera_info of the image stamped ``stamp_ns``, once
        this camera has been seen to stamp them alike; return at once otherwise, and as soon as
        a later camera_info arrives (a topic is delivered in order: that image's was lost, as
        best-effort or a full queue lose them, and inference would stall MATCH_WAIT_S).
        False when the wait ran out: the frame gets the latest camera_info, an older one, and
        later frames do not wait until a camera_info matches an image's stamp again (a camera
        whose camera_info stopped must not stall every frame)."""
        with self._arrived:
            self._image_stamps.append(stamp_ns)
            self._paired = self._paired or stamp_ns in self._stamps
            if not self._paired:
                return True
            self._paired = self._arrived.wait_for(
                lambda: stamp_ns in self._stamps or self._stamps[-1] > stamp_ns,
                self.MATCH_WAIT_S,
            )
            return self._paired

    def for_image(
        self,
        width: int,
        height: int,
        now: float,
        default_hfov_deg: float,
        timeout_s: float,
        rectification: str = "auto",
        working_size: tuple[int, int] | None = None,
    ) -> Intrinsics:
        info = self.info
        if info is not None and info.k[0] > 0:
            key = (_info_key(info), width, height, rectification, working_size)
            if self._cache is None or self._cache[0] != key:
                decided = self._decide(info, width, height, rectification, working_size)
                self._cache = (key, decided)
            decided = self._cache[1]
            return Intrinsics(
                decided.k,
                decided.problem,
                self._once(decided.warnings),
                self._once(decided.notes),
                decided.undistort,
            )
        self._waiting_since = self._waiting_since if self._waiting_since is not None else now
        if default_hfov_deg > 0 and now - self._waiting_since >= timeout_s:
            return Intrinsics(
                pinhole_intrinsics(width, height, default_hfov_deg),
                problem=f"no camera_info; assuming a {default_hfov_deg} degree field of view",
            )
        problem = (
            f"no valid camera_info on {self.info_topic}: waiting (publish it, remap camera_info, "
            f"or set default_hfov_deg to run without)"
        )
        return Intrinsics(None, problem=problem, warnings=self._once([problem]))

    def _once(self, texts: list[str]) -> list[str]:
        new = [text for text in texts if text not in self._said]
        self._said.update(new)
        return new

    def _decide(
        self,
        info: CameraInfo,
        width: int,
        height: int,
        rectification: str,
        working_size: tuple[int, int] | None,
    ) -> Intrinsics:
        warnings: list[str] = []
        k, p = _matrix(info.k, 3, 3), _matrix(info.p, 3, 4)[:, :3]
        full = (info.width, info.height)
        roi = info.roi
        x, y, roi_w, roi_h = roi.x_offset, roi.y_offset, roi.width, roi.height
        if roi_w and roi_h and full != (0, 0) and (x + roi_w > full[0] or y + roi_h > full[1]):
            warnings.append(
                f"{self.info_topic}: region of interest {roi_w}x{roi_h} at ({x}, {y}) lies "
                f"outside the {full[0]}x{full[1]} calibrated image; ignoring it (fix the ROI the "
                f"camera driver publishes)"
            )
            x = y = roi_w = roi_h = 0
        region = (roi_w, roi_h) if roi_w and roi_h else full
        bins = (max(info.binning_x, 1), max(info.binning_y, 1))
        expected = (region[0] // bins[0], region[1] // bins[1])
        for m in (k, p):
            m[0, 2] -= x
            m[1, 2] -= y
            m[0] /= bins[0]
            m[1] /= bins[1]
        if expected not in ((width, height), (0, 0)):
            k, p = (scale_intrinsics(m, expected, (width, height)) for m in (k, p))
            warnings.append(
                f"{self.info_topic} is for {info.width}x{info.height} images (binning "
                f"{bins[0]}x{bins[1]}, region of interest {region[0]}x{region[1]}) but "
                f"{self.image_topic} has {width}x{height}; scaling the intrinsics (publish the "
                f"camera_info of this resolution, or set binning and roi to match)"
            )
        d = np.array(info.d, dtype=np.float64)
        distorted = bool(info.distortion_model) and bool(np.any(d != 0))
        has_p = bool(p[0, 0] > 0)
        mode, notes = rectification, []
        if mode == "auto":
            if not distorted:
                mode, why = "none", "its distortion is zero"
            elif "rect" in self.image_topic.rsplit("/", 1)[-1]:
                mode, why = "rectified", "the image topic's name says rect"
            else:
                mode, why = "raw", f"it has {info.distortion_model} distortion"
            notes.append(
                f"{self.image_topic}: rectification auto chose '{mode}' because {why}; set the "
                f"parameter rectification to override"
            )
        if mode == "rectified":
            if not has_p:
                warnings.append(
                    f"{self.info_topic} has no projection matrix P for rectified images; using K"
                )
            return Intrinsics(p if has_p else k, None, warnings, notes)
        if mode == "none" or not distorted:
            return Intrinsics(k, None, warnings, notes)
        if info.distortion_model not in UNDISTORTABLE:
            problem = (
                f"{self.info_topic}: cannot undo distortion model {info.distortion_model!r} "
                f"(supported: {', '.join(UNDISTORTABLE)}); using K without undistortion: "
                f"rectify upstream (image_proc) and set rectification:=rectified"
            )
            return Intrinsics(k, problem, [*warnings, problem], notes)
        r = _matrix(info.r, 3, 3)
        r = r if np.any(r) else np.eye(3)
        scale = 1.0
        if working_size is not None:
            scale = min(1.0, max(working_size[0] / width, working_size[1] / height))
        size = (round(width * scale), round(height * scale))
        new_k = scale_intrinsics(p if has_p else k, (width, height), size)
        undistort = _undistortion(info.distortion_model, k, d, r, new_k, size)
        return Intrinsics(new_k, None, warnings, notes, undistort)


def _info_key(info: CameraInfo) -> tuple:
    roi = info.roi
    return (
        info.width,
        info.height,
        info.distortion_model,
        tuple(info.d),
        tuple(info.k),
        tuple(info.r),
        tuple(info.p),
        info.binning_x,
        info.binning_y,
        (roi.x_offset, roi.y_offset, roi.width, roi.height),
    )
