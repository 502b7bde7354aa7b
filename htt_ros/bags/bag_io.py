"""Rosbag2 directories through the ``rosbags`` library: the topics ``htt-make-bag`` writes, the
typestore that knows the package's messages, and reading messages back as rclpy messages.

Bags are rosbag2 version 9 (metadata.yaml and storage as rosbag2 in Kilted writes them), MCAP or
sqlite3. Message bytes are the CDR of ``rclpy.serialization.serialize_message``, so a reader gets
exactly what a ROS publisher would have sent.
"""

import functools
import heapq
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
    cut_off: bool = False  # an MCAP file ends early; counts are of its whole messages

    @property
    def message_count(self) -> int:
        return sum(self.counts.values())

    @property
    def image_topic(self) -> str:
        """The camera topic, found by message type (:mod:`~htt_ros.bags.camera_topics`).

        :raises BagError: listing the bag's topics when it has no camera, or several.
        """
        from htt_ros.bags.camera_topics import find_camera

        return find_camera(self).image

    @property
    def compressed(self) -> bool:
        from htt_ros.bags.camera_topics import COMPRESSED

        return self.topics[self.image_topic] == COMPRESSED

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


STORAGE_SUFFIXES = (".mcap", ".db3")
_Source = Reader | Path  # an opened reader, or an MCAP file that ends early


def _not_readable(path: Path, error: ReaderError) -> BagError:
    reason = " ".join(str(error).split())  # rosbags quotes YAML errors over several lines
    return BagError(f"{path} is not a bag that can be read ({reason}); pass a rosbag2 folder")


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
    raise _not_readable(path, error)


def storage_files(folder: Path) -> list[Path]:
    """The storage files of a bag folder in split order (``<name>_0.mcap``, ``<name>_1.mcap``),
    the order ``ros2 bag reindex`` lists them in."""

    def split_index(file: Path) -> int:
        number = re.search(r"_(\d+)$", file.stem)
        return int(number.group(1)) if number else 0

    files = [f for f in folder.iterdir() if f.suffix in STORAGE_SUFFIXES and f.is_file()]
    return sorted(files, key=lambda file: (split_index(file), file.name))


def _open_file(file: Path) -> _Source:
    """One storage file opened alone, or the file itself when it is MCAP that ends early.

    :raises BagError: when it cannot be read at all.
    """
    reader = Reader(file)
    try:
        reader.open()
    except ReaderError as error:
        if file.suffix == ".mcap" and starts_as_mcap(file):
            return file
        raise _not_readable(file, error) from None
    return reader


def _open(path: Path) -> list[_Source]:
    """The opened parts of a bag: a folder with metadata.yaml, a folder of storage files
    without it (read file by file in split order, as ``ros2 bag reindex`` would), or a single
    ``.mcap`` or ``.db3`` file. MCAP files that end early (a recording that did not end
    cleanly) come as their paths.

    :raises BagError: when ``path`` is none of these.
    """
    path = Path(path)
    if path.is_file():
        if path.suffix not in STORAGE_SUFFIXES:
            raise BagError(
                f"{path} is not a rosbag2 storage file ({' or '.join(STORAGE_SUFFIXES)}); pass "
                f"a bag folder or one of its storage files"
            )
        return [_open_file(path)]
    if (path / "metadata.yaml").is_file():
        reader = Reader(path)
        try:
            reader.open()
        except ReaderError as error:
            return list(_cut_off_files(path, error))
        return [reader]
    files = storage_files(path) if path.is_dir() else []
    if not files:
        raise BagError(
            f"{path} is not a rosbag2 directory (no metadata.yaml and no "
            f"{' or '.join(STORAGE_SUFFIXES)} files); pass a bag folder, e.g. one written by "
            f"ros2 bag record or htt-make-bag"
        )
    return [_open_file(file) for file in files]


def _source_messages(source: _Source, wanted: set[str]) -> Iterator[tuple[str, str, int, bytes]]:
    if isinstance(source, Path):
        yield from (m for m in whole_messages(source) if m[0] in wanted)
        return
    try:
        connections = [c for c in source.connections if c.topic in wanted]
        for connection, log_ns, raw in source.messages(connections=connections):
            yield connection.topic, connection.msgtype, log_ns, bytes(raw)
    finally:
        source.close()


def _messages(path: Path, wanted: set[str]) -> Iterator[tuple[str, str, int, bytes]]:
    """``(topic, type, log_time_ns, cdr)`` of the ``wanted`` topics in log-time order across
    the bag's files (a file that ends early: in file order, up to its last whole message)."""
    sources = _open(path)
    yield from heapq.merge(*(_source_messages(s, wanted) for s in sources), key=lambda m: m[2])


def bag_info(path: Path) -> BagInfo:
    """Topics, message counts and duration of a bag (of its whole messages when cut off)."""
    topics: dict[str, str] = {}
    counts: dict[str, int] = {}
    first, last, cut_off = None, None, False
    for source in _open(path):
        if isinstance(source, Path):
            cut_off = True
            for topic, msgtype, log_ns, _ in whole_messages(source):
                topics[topic] = msgtype
                counts[topic] = counts.get(topic, 0) + 1
                first = log_ns if first is None else min(first, log_ns)
                last = log_ns if last is None else max(last, log_ns)
            continue
        for c in source.connections:
            topics[c.topic] = c.msgtype
            counts[c.topic] = counts.get(c.topic, 0) + c.msgcount
        if source.message_count:
            first = source.start_time if first is None else min(first, source.start_time)
            end = source.end_time - 1  # rosbags' end time is one past the last message
            last = end if last is None else max(last, end)
        source.close()
    duration = 0 if first is None else last - first + 1
    return BagInfo(Path(path), topics, counts, duration, cut_off)


def read_raw(path: Path, topics: Iterable[str]) -> Iterator[tuple[str, str, int, bytes]]:
    """``(topic, type, log_time_ns, cdr)`` of ``topics`` in log-time order (file order within
    an MCAP file that ends early, up to its last whole message)."""
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
