"""Camera frames for htt-quantize: to calibrate int8 on and to measure what int8 costs.

A source is named by one string (:func:`open_source`):

- a rosbag2 folder (``metadata.yaml`` or MCAP files; from htt-make-bag or a robot's recording):
  its images in log order with the intrinsics of its latest CameraInfo, read as htt-replay
  reads them (undistorted where the lens distorts);
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
    from htt_ros.bags.bag_io import BagInfo

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
SYNTHETIC = "synthetic"
FRAME_NS = 33_333_333  # 30 Hz stamps for frames that carry none
SEQUENCE_GAP_NS = 1_000_000_000  # between rendered sequences: more than a reset's gap
SYNTHETIC_FRAMES = 24  # frames per rendered sequence


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
        k = pinhole_intrinsics(rgb.shape[1], rgb.shape[0], 90.0)
        yield SourceFrame(rgb, (i + 1) * FRAME_NS, k)


def bag_frames(bag: Path) -> Iterator[SourceFrame]:
    """The camera images of ``bag`` with the intrinsics its CameraInfo gives them.

    :raises BagError: at once when the bag cannot be read or has no camera topic.
    """
    from htt_ros.bags.bag_io import bag_info

    info = bag_info(bag)
    info.image_topic  # noqa: B018  (raises, naming the bag's topics, when it has none)
    return _read_bag(info)


def _read_bag(info: "BagInfo") -> Iterator[SourceFrame]:
    from htt_ros.bags.bag_io import CAMERA_INFO_TOPIC, read_messages, stamp_ns
    from htt_ros.ros.camera_intrinsics import IntrinsicsSource
    from htt_ros.ros.image_conversion import compressed_msg_to_rgb, image_msg_to_rgb

    camera = IntrinsicsSource(CAMERA_INFO_TOPIC, info.image_topic)
    for topic, _, msg in read_messages(info.path, [info.image_topic, CAMERA_INFO_TOPIC]):
        if topic == CAMERA_INFO_TOPIC:
            camera.update(msg)
            continue
        rgb = compressed_msg_to_rgb(msg) if info.compressed else image_msg_to_rgb(msg)
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
