"""htt-replay on what users record: bags in the layouts rosbag2 writes (mcap and sqlite3, split
files, no metadata.yaml, one storage file alone, compressed images under a namespace, extra
topics, several cameras, no CameraInfo, no camera, nothing at all), a video and a folder of
images. Each runs the real command as its own process; the predictions of the layouts are
compared through the same offline replay the command runs."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from model_folders import camera_frames, export_small_model
from rcl_interfaces.msg import Log
from rclpy.serialization import serialize_message
from rosbags.rosbag2 import Writer
from std_msgs.msg import Header

from htt_ros.bags.bag_io import STORAGES, type_name, typestore
from htt_ros.bags.make_bag import compressed_msg, to_time
from htt_ros.bags.recording import open_recording
from htt_ros.bags.replay import run_offline
from htt_ros.engines.loader import load_model
from htt_ros.geometry import pinhole_intrinsics
from htt_ros.msg import Action, HandPoses
from htt_ros.ros.image_messages import camera_info_msg, rgb_to_image_msg
from htt_ros.streaming.pipeline import StreamingConfig

pytestmark = pytest.mark.slow
FRAMES, SIZE, FPS = 12, (224, 128), 30.0
START_NS, PERIOD_NS = 1_700_000_000 * 10**9, round(1e9 / FPS)
HFOV = 90.0
SERVICE_EVENT = "rcl_interfaces/srv/GetParameters_Event"  # not in the typestore: as recorded
CONFIG = StreamingConfig()


def camera_messages(image_topic: str, info_topic: str | None, compressed: bool = False):
    """``(topic, rclpy message, log_ns)`` of the test camera: images and one CameraInfo each."""
    k = pinhole_intrinsics(*SIZE, HFOV)
    for i, rgb in enumerate(camera_frames(FRAMES, SIZE)):
        t_ns = START_NS + i * PERIOD_NS
        header = Header(stamp=to_time(t_ns), frame_id="head_cam_optical")
        if info_topic is not None:
            yield info_topic, camera_info_msg(k, *SIZE, header), t_ns
        image = compressed_msg(rgb, header, 95) if compressed else rgb_to_image_msg(rgb, header)
        yield image_topic, image, t_ns


def write_bag(path: Path, messages, storage: str = "mcap", extras: bool = False) -> Path:
    """A rosbag2 folder as ``ros2 bag record`` leaves it; ``extras`` adds /rosout and a
    service event topic (whose type no typestore knows) before the camera messages."""
    with Writer(path, version=9, storage_plugin=STORAGES[storage]) as writer:
        if extras:
            event = writer.add_connection(
                "/talker/get_parameters/_service_event",
                SERVICE_EVENT,
                msgdef="uint8 stand_in",
                rihs01="RIHS01_" + "0" * 64,
            )
            writer.write(event, START_NS - 2, b"\x00\x01\x00\x00\x07")
            log = Log(stamp=to_time(START_NS - 1), level=20, name="camera", msg="started")
            messages = [("/rosout", log, START_NS - 1), *messages]
        connections = {}
        for topic, msg, t_ns in messages:
            if topic not in connections:
                connections[topic] = writer.add_connection(
                    topic, type_name(msg), typestore=typestore()
                )
            writer.write(connections[topic], t_ns, serialize_message(msg))
    return path


def split_bag(path: Path, messages, storage: str) -> Path:
    """A bag split in two files (``<name>_0``, ``<name>_1``) with one metadata.yaml, as
    rosbag2's ``--max-bag-size`` writes it."""
    messages = list(messages)
    half = len(messages) // 2
    parts = [write_bag(path.with_name(f"{path.name}_part{i}"), m, storage)
             for i, m in enumerate((messages[:half], messages[half:]))]  # fmt: skip
    path.mkdir()
    infos = []
    for i, part in enumerate(parts):
        info = yaml.safe_load((part / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
        (storage_file,) = info["relative_file_paths"]
        name = f"{path.name}_{i}{Path(storage_file).suffix}"
        shutil.move(part / storage_file, path / name)
        info["files"][0]["path"] = name
        infos.append(info)
    merged = infos[0]
    merged["relative_file_paths"] = [info["files"][0]["path"] for info in infos]
    merged["files"] = [info["files"][0] for info in infos]
    merged["message_count"] = sum(info["message_count"] for info in infos)
    end = (
        infos[1]["starting_time"]["nanoseconds_since_epoch"] + infos[1]["duration"]["nanoseconds"]
    )
    merged["duration"]["nanoseconds"] = end - merged["starting_time"]["nanoseconds_since_epoch"]
    for topic in merged["topics_with_message_count"]:
        name = topic["topic_metadata"]["name"]
        topic["message_count"] = sum(
            t["message_count"]
            for info in infos
            for t in info["topics_with_message_count"]
            if t["topic_metadata"]["name"] == name
        )
    yaml.safe_dump({"rosbag2_bagfile_information": merged}, (path / "metadata.yaml").open("w"))
    return path


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("inputs")


@pytest.fixture(scope="module")
def model_folder(root: Path) -> Path:
    return export_small_model(root / "fpha", clip_length=16)


@pytest.fixture(scope="module")
def model(model_folder: Path):
    return load_model(model_folder)


@pytest.fixture(scope="module")
def bags(root: Path) -> dict[str, Path]:
    """Every layout of the same camera, and the bags htt-replay refuses."""
    raw = ("/head_cam/image_raw", "/head_cam/camera_info")
    out = {
        "mcap": write_bag(root / "mcap", camera_messages(*raw), extras=True),
        "sqlite3": write_bag(root / "sqlite3", camera_messages(*raw), "sqlite3", extras=True),
        "split_mcap": split_bag(root / "split_mcap", camera_messages(*raw), "mcap"),
        "split_sqlite3": split_bag(root / "split_sqlite3", camera_messages(*raw), "sqlite3"),
        "compressed": write_bag(
            root / "compressed",
            camera_messages("/head_cam/image_raw/compressed", raw[1], compressed=True),
        ),
        "no_camera_info": write_bag(root / "no_info", camera_messages(raw[0], None)),
        "no_camera": write_bag(root / "no_camera", [], extras=True),
        "empty": write_bag(root / "empty", []),
    }
    out["no_metadata"] = shutil.copytree(out["split_mcap"], root / "no_metadata")
    (out["no_metadata"] / "metadata.yaml").unlink()
    out["mcap_file"] = next(out["mcap"].glob("*.mcap"))
    out["db3_file"] = next(out["sqlite3"].glob("*.db3"))
    left = camera_messages("/left/image_raw", "/left/camera_info")
    right = camera_messages("/right/image_raw/compressed", "/right/camera_info", True)
    both = [*left, *right]
    out["two_cameras"] = write_bag(root / "two_cameras", sorted(both, key=lambda m: m[2]))
    return out


def replay(model_folder: Path, path: Path, out: Path, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "htt_ros.tools.htt_replay", str(model_folder), str(path)]
    return subprocess.run(
        [*command, "--out", str(out), "--quiet", *args],
        capture_output=True,
        text=True,
        timeout=180,
    )


def replayed(proc: subprocess.CompletedProcess, out: Path) -> dict:
    """The report of a run that worked, without a cut-off warning or anything but progress."""
    assert proc.returncode == 0, proc.stderr
    assert all(" frames/s" in line for line in proc.stderr.splitlines()), proc.stderr
    return json.loads((out / "report.json").read_text())


def refused(proc: subprocess.CompletedProcess) -> str:
    lines = proc.stderr.splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith("htt-replay: ") and ";" in lines[0], lines[0]
    return lines[0]


class Collected:
    """An OutputSink that keeps what replay hands it."""

    def __init__(self) -> None:
        self.inputs: list[tuple[str, str, int]] = []
        self.poses: list[HandPoses] = []
        self.actions: list[Action] = []

    def input_message(self, topic: str, msgtype: str, log_ns: int, cdr: bytes) -> None:
        self.inputs.append((topic, msgtype, log_ns))

    def hands(self, msg: HandPoses) -> None:
        self.poses.append(msg)

    def action(self, msg: Action) -> None:
        self.actions.append(msg)


def poses_of(model, path: Path, **flags) -> tuple[np.ndarray, np.ndarray, Collected]:
    """3D and 2D joints of every pose, in frame order, from offline replay of ``path``."""
    sink = Collected()
    run = run_offline(model, open_recording(path, **flags), CONFIG, sink=sink)
    stamps = sorted(run.poses)
    joints3d = np.stack([run.poses[s].joints3d for s in stamps])
    joints2d = np.stack([run.poses[s].joints2d for s in stamps])
    return joints3d, joints2d, sink


@pytest.fixture(scope="module")
def reference(model, bags):
    return poses_of(model, bags["mcap"])


LAYOUTS = ["mcap", "sqlite3", "split_mcap", "split_sqlite3", "no_metadata", "mcap_file",
           "db3_file"]  # fmt: skip


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_bag_layout_replays_to_the_same_poses(
    model_folder, model, bags, reference, root, layout
) -> None:
    report = replayed(
        replay(model_folder, bags[layout], root / f"r_{layout}"), root / f"r_{layout}"
    )
    assert report["frames_sent"] == FRAMES and report["poses"] == len(reference[0]) > 0
    assert "action" not in report and "pose" not in report  # no labels: nothing scored
    joints3d, joints2d, _ = poses_of(model, bags[layout])
    assert np.array_equal(joints3d, reference[0]) and np.array_equal(joints2d, reference[1])


def test_the_sink_gets_the_input_and_the_outputs_as_the_node_builds_them(reference) -> None:
    _, joints2d, sink = reference
    topics = [(topic, kind) for topic, kind, _ in sink.inputs]
    assert topics == [("/head_cam/camera_info", "sensor_msgs/msg/CameraInfo"),
                      ("/head_cam/image_raw", "sensor_msgs/msg/Image")] * FRAMES  # fmt: skip
    logs = [log_ns for _, _, log_ns in sink.inputs]
    assert logs == sorted(logs)
    input_stamps = {START_NS + i * PERIOD_NS for i in range(FRAMES)}
    for msg, expected in zip(sink.poses, joints2d, strict=True):
        assert msg.header.frame_id == "head_cam_optical"
        assert msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec in input_stamps
        assert (msg.image_width, msg.image_height) == SIZE
        got = np.array([[p.x, p.y] for hand in msg.hands for p in hand.joints_2d])
        assert np.allclose(got, expected, atol=1e-3)  # the input image's pixels
    assert sink.actions and all(a.header.frame_id == "head_cam_optical" for a in sink.actions)


def test_a_run_without_ground_truth_keeps_counts_and_latencies_not_each_output(
    model, bags, reference
) -> None:
    """What htt-replay does without labels, so that memory does not grow with the recording:
    the sink still gets every output, the run only what the report needs."""
    sink = Collected()
    run = run_offline(model, open_recording(bags["mcap"]), CONFIG, sink=sink, keep_outputs=False)
    assert run.pose_count == len(run.latencies_ms) == len(sink.poses) == len(reference[0]) > 0
    assert len(sink.actions) == len(reference[2].actions) > 0
    assert not (run.poses or run.pose_available_ns or run.action_scores or run.action_available_ns)


def test_compressed_images_under_a_namespace_find_their_camera_info(
    model_folder, model, bags, reference, root
) -> None:
    out = root / "r_compressed"
    report = replayed(replay(model_folder, bags["compressed"], out), out)
    assert report["frames_sent"] == FRAMES and report["poses"] == len(reference[0])
    joints3d, _, _ = poses_of(model, bags["compressed"])
    mm = np.abs(joints3d - reference[0]).max() * 1000
    print(f"JPEG 95 against raw: 3D joints differ by up to {mm:.2f} mm")
    assert mm < 6.0  # measured: 1.5 mm (JPEG 95, random weights)


def test_two_cameras_are_listed_then_one_is_chosen(model_folder, bags, root) -> None:
    line = refused(replay(model_folder, bags["two_cameras"], root / "r_two"))
    assert "has 2 cameras: /left/image_raw (Image, 12), /right/image_raw/compressed " in line
    assert "--image-topic" in line
    out = root / "r_right"
    args = ("--image-topic", "/right/image_raw/compressed")
    assert replayed(replay(model_folder, bags["two_cameras"], out, *args), out)["poses"] > 0


def test_a_camera_without_camera_info_needs_the_intrinsics(
    model_folder, model, bags, reference, root
) -> None:
    line = refused(replay(model_folder, bags["no_camera_info"], root / "r_no_info"))
    assert "has no CameraInfo for /head_cam/image_raw (looked for /head_cam/camera_info" in line
    assert "--hfov DEG" in line and "--camera-info FILE.yaml" in line
    out = root / "r_hfov"
    assert replayed(replay(model_folder, bags["no_camera_info"], out, "--hfov", "90"), out)
    joints3d, _, _ = poses_of(model, bags["no_camera_info"], hfov_deg=HFOV)
    assert np.allclose(joints3d, reference[0], atol=1e-6)  # the bag's CameraInfo is 90 degrees


def test_a_calibration_file_gives_the_intrinsics(model, bags, reference, root) -> None:
    k = pinhole_intrinsics(*SIZE, HFOV)
    matrix = {"rows": 3, "cols": 3}
    calibration = root / "head_cam.yaml"
    fields = {
        "image_width": SIZE[0],
        "image_height": SIZE[1],
        "camera_name": "head_cam",
        "camera_matrix": matrix | {"data": k.ravel().tolist()},
        "distortion_model": "plumb_bob",
        "distortion_coefficients": {"rows": 1, "cols": 5, "data": [0.0] * 5},
        "rectification_matrix": matrix | {"data": np.eye(3).ravel().tolist()},
        "projection_matrix": {
            "rows": 3,
            "cols": 4,
            "data": np.c_[k, np.zeros(3)].ravel().tolist(),
        },
    }
    calibration.write_text(yaml.safe_dump(fields))
    joints3d, _, _ = poses_of(model, bags["no_camera_info"], camera_info_file=calibration)
    assert np.allclose(joints3d, reference[0], atol=1e-6)


@pytest.mark.parametrize(
    ("bag", "says"),
    [
        ("no_camera", "has no camera topic (sensor_msgs/msg/Image or sensor_msgs/msg/"
         "CompressedImage); its topics are: /rosout (rcl_interfaces/msg/Log, 1), "
         f"/talker/get_parameters/_service_event ({SERVICE_EVENT}, 1)"),
        ("empty", "holds no messages (an empty bag)"),
    ],
)  # fmt: skip
def test_a_bag_without_a_camera_is_refused_with_its_topics(model_folder, bags, root, bag, says):
    assert says in refused(replay(model_folder, bags[bag], root / f"r_{bag}"))


def write_video(path: Path) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, SIZE)
    for rgb in camera_frames(FRAMES, SIZE):
        writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def test_a_video_predicts_what_the_bag_of_its_frames_does(
    model_folder, model, reference, root
) -> None:
    video = write_video(root / "clip.mp4")
    assert "--hfov DEG" in refused(replay(model_folder, video, root / "r_video_no_hfov"))
    out = root / "r_video"
    report = replayed(replay(model_folder, video, out, "--hfov", "90"), out)
    assert report["frames_sent"] == FRAMES and report["poses"] == len(reference[0])
    joints3d, joints2d, sink = poses_of(model, video, hfov_deg=HFOV)
    stamps = [log_ns for topic, _, log_ns in sink.inputs if topic == "/camera/image_raw"]
    assert stamps == [round(i * 1e9 / FPS) for i in range(FRAMES)]  # the container's times
    decoded = [cv2.cvtColor(f, cv2.COLOR_BGR2RGB) for f in _video_frames(video)]
    codec = np.abs(np.stack(decoded).astype(int) - camera_frames(FRAMES, SIZE)).mean()
    mm = np.abs(joints3d - reference[0]).max() * 1000
    px = np.abs(joints2d - reference[1]).max()
    print(
        f"mp4v: pixels differ by {codec:.2f} on average; joints by up to {mm:.2f} mm, {px:.2f} px"
    )
    assert mm < 4.0 and px < 1.0  # measured: 0.8 mm and 0.23 px (random weights, 224x128)


def _video_frames(path: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    while (frame := capture.read())[0]:
        frames.append(frame[1])
    return frames


def test_a_folder_of_images_predicts_what_the_bag_of_them_does(
    model_folder, model, reference, root
) -> None:
    folder = root / "frames"
    folder.mkdir()
    for i, rgb in enumerate(camera_frames(FRAMES, SIZE)):
        cv2.imwrite(str(folder / f"frame_{i}.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert "--fps" in refused(
        replay(model_folder, folder, root / "r_frames_no_fps", "--hfov", "90")
    )
    out = root / "r_frames"
    report = replayed(replay(model_folder, folder, out, "--hfov", "90", "--fps", "30"), out)
    assert report["frames_sent"] == FRAMES
    joints3d, joints2d, _ = poses_of(model, folder, hfov_deg=HFOV, fps=FPS)
    assert np.array_equal(joints3d, reference[0]) and np.array_equal(joints2d, reference[1])


@pytest.mark.ros
@pytest.mark.timeout(300)
def test_live_replay_subscribes_the_discovered_topics_and_feeds_the_sink(
    model_folder, bags
) -> None:
    """The node is remapped to the bag's own namespace (compressed stream, sibling info)."""
    from htt_ros.bags.live import run_live

    sink = Collected()
    run = run_live(model_folder, open_recording(bags["compressed"]), 45, 1.0, [], sink)
    assert run.frames_sent == FRAMES and run.poses, run.details
    assert [topic for topic, _, _ in sink.inputs] == [
        "/head_cam/camera_info",
        "/head_cam/image_raw/compressed",
    ] * FRAMES
    assert len(sink.poses) == len(run.poses)
    assert all(msg.header.frame_id == "head_cam_optical" for msg in sink.poses)


@pytest.mark.ros
@pytest.mark.timeout(300)
def test_a_video_replays_live(model_folder, root) -> None:
    video = root / "clip.mp4"
    if not video.exists():
        write_video(video)
    out = root / "r_video_live"
    report = replayed(replay(model_folder, video, out, "--hfov", "90", "--mode", "live"), out)
    assert report["mode"] == "live" and report["frames_sent"] == FRAMES and report["poses"] > 0
