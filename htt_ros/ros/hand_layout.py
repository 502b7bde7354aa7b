"""Which output joints belong to which hand, the per-hand skeleton, hand colours and captions.

Shared by the message builders, the RViz markers and the annotated image, so that all three
split, colour and label hands the same way. No ROS imports.
"""

from collections.abc import Sequence

import numpy as np

from htt_ros.model_card import ModelCard
from htt_ros.skeleton import HAND_LEFT, HAND_RIGHT
from htt_ros.streaming.results import ActionResult, PoseResult

# RGB 0-255: blue for the left hand, orange for the right one.
HAND_COLOURS: dict[str, tuple[int, int, int]] = {
    HAND_LEFT: (40, 140, 255),
    HAND_RIGHT: (255, 110, 30),
}


PLAUSIBLE_DEPTH_M = (0.1, 1.5)  # within reach of a head-mounted camera


def in_view_fraction(
    joints2d: np.ndarray, joints3d: np.ndarray, image_size: tuple[int, int]
) -> float:
    """Fraction of a hand's joints (``(N, 2)`` pixels, ``(N, 3)`` metres) that lie inside the
    image of ``image_size`` ``(W, H)`` with a depth in :data:`PLAUSIBLE_DEPTH_M` (what
    Hand.in_view_fraction documents)."""
    width, height = image_size
    u, v, z = joints2d[:, 0], joints2d[:, 1], joints3d[:, 2]
    inside = (u >= 0) & (u < width) & (v >= 0) & (v < height)
    plausible = (z >= PLAUSIBLE_DEPTH_M[0]) & (z <= PLAUSIBLE_DEPTH_M[1])
    return float(np.mean(inside & plausible))


def hand_slices(card: ModelCard) -> tuple[slice, ...]:
    """The joints of each hand of ``card.hands`` in the ``J`` outputs; see :func:`joint_slices`."""
    return joint_slices(card.hands, card.num_joints)


def joint_slices(hands: Sequence[str], num_joints: int) -> tuple[slice, ...]:
    """The joints of each of ``hands`` in ``num_joints`` outputs (equal, consecutive runs).

    :raises ValueError: when a hand is not 'left' or 'right', or the joints do not split evenly.
    """
    unknown = sorted(set(hands) - set(HAND_COLOURS))
    if not hands or unknown or num_joints % len(hands):
        raise ValueError(
            f"model card hands {list(hands)} with {num_joints} joints: expected "
            f"'left'/'right' hands sharing the joints equally; re-export the model folder"
        )
    per_hand = num_joints // len(hands)
    return tuple(slice(h * per_hand, (h + 1) * per_hand) for h in range(len(hands)))


def per_hand_skeleton(
    card: ModelCard,
) -> tuple[tuple[str, ...], tuple[tuple[int, int], ...]]:
    """Joint names and (parent, child) bones of one hand, indexed within that hand.

    Names lose the card's ``"<hand>_"`` prefix ("right_wrist" -> "wrist").

    :raises ValueError: as :func:`hand_slices`, or when a bone joins two hands or the hands do
        not share one skeleton (the messages describe a single per-hand skeleton).
    """
    spans = [range(s.start, s.stop) for s in hand_slices(card)]
    bones = [
        [(a - r.start, b - r.start) for a, b in card.bones if a in r and b in r] for r in spans
    ]
    if sum(map(len, bones)) != len(card.bones) or any(b != bones[0] for b in bones):
        raise ValueError(
            f"model card bones {list(card.bones)} are not one skeleton repeated for the hands "
            f"{list(card.hands)}; re-export the model folder"
        )
    prefix = f"{card.hands[0]}_"
    names = tuple(name.removeprefix(prefix) for name in card.joint_names[: len(spans[0])])
    return names, tuple(bones[0])


def caption(pose: PoseResult, card: ModelCard, action: ActionResult | None) -> list[str]:
    """Lines naming the most probable object and, when given, action, with probabilities."""
    objects = card.labels.objects
    best = int(pose.object_probs.argmax())
    lines = [f"object: {objects[best]} {pose.object_probs[best]:.0%}"]
    if action is not None:
        a = int(action.smoothed.argmax())
        lines.append(f"action: {card.labels.actions[a].name} {action.smoothed[a]:.0%}")
    return lines
