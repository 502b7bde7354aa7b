"""htt-make-bag: a bag reads back frame for frame (images, stamps, camera info, ground truth)."""

from pathlib import Path

import numpy as np
import pytest
import yaml

from htt_ros.bags.bag_io import (
    CAMERA_INFO_TOPIC,
    COMPRESSED_TOPIC,
    GT_ACTION_TOPIC,
    GT_HANDS_TOPIC,
    GT_LABELS_TOPIC,
    IMAGE_TOPIC,
    BagError,
    bag_info,
    read_messages,
    stamp_ns,
)
from htt_ros.bags.make_bag import (
    FRAME_ID,
    compressed_msg,
    synthetic_sequences,
    write_bag,
)
from htt_ros.ros.image_conversion import compressed_msg_to_rgb, image_msg_to_rgb
from htt_ros.tools.htt_make_bag import main

PERIOD_NS = round(1e9 / 30)


@pytest.fixture(scope="module")
def source():
    labels, sequences = synthetic_sequences("h2o", count=2, frames=6, seed=3)
    frames = [s.frames() for s in sequences]
    return labels, sequences, frames


@pytest.mark.parametrize(
    ("storage", "compressed"),
    [("mcap", False), ("mcap", True), ("sqlite3", False), ("sqlite3", True)],
)
def test_bag_reads_back_frame_for_frame(source, tmp_path: Path, storage, compressed) -> None:
    labels, sequences, frames = source
    bag = tmp_path / "bag"
    assert write_bag(bag, labels, sequences, compressed, storage, progress=False) == 12
    metadata = yaml.safe_load((bag / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    assert metadata["version"] == 9 and metadata["storage_identifier"] == storage
    image_topic = COMPRESSED_TOPIC if compressed else IMAGE_TOPIC
    info = bag_info(bag)
    assert info.image_topic == image_topic and info.compressed == compressed
    assert info.counts == {
        image_topic: 12,
        CAMERA_INFO_TOPIC: 12,
        GT_HANDS_TOPIC: 12,
        GT_ACTION_TOPIC: 2,
        GT_LABELS_TOPIC: 1,
    }
    by_topic: dict[str, list] = {t: [] for t in info.topics}
    for topic, log_ns, msg in read_messages(bag, info.topics):
        if topic != GT_LABELS_TOPIC:
            assert stamp_ns(msg) == log_ns
        by_topic[topic].append(msg)
    (labels_msg,) = by_topic[GT_LABELS_TOPIC]
    assert labels_msg.action_labels == list(labels.action_names)
    assert labels_msg.object_names == list(labels.objects)

    stamps = [stamp_ns(m) for m in by_topic[image_topic]]
    steps = np.diff(stamps)
    assert (steps[:5] == PERIOD_NS).all() and (steps[6:] == PERIOD_NS).all()
    assert steps[5] == 10**9  # the gap between the two sequences: one second
    expected = [f for seq_frames in frames for f in seq_frames]
    truth = [(s, i) for s in sequences for i in range(s.num_frames)]
    for image, info_msg, hands, rgb, (seq, i) in zip(
        by_topic[image_topic], by_topic[CAMERA_INFO_TOPIC], by_topic[GT_HANDS_TOPIC], expected,
        truth, strict=True,
    ):  # fmt: skip
        assert image.header == info_msg.header == hands.header
        assert image.header.frame_id == FRAME_ID
        if compressed:
            assert bytes(image.data) == bytes(compressed_msg(rgb, image.header, 90).data)
            decoded = compressed_msg_to_rgb(image).astype(float)
            assert np.abs(decoded - rgb).mean() < 8.0  # JPEG 90 of noisy synthetic frames
        else:
            assert np.array_equal(image_msg_to_rgb(image), rgb)
        assert np.allclose(np.reshape(info_msg.k, (3, 3)), seq.intrinsics)
        assert (info_msg.width, info_msg.height) == (rgb.shape[1], rgb.shape[0])
        joints3d = np.array([[p.x, p.y, p.z] for h in hands.hands for p in h.joints_3d])
        joints2d = np.array([[p.x, p.y] for h in hands.hands for p in h.joints_2d])
        assert np.array_equal(joints3d.astype(np.float32), seq.joints3d[i])
        assert np.array_equal(joints2d.astype(np.float32), seq.joints2d[i])
        assert [h.side for h in hands.hands] == [0, 1]  # H2O: left then right
        assert hands.object.class_id == seq.object
    for action, seq, seq_stamps in zip(
        by_topic[GT_ACTION_TOPIC], sequences, (stamps[:6], stamps[6:]), strict=True
    ):
        assert action.class_id == seq.action and action.window_frames == 6
        assert stamp_ns(action) == seq_stamps[-1]
        assert action.window_start.sec * 10**9 + action.window_start.nanosec == seq_stamps[0]


def test_command_line_writes_a_dataset_folder(tmp_path: Path) -> None:
    from htt_ros.data import write_dataset

    data = tmp_path / "fpha"
    write_dataset(data, "fpha", sequences=4, frames=8, progress=False)
    bag = tmp_path / "bag"
    assert main([str(data), str(bag), "--layout", "fpha", "--sequences", "1", "--quiet"]) == 0
    counts = bag_info(bag).counts
    assert counts[GT_ACTION_TOPIC] == 1 and counts[IMAGE_TOPIC] == counts[GT_HANDS_TOPIC] > 0
    assert main([str(data), str(bag), "--layout", "fpha", "--quiet"]) == 2  # bag exists


def test_missing_topics_are_listed(tmp_path: Path) -> None:
    labels, sequences = synthetic_sequences("fpha", count=1, frames=2, seed=0)
    bag = tmp_path / "bag"
    write_bag(bag, labels, sequences, progress=False)
    info = bag_info(bag)
    info.topics = {CAMERA_INFO_TOPIC: info.topics[CAMERA_INFO_TOPIC]}
    with pytest.raises(BagError, match=r"has no camera topic .* /camera/camera_info"):
        _ = info.image_topic
    with pytest.raises(BagError, match="not a rosbag2 directory"):
        bag_info(tmp_path)
