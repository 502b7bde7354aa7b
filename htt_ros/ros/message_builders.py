"""Pipeline results to htt_ros messages.

Every output carries the header of its source image unchanged: the pipeline is pushed each
frame with that ``std_msgs/Header`` as the :class:`~htt_ros.streaming.results.FrameRef` ``tag``,
and the builders copy it from there (never ``now()``, never a literal frame id).
"""

from collections.abc import Sequence

from builtin_interfaces.msg import Time
from geometry_msgs.msg import Point
from std_msgs.msg import Header

from htt_ros.labels import Action as ActionClass
from htt_ros.labels import LabelSet
from htt_ros.model_card import ModelCard
from htt_ros.msg import Action, ClassScore, Hand, HandLabels, HandPoses, ObjectClass, Pixel
from htt_ros.ros.hand_layout import in_view_fraction, joint_slices, per_hand_skeleton
from htt_ros.streaming.results import ActionResult, FrameRef, PoseResult

SIDES = {"left": Hand.LEFT, "right": Hand.RIGHT}  # card hand names to Hand.side


def source_header(frame: FrameRef) -> Header:
    """A copy of the source image header carried as ``frame.tag`` (stamp and frame_id).

    :raises TypeError: when the tag is not a ``std_msgs/Header`` (the node must push each
        image's header as the tag).
    """
    tag = frame.tag
    if not isinstance(tag, Header):
        raise TypeError(
            f"frame tag is {type(tag).__name__}, expected the source image's std_msgs/Header; "
            f"push frames into the pipeline with tag=msg.header"
        )
    return Header(stamp=_copy_time(tag.stamp), frame_id=tag.frame_id)


def _copy_time(stamp: Time) -> Time:
    return Time(sec=stamp.sec, nanosec=stamp.nanosec)


def hand_poses_msg(result: PoseResult, card: ModelCard, image_size: tuple[int, int]) -> HandPoses:
    """The ``HandPoses`` of one frame; ``image_size`` is the source image's ``(width, height)``.

    Hands follow ``card.hands`` (output order); the object is the most probable class.

    :raises ValueError: when the result's shapes do not match the card (``(J, 2)`` and
        ``(J, 3)`` joints, one probability per object) or its hands are not left/right.
    :raises TypeError: see :func:`source_header`.
    """
    joints, objects = card.num_joints, len(card.labels.objects)
    if (
        result.joints2d.shape != (joints, 2)
        or result.joints3d.shape != (joints, 3)
        or result.object_probs.shape != (objects,)
    ):
        raise ValueError(
            f"pose result has joints2d {result.joints2d.shape}, joints3d "
            f"{result.joints3d.shape}, object_probs {result.object_probs.shape}; the model card "
            f"expects ({joints}, 2), ({joints}, 3), ({objects},): the engine and model.json "
            f"come from different model folders"
        )
    return hands_msg(result, card.hands, card.labels.objects, image_size)


def hands_msg(
    result: PoseResult,
    hands: Sequence[str],
    objects: Sequence[str],
    image_size: tuple[int, int],
) -> HandPoses:
    """The ``HandPoses`` of ``result``: its joints split equally over ``hands`` (output order),
    the most probable of ``objects``, ``image_size`` the source image's ``(width, height)``.

    :raises ValueError: see :func:`~htt_ros.ros.hand_layout.joint_slices`.
    :raises TypeError: see :func:`source_header`.
    """
    joints2d, joints3d = result.joints2d.tolist(), result.joints3d.tolist()
    spans = joint_slices(hands, len(joints3d))
    probs = result.object_probs.astype(float).tolist()
    best = max(range(len(probs)), key=probs.__getitem__)
    width, height = image_size
    return HandPoses(
        header=source_header(result.frame),
        image_width=width,
        image_height=height,
        hands=[
            Hand(
                side=SIDES[side],
                joints_3d=[Point(x=x, y=y, z=z) for x, y, z in joints3d[span]],
                joints_2d=[Pixel(x=x, y=y) for x, y in joints2d[span]],
                in_view_fraction=in_view_fraction(
                    result.joints2d[span], result.joints3d[span], image_size
                ),
            )
            for side, span in zip(hands, spans, strict=True)
        ],
        object=ObjectClass(
            class_id=best,
            name=objects[best],
            confidence=probs[best],
            probabilities=probs,
        ),
        complete_window=result.complete_window,
        window_frames=result.window_frames,
        lag_frames=result.lag_frames,
    )


def action_msg(result: ActionResult, card: ModelCard, top_k: int = 5) -> Action:
    """The ``Action`` of one window, from the ``smoothed`` probabilities.

    ``header`` is the newest frame's source header, ``window_start`` the oldest frame's stamp;
    ``top_k`` holds the ``min(top_k, A)`` best classes, best first (ties by class id).

    :raises ValueError: when ``top_k < 1`` or ``smoothed`` does not have one entry per action
        of the card.
    :raises TypeError: see :func:`source_header`.
    """
    return actions_msg(result, card.labels.actions, top_k)


def actions_msg(result: ActionResult, actions: Sequence[ActionClass], top_k: int) -> Action:
    """The ``Action`` of ``result`` over the classes ``actions``; see :func:`action_msg`."""
    if top_k < 1:
        raise ValueError(f"top_k must be at least 1, got {top_k}")
    if result.smoothed.shape != (len(actions),):
        raise ValueError(
            f"action result has {result.smoothed.shape} probabilities, the model card "
            f"{len(actions)} actions: the engine and model.json come from different model folders"
        )
    scores = result.smoothed.astype(float).tolist()
    ranked = sorted(range(len(scores)), key=lambda i: -scores[i])[:top_k]
    best = actions[ranked[0]]
    return Action(
        header=source_header(result.newest),
        window_start=source_header(result.first).stamp,
        window_frames=result.window_frames,
        class_id=ranked[0],
        label=best.name,
        verb=best.verb,
        noun=best.noun,
        confidence=scores[ranked[0]],
        top_k=[ClassScore(class_id=i, label=actions[i].name, score=scores[i]) for i in ranked],
    )


def hand_labels_msg(card: ModelCard, model_name: str, stamp: Time) -> HandLabels:
    """The latched ``HandLabels`` of a model; ``stamp`` is when it was loaded, frame_id empty.

    :raises ValueError: when the card's hands are not left/right sharing one skeleton (see
        :func:`~htt_ros.ros.hand_layout.per_hand_skeleton`).
    """
    joint_names, bones = per_hand_skeleton(card)
    msg = labels_msg(card.labels, card.hands, joint_names, bones, stamp)
    msg.model_name = model_name
    msg.dataset = card.dataset
    msg.pose_window = card.window
    msg.action_window = card.clip_length
    msg.model_rate_hz = card.frame_rate_hz
    return msg


def labels_msg(
    labels: LabelSet,
    hands: Sequence[str],
    joint_names: Sequence[str],
    bones: Sequence[tuple[int, int]],
    stamp: Time,
) -> HandLabels:
    """The ``HandLabels`` of a label set (the model fields left empty): action and object names,
    ``hands`` in output order, one hand's ``joint_names`` and (parent, child) ``bones``."""
    return HandLabels(
        header=Header(stamp=_copy_time(stamp), frame_id=""),
        dataset=labels.name,
        action_labels=[a.name for a in labels.actions],
        action_verbs=[a.verb for a in labels.actions],
        action_nouns=[a.noun for a in labels.actions],
        object_names=list(labels.objects),
        hands=[SIDES[side] for side in hands],
        joint_names=list(joint_names),
        bone_parents=[parent for parent, _ in bones],
        bone_children=[child for _, child in bones],
    )
