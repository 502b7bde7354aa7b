"""The annotated image: bones drawn in each hand's colour on a copy of the frame."""

import numpy as np
import pytest
from result_samples import action_result, make_card, pose_result

from htt_ros.ros.annotate import annotate
from htt_ros.ros.hand_layout import HAND_COLOURS


def frame() -> np.ndarray:
    return np.full((120, 220, 3), 7, np.uint8)


def test_bones_are_drawn_in_the_hand_colours_on_a_copy() -> None:
    card = make_card(("left", "right"))
    pose = pose_result(card)
    # Per hand: bone (0, 1), wrist to thumb MCP, along row 100 from x = 20 + 100h to
    # 80 + 100h; every other joint far from it, at (50 + 100h, 10).
    for h in range(2):
        pose.joints2d[21 * h : 21 * (h + 1)] = (50 + 100 * h, 10)
        pose.joints2d[21 * h] = (20 + 100 * h, 100)
        pose.joints2d[21 * h + 1] = (80 + 100 * h, 100)
    rgb = frame()
    out = annotate(rgb, pose, card, action_result())
    assert out.shape == rgb.shape and out.dtype == np.uint8 and out.flags.c_contiguous
    np.testing.assert_array_equal(rgb, frame())  # the input is untouched
    for h, side in enumerate(("left", "right")):
        along_bone = out[100, 30 + 100 * h : 71 + 100 * h].astype(int)
        np.testing.assert_allclose(along_bone, [HAND_COLOURS[side]] * 41, atol=8)
        np.testing.assert_array_equal(out[90, 30 + 100 * h : 71 + 100 * h], 7)  # beside it


def test_caption_is_drawn_top_left() -> None:
    card = make_card(("right",))
    out = annotate(frame(), pose_result(card), card)
    assert (out[:20, :40] != 7).any()


def test_read_only_input_and_non_finite_joints() -> None:
    card = make_card(("right",))
    pose = pose_result(card)
    pose.joints2d[5] = np.nan
    pose.joints2d[6] = np.inf
    rgb = frame()
    rgb.flags.writeable = False
    out = annotate(rgb, pose, card)
    assert out.flags.writeable and (out != 7).any()


def test_rejects_a_non_rgb_frame() -> None:
    card = make_card(("right",))
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
        annotate(np.zeros((4, 4), np.uint8), pose_result(card), card)
