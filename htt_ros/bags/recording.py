"""What ``htt-replay`` replays: a recording's camera messages, whatever holds them.

A :class:`Recording` yields ``(topic, msgtype, log_ns, cdr)`` of its camera messages in log
order, images and CameraInfo serialized as a ROS publisher sends them; offline replay
deserializes them, live replay publishes the bytes unchanged, so both read the same messages:

- a rosbag2 bag (folder, folder without metadata.yaml, single ``.mcap`` or ``.db3`` file):
  its camera topics as :mod:`~htt_ros.bags.camera_topics` finds them;
- a video file (what OpenCV's FFmpeg reads): ``sensor_msgs/Image`` rgb8 frames stamped with the
  container's timestamps (``CAP_PROP_POS_MSEC``, time since the video's start);
- a folder of images (sorted by name, numbers in names compared as numbers) at ``--fps``.

Intrinsics that no topic carries (always for videos and images) come from ``--hfov`` or
``--camera-info FILE.yaml`` as one CameraInfo per image with the image's header, on the camera's
``camera_info`` topic, as a camera driver publishes them; given for a bag, they replace its
CameraInfo.
"""

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from rclpy.serialization import deserialize_message, serialize_message
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Header

from htt_ros.bags.bag_io import (
    CAMERA_INFO_TOPIC,
    GT_ACTION_TOPIC,
    GT_HANDS_TOPIC,
    GT_LABELS_TOPIC,
    IMAGE_TOPIC,
    STORAGE_SUFFIXES,
    BagError,
    bag_info,
    read_raw,
)
from htt_ros.bags.camera_topics import (
    CAMERA_INFO,
    COMPRESSED,
    IMAGE,
    camera_info_sibling,
    find_camera,
)
from htt_ros.bags.make_bag import FRAME_ID, to_time
from htt_ros.errors import UserError
from htt_ros.ros.camera_calibration_file import for_image, hfov_calibration, read_calibration
from htt_ros.ros.image_conversion import compressed_msg_to_rgb
from htt_ros.ros.image_messages import rgb_to_image_msg

Message = tuple[str, str, int, bytes]  # (topic, msgtype, log_ns, cdr)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
INPUTS = (
    "pass a rosbag2 folder, a .mcap or .db3 file, a video (mp4, mkv, mov, avi) or a folder of "
    "images with --fps"
)
INTRINSICS_FLAGS = "--hfov DEG (the camera's horizontal field of view) or --camera-info FILE.yaml"


@dataclass(frozen=True)
class GivenIntrinsics:
    """Intrinsics from the command line: a calibration file's CameraInfo, or a field of view."""

    calibration: CameraInfo | None = None
    hfov_deg: float | None = None

    def camera_info(self, width: int, height: int, header: Header) -> CameraInfo:
        """The CameraInfo published with an image of ``width`` x ``height`` and ``header``."""
        base = self.calibration or hfov_calibration(width, height, self.hfov_deg or 0.0)
        return for_image(base, header)


class Recording(ABC):
    """A camera's messages in log order; ``frame_count`` is its images (None: unknown)."""

    def __init__(
        self, path: Path, image_topic: str, image_type: str, camera_info_topic: str
    ) -> None:
        self.path = path
        self.image_topic, self.image_type = image_topic, image_type
        self.camera_info_topic = camera_info_topic
        self.frame_count: int | None = None
        self.cut_off = False  # an MCAP file of the bag ends early
        self.message_count = 0  # messages read from a cut-off bag (its whole ones)
        self.has_ground_truth = False  # htt-make-bag's /ground_truth/* topics are there

    @property
    def compressed(self) -> bool:
        return self.image_type == COMPRESSED

    @abstractmethod
    def messages(self) -> Iterator[Message]:
        """A fresh pass over the camera messages (images and CameraInfo), in log order."""

    def deserialize(self, topic: str, cdr: bytes) -> CameraInfo | Image | CompressedImage:
        """The rclpy message of one of :meth:`messages`."""
        if topic == self.camera_info_topic:
            return deserialize_message(cdr, CameraInfo)
        return deserialize_message(cdr, CompressedImage if self.compressed else Image)


class BagRecording(Recording):
    """The camera of a bag; ``given`` replaces (or stands in for) its CameraInfo topic."""

    def __init__(
        self,
        path: Path,
        image_topic: str | None,
        camera_info_topic: str | None,
        given: GivenIntrinsics | None,
    ) -> None:
        info = bag_info(path)
        camera = find_camera(info, image_topic, camera_info_topic)
        if camera.camera_info is None and given is None:
            raise BagError(
                f"{path} has no CameraInfo for {camera.image} (looked for "
                f"{camera_info_sibling(camera.image, camera.msgtype)}; its CameraInfo topics: "
                f"{', '.join(t for t, k in info.topics.items() if k == CAMERA_INFO) or 'none'}); "
                f"name one with --camera-info-topic, or give {INTRINSICS_FLAGS}"
            )
        info_topic = camera.camera_info or camera_info_sibling(camera.image, camera.msgtype)
        super().__init__(Path(path), camera.image, camera.msgtype, info_topic)
        self.given = given
        self.frame_count = info.counts[camera.image]
        self.cut_off, self.message_count = info.cut_off, info.message_count
        self.has_ground_truth = {GT_HANDS_TOPIC, GT_ACTION_TOPIC, GT_LABELS_TOPIC} <= set(
            info.topics
        )

    def messages(self) -> Iterator[Message]:
        if self.given is None:
            yield from read_raw(self.path, [self.image_topic, self.camera_info_topic])
            return
        size: tuple[int, int] | None = None
        for message in read_raw(self.path, [self.image_topic]):
            image = self.deserialize(self.image_topic, message[3])
            if size is None or not self.compressed:
                size = _image_size(image)
            info = self.given.camera_info(*size, image.header)
            yield self.camera_info_topic, CAMERA_INFO, message[2], serialize_message(info)
            yield message


def _image_size(image: Image | CompressedImage) -> tuple[int, int]:
    if isinstance(image, Image):
        return image.width, image.height
    height, width = compressed_msg_to_rgb(image).shape[:2]
    return width, height


class FrameRecording(Recording):
    """RGB frames (a video, a folder of images) as rgb8 Images on ``/camera/image_raw`` with
    their CameraInfo on ``/camera/camera_info``."""

    def __init__(self, path: Path, given: GivenIntrinsics) -> None:
        super().__init__(path, IMAGE_TOPIC, IMAGE, CAMERA_INFO_TOPIC)
        self.given = given

    @abstractmethod
    def frames(self) -> Iterator[tuple[int, np.ndarray]]:
        """``(stamp_ns, (H, W, 3) uint8 RGB)`` of every frame, in order."""

    def messages(self) -> Iterator[Message]:
        for stamp, rgb in self.frames():
            header = Header(stamp=to_time(stamp), frame_id=FRAME_ID)
            info = self.given.camera_info(rgb.shape[1], rgb.shape[0], header)
            yield self.camera_info_topic, CAMERA_INFO, stamp, serialize_message(info)
            image = rgb_to_image_msg(rgb, header)
            yield self.image_topic, IMAGE, stamp, serialize_message(image)


def probe_video(path: Path) -> tuple[int | None, float | None]:
    """The frame count and rate a video's container states (None: not stated).

    :raises UserError: when OpenCV cannot read a frame of it.
    """
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened() or not capture.read()[0]:
            raise UserError(f"{path} is neither a bag file nor a video OpenCV reads; {INPUTS}")
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        return (count if count > 0 else None), (capture.get(cv2.CAP_PROP_FPS) or None)
    finally:
        capture.release()


class VideoRecording(FrameRecording):
    """A video file, stamped with its container's timestamps."""

    def __init__(self, path: Path, given: GivenIntrinsics) -> None:
        super().__init__(path, given)
        self.frame_count, self.frame_rate_hz = probe_video(path)

    def frames(self) -> Iterator[tuple[int, np.ndarray]]:
        capture = cv2.VideoCapture(str(self.path))
        period_ns = round(1e9 / (self.frame_rate_hz or 30.0))
        previous = None
        try:
            while True:
                ok, bgr = capture.read()
                if not ok:
                    return
                stamp = round(capture.get(cv2.CAP_PROP_POS_MSEC) * 1e6)
                if previous is not None and stamp <= previous:  # a container without times
                    stamp = previous + period_ns
                previous = stamp
                yield stamp, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        finally:
            capture.release()


class ImageFolderRecording(FrameRecording):
    """The images of a folder in name order, ``fps`` frames per second from stamp 0."""

    def __init__(self, path: Path, files: list[Path], fps: float, given: GivenIntrinsics) -> None:
        super().__init__(path, given)
        self.files, self.frame_rate_hz = files, fps
        self.frame_count = len(files)

    def frames(self) -> Iterator[tuple[int, np.ndarray]]:
        for i, file in enumerate(self.files):
            bgr = cv2.imread(str(file), cv2.IMREAD_COLOR)
            if bgr is None:
                raise UserError(f"{file} cannot be read as an image; remove it from {self.path}")
            yield round(i * 1e9 / self.frame_rate_hz), cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def image_files(folder: Path) -> list[Path]:
    """The image files of ``folder``, ``frame_2`` before ``frame_10``."""

    def natural(file: Path) -> list:
        return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", file.name)]

    files = [f for f in folder.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file()]
    return sorted(files, key=natural)


def _is_bag_folder(folder: Path) -> bool:
    return (folder / "metadata.yaml").is_file() or any(
        f.suffix in STORAGE_SUFFIXES for f in folder.iterdir()
    )


def open_recording(
    path: Path,
    image_topic: str | None = None,
    camera_info_topic: str | None = None,
    hfov_deg: float | None = None,
    camera_info_file: Path | None = None,
    fps: float | None = None,
) -> Recording:
    """The recording at ``path``, with the command line's choices.

    :raises UserError: naming the flag that is missing or does not apply, or what ``path`` is
        when it is no recording.
    """
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path} does not exist; check the path ({INPUTS})")
    if hfov_deg is not None and camera_info_file is not None:
        raise UserError("--hfov and --camera-info both give the intrinsics; give one of them")
    given = None
    if camera_info_file is not None:
        given = GivenIntrinsics(calibration=read_calibration(camera_info_file))
    elif hfov_deg is not None:
        if not 0 < hfov_deg < 180:
            raise UserError(f"--hfov {hfov_deg:g} is not a field of view; give 1 to 179 degrees")
        given = GivenIntrinsics(hfov_deg=hfov_deg)
    is_bag = path.suffix in STORAGE_SUFFIXES if path.is_file() else _is_bag_folder(path)
    images = [] if is_bag or path.is_file() else image_files(path)
    if fps is not None and not images:
        raise UserError(
            f"--fps sets the rate of a folder of images, and {path} is none (a bag's and a "
            f"video's stamps are their own); drop --fps"
        )
    if is_bag or not (path.is_file() or images):  # an empty folder is refused as a bag
        return BagRecording(path, image_topic, camera_info_topic, given)
    if image_topic is not None or camera_info_topic is not None:
        flag = "--image-topic" if image_topic is not None else "--camera-info-topic"
        raise UserError(f"{flag} chooses a topic of a bag, and {path} is none; drop {flag}")
    what = "a folder of images" if images else "a video"
    if not images:
        probe_video(path)  # what is no video is said so before the flags it lacks
    if given is None:
        raise UserError(f"{path} is {what}, which carries no intrinsics; give {INTRINSICS_FLAGS}")
    if not images:
        return VideoRecording(path, given)
    if fps is None:
        raise UserError(f"{path} is a folder of images; give their frame rate with --fps")
    return ImageFolderRecording(path, images, fps, given)
