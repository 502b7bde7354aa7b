"""RViz hand markers: in the image's frame at the image's stamp, one skeleton per hand."""

import numpy as np
import pytest
from builtin_interfaces.msg import Duration
from result_samples import action_result, header, make_card, pose_result
from visualization_msgs.msg import Marker

from htt_ros.ros.markers import burst_markers, clear_markers, hand_markers
from htt_ros.skeleton import BONES


def test_markers_use_the_image_header() -> None:
    card = make_card(("left", "right"))
    for marker in hand_markers(pose_result(card), card).markers:
        assert marker.header == header()
        assert marker.header.frame_id == "cam_optical"


def test_one_joint_list_and_one_bone_list_per_hand() -> None:
    card = make_card(("left", "right"))
    pose = pose_result(card)
    markers = hand_markers(pose, card, lifetime_s=0.25).markers
    by_key = {(m.ns, m.id): m for m in markers}
    assert len(by_key) == len(markers) == 5
    for h, side in enumerate(("left", "right")):
        joints = by_key[(f"htt/{side}", 0)]
        bones = by_key[(f"htt/{side}", 1)]
        assert joints.type == Marker.SPHERE_LIST and bones.type == Marker.LINE_LIST
        expected = pose.joints3d[21 * h : 21 * (h + 1)]
        assert len(joints.points) == 21
        np.testing.assert_allclose([[p.x, p.y, p.z] for p in joints.points], expected, atol=1e-7)
        # LINE_LIST: consecutive point pairs, one per bone, (parent, child).
        assert len(bones.points) == 2 * len(BONES)
        pairs = [[p.x, p.y, p.z] for p in bones.points]
        expected_pairs = [expected[i] for bone in BONES for i in bone]
        np.testing.assert_allclose(pairs, expected_pairs, atol=1e-7)
        for marker in (joints, bones):
            assert marker.action == Marker.ADD
            assert marker.lifetime == Duration(sec=0, nanosec=250_000_000)
            assert marker.pose.orientation.w == 1.0 and marker.scale.x > 0


def test_hands_have_different_colours() -> None:
    card = make_card(("left", "right"))
    markers = hand_markers(pose_result(card), card).markers
    colours = {m.ns: (m.color.r, m.color.g, m.color.b) for m in markers if m.id == 0}
    assert colours["htt/left"] != colours["htt/right"]
    assert all(m.color.a == 1.0 for m in markers)


def test_caption_names_object_and_action() -> None:
    card = make_card(("right",))
    markers = hand_markers(pose_result(card), card, action_result([0.3, 0.6, 0.1])).markers
    (text,) = [m for m in markers if m.type == Marker.TEXT_VIEW_FACING]
    assert text.ns == "htt/caption"
    assert text.text == "object: milk 70%\naction: pour milk 60%"
    assert [m.ns for m in markers if m.ns.startswith("htt/") and m.id == 0] == [
        "htt/right",
        "htt/caption",
    ]


def test_ids_are_stable_from_frame_to_frame() -> None:
    card = make_card(("left", "right"))
    first = hand_markers(pose_result(card, header(1)), card).markers
    second = hand_markers(pose_result(card, header(2)), card).markers
    assert [(m.ns, m.id) for m in first] == [(m.ns, m.id) for m in second]


def test_negative_lifetime_is_rejected() -> None:
    card = make_card(("right",))
    with pytest.raises(ValueError, match="lifetime"):
        hand_markers(pose_result(card), card, lifetime_s=-1.0)


def test_clear_markers_is_one_deleteall_in_the_given_header() -> None:
    (marker,) = clear_markers(header()).markers
    assert marker.action == Marker.DELETEALL
    assert marker.header == header()


def test_a_burst_keeps_every_pose_drawn_until_the_next() -> None:
    card = make_card(("left", "right"))
    poses = [pose_result(card) for _ in range(4)]
    markers = burst_markers(poses, card, None, period_s=1 / 15).markers
    keys = {(m.ns, m.id) for m in markers}
    assert len(keys) == len(markers) == 4 * 5  # nothing in the burst overwrites another pose
    assert {m.id for m in markers if m.ns == "htt/left"} == set(range(8))
    lifetime = markers[0].lifetime.sec + markers[0].lifetime.nanosec / 1e9
    assert abs(lifetime - 4.5 / 15) < 1e-6  # until the next burst, t periods later
    (single,) = [burst_markers(poses[:1], card, None, 1 / 15)]
    assert {(m.ns, m.id) for m in single.markers} == {
        (m.ns, m.id) for m in hand_markers(poses[0], card).markers
    }
