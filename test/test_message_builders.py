"""Pipeline results to messages: headers copied unchanged, ids mapped to the card's names."""

import dataclasses

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from result_samples import action_result, header, make_card, pose_result

from htt_ros.msg import Hand
from htt_ros.ros.message_builders import (
    action_msg,
    hand_labels_msg,
    hand_poses_msg,
    source_header,
)
from htt_ros.skeleton import BONES, JOINT_NAMES
from htt_ros.streaming.results import FrameRef


def test_hand_poses_copy_the_source_header_and_split_the_hands() -> None:
    card = make_card(("left", "right"))
    pose = pose_result(card)
    msg = hand_poses_msg(pose, card, (640, 360))
    assert msg.header == header()  # stamp and frame_id unchanged
    assert msg.header is not pose.frame.tag
    assert (msg.image_width, msg.image_height) == (640, 360)
    assert [hand.side for hand in msg.hands] == [Hand.LEFT, Hand.RIGHT]
    for h, hand in enumerate(msg.hands):
        assert len(hand.joints_3d) == len(hand.joints_2d) == 21
        joints2d = pose.joints2d[21 * h : 21 * (h + 1)]
        joints3d = pose.joints3d[21 * h : 21 * (h + 1)]
        np.testing.assert_allclose([[p.x, p.y] for p in hand.joints_2d], joints2d)
        np.testing.assert_allclose([[p.x, p.y, p.z] for p in hand.joints_3d], joints3d)
    assert (msg.object.class_id, msg.object.name) == (1, "milk")
    assert msg.object.confidence == pytest.approx(0.7)
    np.testing.assert_allclose(msg.object.probabilities, [0.2, 0.7, 0.1], rtol=1e-6)
    assert (msg.complete_window, msg.window_frames, msg.lag_frames) == (True, 16, 2)


def test_one_right_hand() -> None:
    card = make_card(("right",))
    msg = hand_poses_msg(pose_result(card), card, (640, 360))
    assert [hand.side for hand in msg.hands] == [Hand.RIGHT]


def test_pose_that_does_not_fit_the_card() -> None:
    pose = pose_result(make_card(("right",)))
    with pytest.raises(ValueError, match=r"joints2d \(21, 2\).*expects \(42, 2\)"):
        hand_poses_msg(pose, make_card(("left", "right")), (640, 360))


def test_frame_tag_must_be_a_header() -> None:
    with pytest.raises(TypeError, match=r"tag=msg\.header"):
        source_header(FrameRef(stamp_ns=5, tag=None))


def test_action_names_the_best_class_and_ranks_top_k() -> None:
    card = make_card()
    msg = action_msg(action_result([0.3, 0.6, 0.1]), card, top_k=2)
    assert msg.header == header(108, 5)
    assert msg.window_start == Time(sec=100, nanosec=0)
    assert msg.window_frames == 128
    assert (msg.class_id, msg.label, msg.verb, msg.noun) == (1, "pour milk", "pour", "milk")
    assert msg.confidence == pytest.approx(0.6)
    assert [(s.class_id, s.label) for s in msg.top_k] == [(1, "pour milk"), (0, "open milk")]
    assert [s.score for s in msg.top_k] == pytest.approx([0.6, 0.3])


def test_action_top_k_is_capped_and_ties_go_to_the_lower_id() -> None:
    msg = action_msg(action_result([0.2, 0.4, 0.4]), make_card(), top_k=10)
    assert [s.class_id for s in msg.top_k] == [1, 2, 0]
    assert (msg.class_id, msg.noun) == (1, "milk")


def test_action_reports_smoothed_not_window_probabilities() -> None:
    result = dataclasses.replace(action_result([0.1, 0.1, 0.8]), probs=np.array([1.0, 0, 0]))
    assert action_msg(result, make_card()).label == "read book"


@pytest.mark.parametrize(("top_k", "smoothed"), [(0, [0.3, 0.6, 0.1]), (3, [0.5, 0.5])])
def test_action_rejects_bad_input(top_k: int, smoothed: list[float]) -> None:
    with pytest.raises(ValueError):
        action_msg(action_result(smoothed), make_card(), top_k=top_k)


def test_hand_labels_describe_the_model_per_hand() -> None:
    card = make_card(("left", "right"))
    msg = hand_labels_msg(card, "tiny_model", Time(sec=42, nanosec=7))
    assert msg.header.stamp == Time(sec=42, nanosec=7) and msg.header.frame_id == ""
    assert (msg.model_name, msg.dataset) == ("tiny_model", "tiny")
    assert list(msg.action_labels) == ["open milk", "pour milk", "read book"]
    assert list(msg.action_verbs) == ["open", "pour", "read"]
    assert list(msg.action_nouns) == ["milk", "milk", "book"]
    assert list(msg.object_names) == ["book", "milk", "chips"]
    assert list(msg.hands) == [Hand.LEFT, Hand.RIGHT]
    assert list(msg.joint_names) == list(JOINT_NAMES)  # per hand, without "left_"
    assert list(zip(msg.bone_parents, msg.bone_children, strict=True)) == list(BONES)
    assert (msg.pose_window, msg.action_window) == (16, 128)
    assert msg.model_rate_hz == pytest.approx(15.0)


def test_hand_labels_reject_an_unknown_hand() -> None:
    card = dataclasses.replace(make_card(("left", "right")), hands=("left", "middle"))
    with pytest.raises(ValueError, match="'left'/'right'"):
        hand_labels_msg(card, "bad", Time())


def test_hand_labels_reject_bones_that_differ_between_hands() -> None:
    card = make_card(("left", "right"))
    card = dataclasses.replace(card, bones=card.bones[:-1])
    with pytest.raises(ValueError, match="not one skeleton"):
        hand_labels_msg(card, "bad", Time())


def test_in_view_fraction_counts_joints_inside_the_image_at_a_reachable_depth() -> None:
    card = make_card(("right",))
    pose = pose_result(card)
    joints2d = np.tile([[320.0, 180.0]], (21, 1)).astype(np.float32)
    joints3d = np.tile([[0.0, 0.0, 0.5]], (21, 1)).astype(np.float32)
    joints2d[:3] = [[-1.0, 10.0], [640.0, 10.0], [10.0, 360.5]]  # outside the 640x360 image
    joints3d[3:5, 2] = [0.05, 2.0]  # too near, too far
    pose = dataclasses.replace(pose, joints2d=joints2d, joints3d=joints3d)
    (hand,) = hand_poses_msg(pose, card, (640, 360)).hands
    assert hand.in_view_fraction == pytest.approx(16 / 21)
