"""Rosbag2 directories through the ``rosbags`` library: the topics ``htt-make-bag`` writes, the
typestore that knows the package's messages, and reading messages back as rclpy messages.

Bags are rosbag2 version 9 (metadata.yaml and storage as rosbag2 in Kilted writes them), MCAP or
sqlite3. Message bytes are the CDR of ``rclpy.serialization.serialize_message``, so a reader gets
exactly what a ROS publisher would have sent.
"""

import functools
import os
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from rclpy.serialization import deserialize_message, serialize_message
from rosbags.interfaces import (
    Qos,
    QosDurability,
    QosHistory,
    QosLiveliness,
    QosReliability,
    QosTime,
)
from rosbags.rosbag2 import Reader, ReaderError, StoragePlugin, Writer
from rosbags.typesys import Stores, get_types_from_msg
from rosbags.typesys import get_typestore as _get_typestore
from rosbags.typesys.store import Typestore
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from visualization_msgs.msg import MarkerArray

from htt_ros.bags.mcap_scan import starts_as_mcap, whole_messages
from htt_ros.errors import UserError
from htt_ros.msg import Action, HandLabels, HandPoses

IMAGE_TOPIC = "/camera/image_raw"
COMPRESSED_TOPIC = "/camera/image_raw/compressed"
CAMERA_INFO_TOPIC = "/camera/camera_info"
GT_HANDS_TOPIC = "/ground_truth/hands"
GT_ACTION_TOPIC = "/ground_truth/action"
GT_LABELS_TOPIC = "/ground_truth/labels"

STORAGES = {"mcap": StoragePlugin.MCAP, "sqlite3": StoragePlugin.SQLITE3}
MESSAGE_TYPES: dict[str, Any] = {
    "sensor_msgs/msg/Image": Image,
    "sensor_msgs/msg/CompressedImage": CompressedImage,
    "sensor_msgs/msg/CameraInfo": CameraInfo,
    "rosgraph_msgs/msg/Clock": Clock,
    "htt_ros/msg/HandPoses": HandPoses,
    "htt_ros/msg/Action": Action,
    "htt_ros/msg/HandLabels": HandLabels,
    "visualization_msgs/msg/MarkerArray": MarkerArray,
}


class BagError(UserError, ValueError):
    """A bag cannot be written or does not hold what a tool needs; the message says what to do."""


def message_dir() -> Path:
    """The folder of the package's ``.msg`` files: installed (``share/htt_ros/msg`` under an
    ament prefix or this Python's prefix), else the source checkout's ``msg/``.

    :raises BagError: when none holds ``HandPoses.msg``.
    """
    prefixes = [p for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]
    candidates = [Path(p, "share", "htt_ros", "msg") for p in [*prefixes, sys.prefix]]
    candidates.append(Path(__file__).resolve().parents[2] / "msg")
    for folder in candidates:
        if (folder / "HandPoses.msg").is_file():
            return folder
    raise BagError(
        f"cannot find the htt_ros .msg files (looked in {', '.join(map(str, candidates))}); "
        f"install the package (pip install . or colcon build) and source its environment"
    )


@functools.cache
def typestore() -> Typestore:
    """The Kilted typestore with the htt_ros messages registered from their ``.msg`` files (the
    type hashes it computes equal rosidl's)."""
    store = _get_typestore(Stores.ROS2_KILTED)
    types: dict[str, Any] = {}
    for path in sorted(message_dir().glob("*.msg")):
        types.update(get_types_from_msg(path.read_text(), f"htt_ros/msg/{path.stem}"))
    store.register(types)
    return store


def type_name(msg: Any) -> str:
    """``pkg/msg/Name`` of an rclpy message instance."""
    module = type(msg).__module__.split(".")[0]
    return f"{module}/msg/{type(msg).__name__}"


def check_new_bag(path: Path) -> None:
    """:raises BagError: when ``path`` exists (a bag is never written over)."""
    if path.exists():
        raise BagError(f"{path} already exists; choose a new bag path or delete it")


_UNSET = QosTime(sec=0, nsec=0)  # rosbag2's "default" for deadline, lifespan and lease
LATCHED = Qos(
    history=QosHistory.KEEP_LAST,
    depth=1,
    reliability=QosReliability.RELIABLE,
    durability=QosDurability.TRANSIENT_LOCAL,
    deadline=_UNSET,
    lifespan=_UNSET,
    liveliness=QosLiveliness.AUTOMATIC,
    liveliness_lease_duration=_UNSET,
    avoid_ros_namespace_conventions=False,
)  # offered by a latched topic's recorded publisher, so ``ros2 bag play`` latches it too


class BagWriter:
    """Writes rclpy messages (or their CDR) to a new rosbag2 directory; a topic is added on its
    first message."""

    def __init__(self, path: Path, storage: str = "mcap") -> None:
        if storage not in STORAGES:
            raise BagError(f"storage must be one of {', '.join(STORAGES)}, got {storage!r}")
        check_new_bag(path)
        self._writer = Writer(path, version=9, storage_plugin=STORAGES[storage])
        self._connections: dict[str, Any] = {}

    def __enter__(self) -> "BagWriter":
        self._writer.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self._writer.close()

    def write(self, topic: str, msg: Any, log_time_ns: int, latched: bool = False) -> None:
        """``msg`` at ``log_time_ns``; a ``latched`` topic is recorded as offered
        transient-local (:data:`LATCHED`)."""
        self.write_raw(topic, type_name(msg), serialize_message(msg), log_time_ns, latched)

    def write_raw(
        self, topic: str, msgtype: str, cdr: bytes, log_time_ns: int, latched: bool = False
    ) -> None:
        """Serialized ``cdr`` of type ``msgtype`` (``pkg/msg/Name``) at ``log_time_ns``."""
        connection = self._connections.get(topic)
        if connection is None:
            qos = [LATCHED] if latched else []
            connection = self._writer.add_connection(
                topic, msgtype, typestore=typestore(), offered_qos_profiles=qos
            )
            self._connections[topic] = connection
        self._writer.write(connection, log_time_ns, cdr)


@dataclass
class BagInfo:
    """What a bag holds: ``topics`` maps name to message type, ``counts`` to message count."""

    path: Path
    topics: dict[str, str]
    counts: dict[str, int]
    duration_ns: int
    cut_off: bool = False  # MCAP cut off (or no metadata.yaml); counts are of whole messages

    @property
    def message_count(self) -> int:
        return sum(self.counts.values())

    @property
    def image_topic(self) -> str:
        """The camera topic (raw preferred over compressed).

        :raises BagError: listing the bag's topics when it has no camera image topic.
        """
        for topic in (IMAGE_TOPIC, COMPRESSED_TOPIC):
            if topic in self.topics:
                return topic
        images = [t for t, kind in self.topics.items() if kind in _IMAGE_TYPES]
        if len(images) == 1:
            return images[0]
        raise BagError(
            f"{self.path} has no single camera image topic (expected {IMAGE_TOPIC} or "
            f"{COMPRESSED_TOPIC}); its topics are: {self.describe_topics()}. Write bags with "
            f"htt-make-bag, or record the camera on one of those topics"
        )

    @property
    def compressed(self) -> bool:
        return self.topics[self.image_topic] == "sensor_msgs/msg/CompressedImage"

    def require(self, *topics: str) -> None:
        """:raises BagError: listing the bag's topics when one of ``topics`` is missing."""
        missing = [t for t in topics if t not in self.topics]
        if missing:
            raise BagError(
                f"{self.path} lacks {', '.join(missing)}; its topics are: "
                f"{self.describe_topics()}. Bags from htt-make-bag carry the camera info and "
                f"the ground truth on those topics"
            )

    def describe_topics(self) -> str:
        return ", ".join(f"{t} ({k}, {self.counts[t]})" for t, k in sorted(self.topics.items()))


_IMAGE_TYPES = ("sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage")


def open_reader(path: Path) -> Reader:
    """:raises BagError: when ``path`` is not a rosbag2 directory that rosbags can read."""
    if not (Path(path) / "metadata.yaml").is_file():
        raise BagError(
            f"{path} is not a rosbag2 directory (no metadata.yaml); pass the bag folder, e.g. "
            f"one written by htt-make-bag"
        )
    return Reader(path)


def _cut_off_files(path: Path, error: ReaderError) -> list[Path]:
    """The storage files of a bag whose MCAP file rosbags refused with ``error``, when they
    still begin as MCAP (a recording cut off before its footer).

    :raises BagError: when the bag is unreadable for another reason.
    """
    try:
        info = yaml.safe_load((path / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
        files = [path / Path(name).name for name in info["relative_file_paths"]]
        if info["storage_identifier"] == "mcap" and all(map(starts_as_mcap, files)):
            return files
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        pass
    reason = " ".join(str(error).split())  # rosbags quotes YAML errors over several lines
    raise BagError(f"{path} is not a bag that can be read ({reason}); pass a rosbag2 folder")


def _split_files(path: Path) -> list[Path]:
    """The MCAP files of a bag folder in split order (``<name>_0.mcap``, ``<name>_1.mcap``)."""

    def split_index(file: Path) -> int:
        number = re.search(r"_(\d+)$", file.stem)
        return int(number.group(1)) if number else 0

    return sorted(path.glob("*.mcap"), key=lambda file: (split_index(file), file.name))


def _open(path: Path) -> Reader | list[Path]:
    """An opened reader of the bag, or the storage files of a cut-off MCAP bag: one rosbags
    refuses, or a folder of MCAP files without the metadata.yaml a recorder writes at its end."""
    path = Path(path)
    if not (path / "metadata.yaml").is_file():
        files = _split_files(path)
        if files and all(map(starts_as_mcap, files)):
            return files
    reader = open_reader(path)
    try:
        reader.open()
    except ReaderError as error:
        return _cut_off_files(path, error)
    return reader


def _messages(path: Path, wanted: set[str]) -> Iterator[tuple[str, str, int, bytes]]:
    """``(topic, type, log_time_ns, cdr)`` of the ``wanted`` topics: in log-time order from
    rosbags, or in file order up to the last whole message of a cut-off MCAP bag."""
    source = _open(path)
    if isinstance(source, list):
        for file in source:
            yield from (m for m in whole_messages(file) if m[0] in wanted)
        return
    try:
        connections = [c for c in source.connections if c.topic in wanted]
        for connection, log_ns, raw in source.messages(connections=connections):
            yield connection.topic, connection.msgtype, log_ns, bytes(raw)
    finally:
        source.close()


def bag_info(path: Path) -> BagInfo:
    """Topics, message counts and duration of a bag (of its whole messages when cut off)."""
    source = _open(path)
    if not isinstance(source, list):
        topics = {c.topic: c.msgtype for c in source.connections}
        counts = {t: 0 for t in topics}
        for c in source.connections:
            counts[c.topic] += c.msgcount
        duration = source.duration
        source.close()
        return BagInfo(Path(path), topics, counts, duration)
    topics, counts, first, last = {}, {}, None, None
    for file in source:
        for topic, msgtype, log_ns, _ in whole_messages(file):
            topics[topic] = msgtype
            counts[topic] = counts.get(topic, 0) + 1
            first = log_ns if first is None else min(first, log_ns)
            last = log_ns if last is None else max(last, log_ns)
    duration = 0 if first is None else last - first + 1
    return BagInfo(Path(path), topics, counts, duration, cut_off=True)


def read_raw(path: Path, topics: Iterable[str]) -> Iterator[tuple[str, str, int, bytes]]:
    """``(topic, type, log_time_ns, cdr)`` of ``topics`` in log-time order (file order for a
    cut-off bag, up to its last whole message)."""
    return _messages(path, set(topics))


def read_messages(path: Path, topics: Iterable[str]) -> Iterator[tuple[str, int, Any]]:
    """``(topic, log_time_ns, rclpy message)`` of ``topics`` in log-time order.

    :raises BagError: for a message type this module does not know.
    """
    for topic, kind, log_ns, raw in read_raw(path, topics):
        cls = MESSAGE_TYPES.get(kind)
        if cls is None:
            raise BagError(
                f"topic {topic} of {path} has type {kind}; the replay tools read "
                f"{', '.join(MESSAGE_TYPES)}"
            )
        yield topic, log_ns, deserialize_message(raw, cls)


def stamp_ns(msg: Any) -> int:
    """The header stamp of ``msg`` in nanoseconds."""
    return msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
