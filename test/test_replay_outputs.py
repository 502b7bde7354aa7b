"""htt-replay's outputs through the real command: predictions.jsonl, the output bag read back
with rosbags and with htt_ros's reader, the annotated video, and the refusals."""

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from model_folders import camera_frames, export_small_model
from rosbags.rosbag2 import Reader
from std_msgs.msg import Header

from htt_ros.bags.bag_io import BagWriter, read_messages, read_raw, typestore
from htt_ros.bags.make_bag import to_time
from htt_ros.bags.output_bag import (
    ACTION_TOPIC,
    ANNOTATED_TOPIC,
    HANDS_TOPIC,
    LABELS_TOPIC,
    MARKERS_TOPIC,
)
from htt_ros.ros.image_messages import camera_info_msg, rgb_to_image_msg

pytestmark = pytest.mark.slow  # exports a model, runs the command
FRAMES = 40  # one 30 Hz sequence: 20 poses at the model's 15 Hz


def replay(*args: object) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "htt_ros.tools.htt_replay", *map(str, args), "--quiet"]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


IMAGE = "/head_cam/image_raw"  # a robot's camera: any name, no labels
SIZE = (160, 120)
PERIOD_NS = 33_333_333


def write_camera_bag(path: Path) -> None:
    """FRAMES images and CameraInfo at 30 Hz, log time 5 ms after each stamp (as a recorder)."""
    k = np.array([[150.0, 0, 80], [0, 150.0, 60], [0, 0, 1]])
    with BagWriter(path) as bag:
        for i, rgb in enumerate(camera_frames(FRAMES, SIZE)):
            stamp = 1_700_000_000_000_000_000 + i * PERIOD_NS
            header = Header(stamp=to_time(stamp), frame_id="head_cam_optical")
            bag.write(
                "/head_cam/camera_info", camera_info_msg(k, *SIZE, header), stamp + 5_000_000
            )
            bag.write(IMAGE, rgb_to_image_msg(rgb, header), stamp + 5_000_000)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("outputs")
    model = export_small_model(root / "model", clip_length=16)
    write_camera_bag(root / "bag")
    return model, root / "bag"


@pytest.fixture(scope="module")
def outputs(inputs, tmp_path_factory) -> Path:
    """One run writing every output: report, output bag with annotated images, video."""
    model, bag = inputs
    out = tmp_path_factory.mktemp("run")
    done = replay(
        model, bag, "--out", out / "report", "--out-bag", out / "out_bag", "--annotated",
        "--annotated-video", out / "annotated.mp4", "--action-stride", "4",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return out


def predictions(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "report" / "predictions.jsonl").open()]


def test_predictions_have_a_line_per_frame_and_per_action(outputs) -> None:
    lines = predictions(outputs)
    frames = [line for line in lines if "hands" in line]
    actions = [line["action"] for line in lines if "action" in line]
    assert len(frames) == FRAMES // 2 and len(actions) == FRAMES // 2 // 4
    for line in frames:
        assert set(line) == {"stamp_ns", "hands", "object"}
        (hand,) = line["hands"]
        assert hand["side"] == "right" and 0.0 <= hand["in_view_fraction"] <= 1.0
        assert np.shape(hand["joints3d"]) == (21, 3) and np.shape(hand["joints2d"]) == (21, 2)
        assert set(line["object"]) == {"class_id", "name", "confidence"}
    keys = {"window_start_ns", "stamp_ns", "window_frames", "class_id", "label", "verb", "noun"}
    for action in actions:
        assert set(action) == keys | {"confidence", "top_k"}
        assert action["top_k"][0]["label"] == action["label"]
    frame_stamps = {line["stamp_ns"] for line in frames}
    assert all(a["stamp_ns"] in frame_stamps for a in actions)  # an action names a posed frame


def test_the_output_bag_holds_the_predictions_at_the_input_times(inputs, outputs) -> None:
    _, bag = inputs
    input_log = {}  # image stamp -> its log time in the input bag
    for _, log_ns, msg in read_messages(bag, [IMAGE]):
        input_log[msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec] = log_ns
    store = typestore()
    topics: dict[str, list] = {}
    assert len(list((outputs / "out_bag").glob("*.mcap"))) == 1
    with Reader(outputs / "out_bag") as reader:
        for connection, log_ns, raw in reader.messages():
            msg = store.deserialize_cdr(raw, connection.msgtype)
            topics.setdefault(connection.topic, []).append((log_ns, msg))
    frames = [line for line in predictions(outputs) if "hands" in line]
    hands = topics[HANDS_TOPIC]
    assert len(hands) == len(frames)
    for (log_ns, msg), line in zip(hands, frames, strict=True):
        stamp = msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec
        assert stamp == line["stamp_ns"] and log_ns == input_log[stamp]
        assert msg.header.frame_id == "head_cam_optical"
        joints = [[p.x, p.y, p.z] for p in msg.hands[0].joints_3d]
        assert np.allclose(joints, line["hands"][0]["joints3d"], atol=1e-6)
    assert len(topics[MARKERS_TOPIC]) == len(topics[ANNOTATED_TOPIC]) == len(hands)
    for (log_ns, markers), (hands_log, _) in zip(topics[MARKERS_TOPIC], hands, strict=True):
        assert log_ns == hands_log and markers.markers[0].header.frame_id
    assert len(topics[LABELS_TOPIC]) == 1 and topics[LABELS_TOPIC][0][1].object_names
    assert len(topics[ACTION_TOPIC]) == FRAMES // 2 // 4
    copied = [raw for _, _, _, raw in read_raw(outputs / "out_bag", [IMAGE])]
    assert copied == [raw for _, _, _, raw in read_raw(bag, [IMAGE])]  # byte for byte
    everything = list(topics)
    assert sum(1 for _ in read_messages(outputs / "out_bag", everything)) == sum(
        map(len, topics.values())
    )  # htt_ros's own reader knows every type in it


def test_the_annotated_video_has_every_input_frame(inputs, outputs) -> None:
    capture = cv2.VideoCapture(str(outputs / "annotated.mp4"))
    assert capture.isOpened()
    frames = 0
    while capture.read()[0]:
        frames += 1
    assert frames == FRAMES
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(30.0, abs=0.01)
    _, _, first = next(read_messages(inputs[1], [IMAGE]))
    width, height = capture.get(cv2.CAP_PROP_FRAME_WIDTH), capture.get(cv2.CAP_PROP_FRAME_HEIGHT)
    assert (width, height) == (first.width, first.height)


def test_htt_replay_reads_its_output_bag_back(inputs, outputs, tmp_path: Path) -> None:
    """The copied camera and /annotated are two cameras: refused with the list, then chosen;
    the same frames through the same model give the same poses."""
    model, _ = inputs
    refused = replay(model, outputs / "out_bag", "--out", tmp_path / "refused")
    assert refused.returncode == 2 and "choose one with --image-topic" in refused.stderr
    assert IMAGE in refused.stderr and ANNOTATED_TOPIC in refused.stderr
    again = tmp_path / "again"
    done = replay(model, outputs / "out_bag", "--out", again, "--image-topic", IMAGE)
    assert done.returncode == 0, done.stderr
    first = [line for line in predictions(outputs) if "hands" in line]
    second = [json.loads(line) for line in (again / "predictions.jsonl").open()]
    second = [line for line in second if "hands" in line]
    assert [line["stamp_ns"] for line in second] == [line["stamp_ns"] for line in first]
    for a, b in zip(first, second, strict=True):
        assert np.allclose(a["hands"][0]["joints3d"], b["hands"][0]["joints3d"], atol=1e-5)


def test_a_video_gets_the_same_outputs(inputs, tmp_path: Path) -> None:
    """``htt-replay MODEL clip.mp4 --hfov 90``: predictions, an output bag and a video."""
    model, _ = inputs
    clip = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, SIZE)
    for rgb in camera_frames(FRAMES, SIZE):
        writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    writer.release()
    done = replay(
        model, clip, "--hfov", "90", "--out", tmp_path / "r", "--out-bag", tmp_path / "b",
        "--annotated-video", tmp_path / "v.mp4",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in (tmp_path / "r" / "predictions.jsonl").open()]
    stamps = [line["stamp_ns"] for line in lines if "hands" in line]
    assert len(stamps) == FRAMES // 2 and stamps == sorted(stamps)
    hands = [msg for _, _, msg in read_messages(tmp_path / "b", [HANDS_TOPIC])]
    assert [m.header.stamp.sec * 10**9 + m.header.stamp.nanosec for m in hands] == stamps
    capture = cv2.VideoCapture(str(tmp_path / "v.mp4"))
    count = 0
    while capture.read()[0]:
        count += 1
    assert count == FRAMES


@pytest.mark.ros
def test_live_replay_writes_the_same_outputs(inputs, tmp_path: Path) -> None:
    """The node in its own process: its published poses go into predictions and the bag."""
    model, bag = inputs
    done = replay(
        model, bag, "--mode", "live", "--out", tmp_path / "r", "--out-bag", tmp_path / "b",
        "--node-param", "action_thread:=false",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    lines = [json.loads(line) for line in (tmp_path / "r" / "predictions.jsonl").open()]
    stamps = [line["stamp_ns"] for line in lines if "hands" in line]
    assert len(stamps) == report["poses"] > 0
    input_log = {}
    for _, log_ns, msg in read_messages(bag, [IMAGE]):
        input_log[msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec] = log_ns
    logged = [(log, msg) for _, log, msg in read_messages(tmp_path / "b", [HANDS_TOPIC])]
    assert [m.header.stamp.sec * 10**9 + m.header.stamp.nanosec for _, m in logged] == stamps
    assert all(log == input_log[stamp] for (log, _), stamp in zip(logged, stamps, strict=True))
    assert sum(1 for _ in read_raw(tmp_path / "b", [IMAGE])) == report["frames_sent"]


def test_no_copy_input_leaves_the_camera_out(inputs, tmp_path: Path) -> None:
    model, bag = inputs
    done = replay(
        model, bag, "--out", tmp_path / "r", "--out-bag", tmp_path / "b", "--no-copy-input"
    )
    assert done.returncode == 0, done.stderr
    with Reader(tmp_path / "b") as reader:
        topics = {c.topic for c in reader.connections}
    assert topics == {HANDS_TOPIC, ACTION_TOPIC, LABELS_TOPIC, MARKERS_TOPIC}


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--out-bag", "{bag}"], "already exists"),
        (["--annotated"], "--annotated needs --out-bag"),
        (["--no-copy-input"], "--no-copy-input needs --out-bag"),
        (["--out-bag", "{file}/b"], "is a file, not a folder"),
        (["--annotated-video", "{root}"], "is a folder"),
        (["--annotated-video", "{file}/v.mp4"], "is a file, not a folder"),
        (["--annotated-video", "{root}/v.avi"], "does not end in .mp4"),
    ],
)
def test_output_mistakes_are_refused_in_one_line(inputs, tmp_path, args, says) -> None:
    model, bag = inputs
    (tmp_path / "file").write_text("")
    paths = {"bag": bag, "file": tmp_path / "file", "root": tmp_path}
    done = replay(model, bag, "--out", tmp_path / "r", *(a.format(**paths) for a in args))
    lines = done.stderr.splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert lines[0].startswith("htt-replay: ") and says in lines[0] and ";" in lines[0]
