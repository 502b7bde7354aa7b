"""The 3D hand skeleton as RViz markers, in the camera's optical frame.

Markers carry the source image's header (its optical ``frame_id`` and acquisition stamp), so
RViz places them with tf at the time the image was taken. Each hand is the namespace
``htt/<side>`` holding a SPHERE_LIST of joints (id ``2 * slot``) and a LINE_LIST of bones (id
``2 * slot + 1``); the caption is ``htt/caption`` id ``slot``. One pose at a time uses slot 0,
so every array replaces the previous one; the t poses of a segment burst
(:func:`burst_markers`) use slots 0..t-1, so all of them stay drawn until the next burst
replaces them slot by slot. The ``lifetime`` removes markers when the stream stops, and
:func:`clear_markers` removes them at once (after a reset or when the node shuts down).
"""

import math

from builtin_interfaces.msg import Duration
from geometry_msgs.msg import Point
from std_msgs.msg import ColorRGBA, Header
from visualization_msgs.msg import Marker, MarkerArray

from htt_ros.model_card import ModelCard
from htt_ros.ros.hand_layout import HAND_COLOURS, caption, hand_slices, per_hand_skeleton
from htt_ros.ros.message_builders import source_header
from htt_ros.streaming.results import ActionResult, PoseResult

NAMESPACE = "htt"
JOINT_DIAMETER_M = 0.012
BONE_WIDTH_M = 0.005
TEXT_HEIGHT_M = 0.02
_CAPTION_LIFT_M = 0.05  # caption this far above the highest joint (optical y points down)


def hand_markers(
    pose: PoseResult,
    card: ModelCard,
    action: ActionResult | None = None,
    lifetime_s: float = 0.5,
    slot: int = 0,
) -> MarkerArray:
    """Joints, bones and a caption (object, and action when given) of one frame's hands.

    ``pose.joints3d`` are metres in the optical frame of ``pose.frame.tag``, the source image
    header, which every marker copies. Choose ``lifetime_s`` a few frame periods long; 0 keeps
    markers until they are replaced or cleared. ``slot`` picks the marker ids (module
    docstring).

    :raises TypeError: when ``pose.frame.tag`` is not a ``std_msgs/Header``.
    :raises ValueError: for a negative ``lifetime_s``, or as
        :func:`~htt_ros.ros.hand_layout.per_hand_skeleton`.
    """
    header = source_header(pose.frame)
    lifetime = _duration(lifetime_s)
    _, bones = per_hand_skeleton(card)
    joints = pose.joints3d.tolist()
    markers = []
    for side, span in zip(card.hands, hand_slices(card), strict=True):
        ns = f"{NAMESPACE}/{side}"
        red, green, blue = (c / 255.0 for c in HAND_COLOURS[side])
        colour = ColorRGBA(r=red, g=green, b=blue, a=1.0)
        points = [Point(x=x, y=y, z=z) for x, y, z in joints[span]]
        pairs = [point for a, b in bones for point in (points[a], points[b])]
        markers += [
            _marker(
                header,
                ns,
                2 * slot,
                Marker.SPHERE_LIST,
                points,
                JOINT_DIAMETER_M,
                colour,
                lifetime,
            ),
            _marker(
                header, ns, 2 * slot + 1, Marker.LINE_LIST, pairs, BONE_WIDTH_M, colour, lifetime
            ),
        ]
    text = Marker(
        header=header,
        ns=f"{NAMESPACE}/caption",
        id=slot,
        type=Marker.TEXT_VIEW_FACING,
        action=Marker.ADD,
        lifetime=lifetime,
        color=ColorRGBA(r=1.0, g=1.0, b=1.0, a=1.0),
        text="\n".join(caption(pose, card, action)),
    )
    centre, top = pose.joints3d.mean(axis=0), pose.joints3d[:, 1].min()
    text.pose.position = Point(
        x=float(centre[0]), y=float(top) - _CAPTION_LIFT_M, z=float(centre[2])
    )
    text.pose.orientation.w = 1.0
    text.scale.z = TEXT_HEIGHT_M
    markers.append(text)
    return MarkerArray(markers=markers)


def burst_markers(
    poses: list[PoseResult],
    card: ModelCard,
    action: ActionResult | None,
    period_s: float,
) -> MarkerArray:
    """Every pose of a burst (the t poses of a segment) in one array, pose ``i`` in slot ``i``;
    they live ``len(poses)`` frame periods ``period_s`` and a half, until the next burst."""
    lifetime = (len(poses) + 0.5) * period_s if len(poses) > 1 else 0.5
    markers = [
        marker
        for slot, pose in enumerate(poses)
        for marker in hand_markers(pose, card, action, lifetime, slot).markers
    ]
    return MarkerArray(markers=markers)


def clear_markers(header: Header) -> MarkerArray:
    """One DELETEALL marker: RViz removes every marker it holds from this topic."""
    return MarkerArray(markers=[Marker(header=header, action=Marker.DELETEALL)])


def _marker(
    header: Header,
    ns: str,
    marker_id: int,
    marker_type: int,
    points: list[Point],
    size: float,
    colour: ColorRGBA,
    lifetime: Duration,
) -> Marker:
    marker = Marker(
        header=header,
        ns=ns,
        id=marker_id,
        type=marker_type,
        action=Marker.ADD,
        points=points,
        color=colour,
        lifetime=lifetime,
    )
    marker.pose.orientation.w = 1.0
    marker.scale.x = marker.scale.y = marker.scale.z = size
    return marker


def _duration(seconds: float) -> Duration:
    if not seconds >= 0.0:
        raise ValueError(f"marker lifetime must be >= 0 s (0 = until replaced), got {seconds}")
    fraction, whole = math.modf(seconds)
    return Duration(sec=int(whole), nanosec=int(fraction * 1e9))
