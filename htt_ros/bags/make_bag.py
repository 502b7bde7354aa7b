"""``htt-make-bag``: data set sequences into a rosbag2 directory, as a camera would record them.

Topics (``frame_id`` ``camera_optical`` on all headers):

- ``/camera/image_raw`` (sensor_msgs/Image, rgb8) or, with ``--compressed``,
  ``/camera/image_raw/compressed`` (sensor_msgs/CompressedImage, JPEG);
- ``/camera/camera_info`` (sensor_msgs/CameraInfo), one per image, same header;
- ``/ground_truth/hands`` (htt_ros/HandPoses), one per image, same header: the true joints and
  object (probabilities one-hot);
- ``/ground_truth/action`` (htt_ros/Action), one per sequence at its last frame: the true action,
  ``window_start`` the first frame's stamp, ``window_frames`` the sequence length;
- ``/ground_truth/labels`` (htt_ros/HandLabels), once at the start: the data set's label names.

Frames are stamped at the camera rate (30 Hz), sequences one after another with ``--gap``
seconds between them, longer than the node's ``max_gap_s`` so that replay resets its history at
each new sequence. Log time equals header stamp.

Messages are built as rclpy messages and serialised by rclpy itself (``serialize_message``), so
the bag holds exactly the bytes a ROS publisher sends; rosbags only writes the container (its
typestore, with the htt_ros messages registered from their ``.msg`` files, supplies the message
definitions and RIHS01 type hashes of the metadata).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from builtin_interfaces.msg import Time
from sensor_msgs.msg import CompressedImage
from std_msgs.msg import Header

from htt_ros.bags.bag_io import (
    CAMERA_INFO_TOPIC,
    COMPRESSED_TOPIC,
    GT_ACTION_TOPIC,
    GT_HANDS_TOPIC,
    GT_LABELS_TOPIC,
    IMAGE_TOPIC,
    BagError,
    BagWriter,
)
from htt_ros.data import generate_sequence, load_fpha, load_h2o, synthetic_labels
from htt_ros.labels import LabelSet
from htt_ros.msg import Action, HandPoses
from htt_ros.progress import Progress
from htt_ros.ros.image_messages import camera_info_msg, rgb_to_image_msg
from htt_ros.ros.message_builders import actions_msg, hands_msg, labels_msg
from htt_ros.skeleton import BONES, JOINT_NAMES, hands_for_joint_count
from htt_ros.streaming.results import ActionResult, FrameRef, PoseResult

LAYOUTS = ("fpha", "h2o", "synthetic-fpha", "synthetic-h2o")
FRAME_ID = "camera_optical"
START_NS = 1_700_000_000 * 1_000_000_000  # first stamp: a plausible wall-clock time, never 0
NS_PER_S = 1_000_000_000


@dataclass
class BagSequence:
    """One sequence to write: ``joints3d (F, J, 3)`` metres, ``joints2d (F, J, 2)`` pixels,
    ``intrinsics (3, 3)``; ``frames()`` returns ``(F, H, W, 3)`` uint8 RGB."""

    key: str
    action: int
    object: int
    joints3d: np.ndarray
    joints2d: np.ndarray
    intrinsics: np.ndarray
    fps: float
    frames: Callable[[], np.ndarray]

    @property
    def num_frames(self) -> int:
        return len(self.joints3d)


def dataset_sequences(
    root: Path, layout: str, split: str, count: int | None
) -> tuple[LabelSet, list[BagSequence]]:
    """The first ``count`` (all when None) sequences of a split of an FPHA or H2O folder."""
    dataset = (load_fpha if layout == "fpha" else load_h2o)(root, split)
    picks = range(len(dataset) if count is None else min(count, len(dataset)))
    sequences = [
        BagSequence(
            key=(s := dataset[i]).key,
            action=s.action,
            object=s.object,
            joints3d=s.joints3d,
            joints2d=s.joints2d,
            intrinsics=s.intrinsics,
            fps=s.fps,
            frames=lambda i=i: dataset.frames(i),
        )
        for i in picks
    ]
    return dataset.labels, sequences


def synthetic_sequences(
    layout: str, count: int, frames: int, seed: int
) -> tuple[LabelSet, list[BagSequence]]:
    """``count`` sequences straight from the synthetic generator (actions in turn, rendered when
    written)."""
    labels = synthetic_labels(layout)
    sequences = []
    for i in range(count):
        action = i % len(labels.actions)
        truth = generate_sequence(layout, action, frames, seed=(seed, i), render=False)

        def render(action: int = action, i: int = i) -> np.ndarray:
            return generate_sequence(layout, action, frames, seed=(seed, i)).images

        sequences.append(
            BagSequence(
                key=f"synthetic-{layout}/{seed}/{i}",
                action=action,
                object=truth.object,
                joints3d=truth.joints3d,
                joints2d=truth.joints2d,
                intrinsics=truth.intrinsics,
                fps=truth.fps,
                frames=render,
            )
        )
    return labels, sequences


def to_time(ns: int) -> Time:
    return Time(sec=ns // NS_PER_S, nanosec=ns % NS_PER_S)


def ground_truth_hands(
    seq: BagSequence, index: int, labels: LabelSet, header: Header, size: tuple[int, int]
) -> HandPoses:
    """The true hands and object of frame ``index`` (``size`` = image ``(width, height)``)."""
    probabilities = np.zeros(len(labels.objects), np.float32)
    probabilities[seq.object] = 1.0
    truth = PoseResult(
        frame=FrameRef(0, header),
        joints2d=seq.joints2d[index],
        joints3d=seq.joints3d[index],
        object_probs=probabilities,
        complete_window=True,
        window_frames=1,
        lag_frames=0,
    )
    return hands_msg(truth, hands_for_joint_count(labels.num_joints), labels.objects, size)


def ground_truth_action(seq: BagSequence, labels: LabelSet, header: Header, start: Time) -> Action:
    """The sequence's true action, stamped with its last frame."""
    probabilities = np.zeros(len(labels.actions), np.float32)
    probabilities[seq.action] = 1.0
    truth = ActionResult(
        newest=FrameRef(0, header),
        first=FrameRef(0, Header(stamp=start, frame_id=header.frame_id)),
        window_frames=seq.num_frames,
        probs=probabilities,
        smoothed=probabilities,
    )
    return actions_msg(truth, labels.actions, top_k=1)


def compressed_msg(rgb: np.ndarray, header: Header, quality: int) -> CompressedImage:
    """A JPEG CompressedImage as image_transport's compressed publisher writes it."""
    ok, jpeg = cv2.imencode(
        ".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    if not ok:
        raise BagError(f"JPEG encoding of a {rgb.shape} frame failed")
    return CompressedImage(header=header, format="rgb8; jpeg compressed bgr8", data=jpeg.tobytes())


def write_bag(
    out: Path,
    labels: LabelSet,
    sequences: Sequence[BagSequence],
    compressed: bool = False,
    storage: str = "mcap",
    gap_s: float = 1.0,
    jpeg_quality: int = 90,
    progress: bool = True,
) -> int:
    """Write ``sequences`` into a new bag at ``out`` (layout in the module docstring); returns
    the number of frames written.

    :raises BagError: when ``out`` exists or ``storage`` is unknown.
    """
    total = sum(s.num_frames for s in sequences)
    bar = Progress(f"htt-make-bag: writing {out.name}", total, enabled=progress)
    image_topic = COMPRESSED_TOPIC if compressed else IMAGE_TOPIC
    t_ns = START_NS
    with BagWriter(out, storage) as bag:
        hands = hands_for_joint_count(labels.num_joints)
        truth = labels_msg(labels, hands, JOINT_NAMES, BONES, to_time(t_ns))
        bag.write(GT_LABELS_TOPIC, truth, t_ns)
        for seq in sequences:
            period_ns = round(NS_PER_S / seq.fps)
            first = to_time(t_ns)
            frames = seq.frames()
            height, width = frames.shape[1:3]
            for index, rgb in enumerate(frames):
                header = Header(stamp=to_time(t_ns), frame_id=FRAME_ID)
                image = (
                    compressed_msg(rgb, header, jpeg_quality)
                    if compressed
                    else rgb_to_image_msg(rgb, header)
                )
                bag.write(
                    CAMERA_INFO_TOPIC, camera_info_msg(seq.intrinsics, width, height, header), t_ns
                )
                bag.write(image_topic, image, t_ns)
                truth = ground_truth_hands(seq, index, labels, header, (width, height))
                bag.write(GT_HANDS_TOPIC, truth, t_ns)
                if index == len(frames) - 1:
                    bag.write(
                        GT_ACTION_TOPIC, ground_truth_action(seq, labels, header, first), t_ns
                    )
                t_ns += period_ns
                bar.update()
            t_ns += round(gap_s * NS_PER_S) - period_ns
    bar.close()
    return total
