"""Which topics of a bag are its camera: found by message type, not by name.

The image topic is the one ``sensor_msgs/msg/Image`` or ``CompressedImage`` topic of the bag
(``--image-topic`` picks one of several). A raw and a compressed stream of the same camera
(``<base>`` and ``<base>/compressed``) are one camera, read raw. Its CameraInfo is the
image_transport sibling: ``<namespace>/camera_info``, where the namespace is that of the base
topic (``/head_cam`` for ``/head_cam/image_raw`` and for ``/head_cam/image_raw/compressed``),
or the topic ``--camera-info-topic`` names. Every other topic (``/rosout``, ``/tf``, service
events, ...) is ignored.
"""

from dataclasses import dataclass

from htt_ros.bags.bag_io import BagError, BagInfo

IMAGE = "sensor_msgs/msg/Image"
COMPRESSED = "sensor_msgs/msg/CompressedImage"
CAMERA_INFO = "sensor_msgs/msg/CameraInfo"
TRANSPORT_SUFFIX = "/compressed"  # image_transport's compressed stream of a base topic


@dataclass(frozen=True)
class CameraTopics:
    """The camera of a bag: its image topic and type, and its CameraInfo topic (None: none)."""

    image: str
    msgtype: str
    camera_info: str | None

    @property
    def compressed(self) -> bool:
        return self.msgtype == COMPRESSED


def base_topic(image_topic: str, msgtype: str) -> str:
    """The image_transport base topic: ``/cam/image_raw`` for ``/cam/image_raw/compressed``."""
    if msgtype == COMPRESSED:
        return image_topic.removesuffix(TRANSPORT_SUFFIX) or image_topic
    return image_topic


def camera_info_sibling(image_topic: str, msgtype: str) -> str:
    """``<namespace>/camera_info`` of an image topic, as image_transport's camera subscriber
    derives it."""
    namespace = base_topic(image_topic, msgtype).rsplit("/", 1)[0]
    return f"{namespace}/camera_info"


def find_camera(
    info: BagInfo, image_topic: str | None = None, camera_info_topic: str | None = None
) -> CameraTopics:
    """The camera topics of the bag ``info`` describes.

    :raises BagError: for a bag without messages, without a camera topic or with several
        (listing them for ``--image-topic``), and for a named topic the bag lacks or that has
        another type.
    """
    if not info.topics:
        raise BagError(
            f"{info.path} holds no messages (an empty bag); record the camera's image topic, "
            f"e.g. ros2 bag record /camera/image_raw /camera/camera_info"
        )
    images = {t: kind for t, kind in info.topics.items() if kind in (IMAGE, COMPRESSED)}
    if image_topic is not None:
        if image_topic not in images:
            raise BagError(
                f"--image-topic {image_topic} is not a camera topic of {info.path}; its cameras "
                f"are: {_listing(info, images) or 'none'}"
            )
        chosen = image_topic
    else:
        chosen = _one_camera(info, images)
    msgtype = images[chosen]
    if camera_info_topic is None:
        sibling = camera_info_sibling(chosen, msgtype)
        return CameraTopics(chosen, msgtype, sibling if sibling in _infos(info) else None)
    if camera_info_topic not in _infos(info):
        raise BagError(
            f"--camera-info-topic {camera_info_topic} is not a {CAMERA_INFO} topic of "
            f"{info.path}; its CameraInfo topics are: {', '.join(_infos(info)) or 'none'} "
            f"(without one, give --hfov DEG or --camera-info FILE.yaml)"
        )
    return CameraTopics(chosen, msgtype, camera_info_topic)


def _one_camera(info: BagInfo, images: dict[str, str]) -> str:
    if not images:
        raise BagError(
            f"{info.path} has no camera topic ({IMAGE} or {COMPRESSED}); its topics are: "
            f"{info.describe_topics()}; record the camera's image topic"
        )
    cameras: dict[str, list[str]] = {}
    for topic, kind in images.items():
        cameras.setdefault(base_topic(topic, kind), []).append(topic)
    if len(cameras) > 1:
        raise BagError(
            f"{info.path} has {len(cameras)} cameras: {_listing(info, images)}; choose one "
            f"with --image-topic"
        )
    (streams,) = cameras.values()
    return min(streams, key=lambda topic: (images[topic] != IMAGE, topic))  # raw first


def _infos(info: BagInfo) -> list[str]:
    return sorted(t for t, kind in info.topics.items() if kind == CAMERA_INFO)


def _listing(info: BagInfo, topics: dict[str, str]) -> str:
    return ", ".join(
        f"{t} ({kind.rsplit('/', 1)[-1]}, {info.counts[t]})" for t, kind in sorted(topics.items())
    )
