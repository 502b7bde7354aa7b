"""HandPoses and Action messages back to the pipeline's results, so that what is drawn from
published messages (the output bag's markers and annotated images, the annotated video) goes
through the same builders as the node's own outputs (:mod:`~htt_ros.ros.markers`,
:mod:`~htt_ros.ros.annotate`)."""

import numpy as np
from builtin_interfaces.msg import Time
from std_msgs.msg import Header

from htt_ros.msg import Action, HandPoses
from htt_ros.streaming.results import ActionResult, FrameRef, PoseResult


def time_ns(stamp: Time) -> int:
    return stamp.sec * 1_000_000_000 + stamp.nanosec


def pose_result(msg: HandPoses) -> PoseResult:
    """The :class:`PoseResult` of ``msg``: its hands' joints in message order, the object
    probabilities, the header as the frame's tag."""
    return PoseResult(
        frame=FrameRef(time_ns(msg.header.stamp), msg.header),
        joints2d=np.array([[p.x, p.y] for h in msg.hands for p in h.joints_2d], np.float32),
        joints3d=np.array([[p.x, p.y, p.z] for h in msg.hands for p in h.joints_3d], np.float32),
        object_probs=np.asarray(msg.object.probabilities, np.float32),
        complete_window=msg.complete_window,
        window_frames=msg.window_frames,
        lag_frames=msg.lag_frames,
    )


def action_result(msg: Action, num_actions: int) -> ActionResult:
    """The :class:`ActionResult` of ``msg`` over ``num_actions`` classes: the top-k scores, 0
    for the classes outside them (the message carries no more)."""
    scores = np.zeros(num_actions, np.float32)
    for entry in msg.top_k:
        scores[entry.class_id] = entry.score
    first = Header(stamp=msg.window_start, frame_id=msg.header.frame_id)
    return ActionResult(
        newest=FrameRef(time_ns(msg.header.stamp), msg.header),
        first=FrameRef(time_ns(msg.window_start), first),
        window_frames=msg.window_frames,
        probs=scores,
        smoothed=scores,
    )
