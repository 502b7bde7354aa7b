"""The annotated image: 2D skeleton per hand, object and action drawn on a copy of the frame."""

import cv2
import numpy as np

from htt_ros.model_card import ModelCard
from htt_ros.ros.hand_layout import HAND_COLOURS, caption, hand_slices, per_hand_skeleton
from htt_ros.streaming.results import ActionResult, PoseResult

_SHIFT = 4  # fractional bits of the drawing coordinates: joints are drawn to 1/16 pixel
_LIMIT = 1 << 20  # pixels; far-off joints are clipped so fixed-point coordinates fit in int32


def annotate(
    rgb: np.ndarray, pose: PoseResult, card: ModelCard, action: ActionResult | None = None
) -> np.ndarray:
    """A copy of ``rgb`` with the hands' bones and joints and a caption drawn on it.

    Args:
        rgb: ``(H, W, 3)`` uint8 RGB frame the pose was estimated on (left untouched).
        pose: its pose result; ``joints2d`` are pixels of this frame (centre of the top-left
            pixel at (0, 0)). Joints that are not finite are not drawn.
        card: the model card (hands, skeleton, object names).
        action: the latest action result, named in the caption when given.

    Returns:
        ``(H, W, 3)`` uint8 RGB image, contiguous, ready for ``rgb_to_image_msg``.

    :raises ValueError: when ``rgb`` is not ``(H, W, 3)`` uint8, or as
        :func:`~htt_ros.ros.hand_layout.per_hand_skeleton`.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 RGB frame, got {rgb.shape} {rgb.dtype}")
    image = np.array(rgb, order="C")  # a writable copy, also of a read-only message view
    thickness = max(2, round(min(image.shape[:2]) / 200))  # pixels; 2 at 480x270
    _, bones = per_hand_skeleton(card)
    for side, span in zip(card.hands, hand_slices(card), strict=True):
        colour = HAND_COLOURS[side]
        joints = pose.joints2d[span]
        finite = np.isfinite(joints).all(axis=1)
        fixed = np.round(np.clip(joints, -_LIMIT, _LIMIT) * (1 << _SHIFT))
        points = np.nan_to_num(fixed).astype(np.int32)
        for a, b in bones:
            if finite[a] and finite[b]:
                pa, pb = points[a].tolist(), points[b].tolist()
                cv2.line(image, pa, pb, colour, thickness, cv2.LINE_AA, _SHIFT)
        for point in points[finite].tolist():
            cv2.circle(image, point, (thickness + 1) << _SHIFT, colour, -1, cv2.LINE_AA, _SHIFT)
    _draw_caption(image, caption(pose, card, action))
    return image


def _draw_caption(image: np.ndarray, lines: list[str]) -> None:
    """White text on a black box in the top-left corner, one line below the other."""
    size = min(image.shape[:2])
    font, scale, weight = cv2.FONT_HERSHEY_SIMPLEX, size / 720, max(1, round(size / 540))
    x = y = max(2, size // 100)
    for line in lines:
        (width, height), baseline = cv2.getTextSize(line, font, scale, weight)
        bottom = y + height + baseline + 2 * weight
        cv2.rectangle(image, (x, y), (x + width + 2 * weight, bottom), (0, 0, 0), -1)
        origin = (x + weight, y + height + weight)
        cv2.putText(image, line, origin, font, scale, (255, 255, 255), weight, cv2.LINE_AA)
        y = bottom
