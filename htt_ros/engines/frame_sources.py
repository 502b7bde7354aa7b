"""Camera frames for htt-quantize: to calibrate int8 on and to measure what int8 costs.

A source is named by one string (:func:`open_source`):

- a rosbag2 folder (``metadata.yaml`` or MCAP files; from htt-make-bag or a robot's recording):
  its camera's images in log order with the intrinsics of its latest CameraInfo, found and read
  as htt-replay reads them (undistorted where the lens distorts; a 90 degree field of view
  without CameraInfo);
- a folder of images (jpg, png, bmp; recursively, in path order): intrinsics guessed from a 90
  degree field of view, which calibration needs to be plausible, not exact;
- ``synthetic``: the package's renderer (:mod:`htt_ros.data.synthetic`), hands of the model's
  layout performing every action in turn, with their true intrinsics.

Frames come in time order with stamps; a gap between sequences (bags, the renderer) makes the
pipeline start a new history, as it does on a robot.
"""

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from htt_ros.errors import UserError
from htt_ros.geometry import pinhole_intrinsics

if TYPE_CHECKING:
    from htt_ros.bags.recording import Recording

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
SYNTHETIC = "synthetic"
FRAME_NS = 33_333_333  # 30 Hz stamps for frames that carry none
SEQUENCE_GAP_NS = 1_000_000_000  # between rendered sequences: more than a reset's gap
SYNTHETIC_FRAMES = 24  # frames per rendered sequence
GUESSED_HFOV_DEG = 90.0  # for frames without intrinsics: calibration needs plausible, not exact


class CalibrationError(UserError, ValueError):
    """Frames cannot be read from a source; the message names the source and the fix."""


@dataclass(frozen=True)
class SourceFrame:
    """One RGB frame ``(H, W, 3)`` uint8, its stamp and its ``(3, 3)`` intrinsics."""

    rgb: np.ndarray
    stamp_ns: int
    k: np.ndarray


def describe_source(spec: str) -> str:
    """What kind of source ``spec`` names: ``bag``, ``folder`` or ``synthetic``.

    :raises CalibrationError: for anything else, in one line with the fix.
    """
    if spec == SYNTHETIC:
        return SYNTHETIC
    path = Path(spec)
    if path.is_dir() and ((path / "metadata.yaml").is_file() or any(path.glob("*.mcap"))):
        return "bag"
    if path.is_dir():
        return "folder"
    what = "is a file" if path.exists() else "does not exist"
    raise CalibrationError(
        f"frame source {spec} {what}; give a rosbag2 folder, a folder of frames or '{SYNTHETIC}'"
    )


def open_source(spec: str, layout: str, seed: int = 0) -> Iterator[SourceFrame]:
    """The frames of the source ``spec`` (see the module docstring), lazily. ``layout``
    (``fpha`` or ``h2o``) and ``seed`` choose what the renderer draws."""
    kind = describe_source(spec)
    if kind == SYNTHETIC:
        return synthetic_frames(layout, seed)
    if kind == "bag":
        return bag_frames(Path(spec))
    return folder_frames(Path(spec))


def folder_frames(folder: Path) -> Iterator[SourceFrame]:
    """The images under ``folder`` in path order, 30 Hz stamps, a 90 degree field of view.

    :raises CalibrationError: at once when the folder holds no images.
    """
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise CalibrationError(
            f"no images ({', '.join(IMAGE_SUFFIXES)}) under {folder}; give a folder of frames "
            f"recorded by the camera the model will run on"
        )
    return _read_images(paths)


def _read_images(paths: list[Path]) -> Iterator[SourceFrame]:
    for i, path in enumerate(paths):
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise CalibrationError(f"{path} is not a readable image; remove it from the folder")
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        k = pinhole_intrinsics(rgb.shape[1], rgb.shape[0], GUESSED_HFOV_DEG)
        yield SourceFrame(rgb, (i + 1) * FRAME_NS, k)


def bag_frames(bag: Path) -> Iterator[SourceFrame]:
    """The camera images of ``bag`` (found as htt-replay finds them) with the intrinsics its
    CameraInfo gives them, or a guessed field of view when it has none.

    :raises BagError: at once when the bag cannot be read or has no camera topic.
    """
    from htt_ros.bags.bag_io import bag_info
    from htt_ros.bags.camera_topics import find_camera
    from htt_ros.bags.recording import BagRecording, GivenIntrinsics

    has_info = find_camera(bag_info(bag)).camera_info is not None
    given = None if has_info else GivenIntrinsics(hfov_deg=GUESSED_HFOV_DEG)
    return _read_bag(BagRecording(bag, None, None, given))


def _read_bag(recording: "Recording") -> Iterator[SourceFrame]:
    from htt_ros.bags.bag_io import stamp_ns
    from htt_ros.ros.camera_intrinsics import IntrinsicsSource
    from htt_ros.ros.image_conversion import compressed_msg_to_rgb, image_msg_to_rgb

    camera = IntrinsicsSource(recording.camera_info_topic, recording.image_topic)
    for topic, _, _, cdr in recording.messages():
        msg = recording.deserialize(topic, cdr)
        if topic == recording.camera_info_topic:
            camera.update(msg)
            continue
        rgb = compressed_msg_to_rgb(msg) if recording.compressed else image_msg_to_rgb(msg)
        answer = camera.for_image(rgb.shape[1], rgb.shape[0], 0.0, 0.0, 0.0)
        if answer.k is None:
            continue  # an image before any CameraInfo: nothing to decode it with
        if answer.undistort is not None:
            rgb = answer.undistort.image(rgb)
        yield SourceFrame(np.ascontiguousarray(rgb), stamp_ns(msg), answer.k)


def synthetic_frames(layout: str, seed: int) -> Iterator[SourceFrame]:
    """Rendered sequences of every action in turn, without end; ``seed`` makes them new."""
    from htt_ros.data.synthetic import generate_sequence, synthetic_labels

    actions = len(synthetic_labels(layout).actions)
    stamp = 0
    for n in itertools.count():
        seq = generate_sequence(
            layout, n % actions, SYNTHETIC_FRAMES, seed=[seed, n], subject=n % 4
        )
        stamp += SEQUENCE_GAP_NS
        for rgb in seq.images:
            stamp += FRAME_NS
            yield SourceFrame(rgb, stamp, seq.intrinsics)
