"""htt_node on cameras that are not the model's: other aspect ratios, a distorting lens, bad
CameraInfo, a compressed stream under a remapped topic. The node runs in its own process, a
camera process (fixtures/scene_camera.py) plays rendered hands into it over DDS, and the test
compares what comes out with what the original 480x270 camera gives.
"""

import subprocess
import sys
import threading
import time
from collections.abc import Sized
from pathlib import Path

import numpy as np
import pytest
import rclpy
from camera_scenes import Run, distort_points, in_canvas, original, through_lens
from model_folders import export_small_model
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node

from htt_ros.msg import HandPoses
from htt_ros.subprocesses import interrupt

pytestmark = [pytest.mark.ros, pytest.mark.slow]
FIXTURES = Path(__file__).parent / "fixtures"
START_S, PERIOD_NS = 1000, 1_000_000_000 // 15  # as fixtures/scene_camera.py sends
FRAMES = 8
# Undistorted lens frames vs the ideal rendering (two bilinear resamplings apart): measured
# 0.65 mm and 0.56 px at most.
LENS_3D_MM, LENS_2D_PX = 2.0, 1.5


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    return export_small_model(tmp_path_factory.mktemp("cameras_model") / "fpha", clip_length=16)


def save_scenes(path: Path, runs: list[Run], roi: dict[int, list[int]] | None = None) -> Path:
    arrays: dict[str, np.ndarray] = {"names": np.array([r.name for r in runs])}
    for i, run in enumerate(runs):
        arrays |= {f"frames_{i}": run.frames, f"k_{i}": run.k, f"d_{i}": np.array(run.d, float)}
        arrays[f"model_{i}"] = np.array(run.model)
    for i, box in (roi or {}).items():
        arrays[f"roi_{i}"] = np.array(box)
    np.savez(path, **arrays)
    return path


def play(model: Path, scenes: Path, params=(), remaps=(), camera=()) -> tuple[dict, str, str]:
    """Run the node and the camera; return the poses by (run, frame), the node's and the
    camera's output."""
    args = ["-p", f"model:={model}", "-p", "image_qos:=reliable", "-p", "image_queue_depth:=5"]
    args += ["-p", "model_rate_hz:=30.0"]
    for param in params:
        args += ["-p", param]
    for remap in remaps:
        args += ["-r", remap]
    node = subprocess.Popen(
        [sys.executable, "-m", "htt_ros.ros.htt_node", "--ros-args", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    poses: dict[tuple[int, int], HandPoses] = {}

    def record(msg: HandPoses) -> None:
        ns = (msg.header.stamp.sec - START_S) * 1_000_000_000 + msg.header.stamp.nanosec
        run = ns // (100 * 1_000_000_000)
        poses[run, round((ns - run * 100 * 1_000_000_000) / PERIOD_NS)] = msg

    try:
        with rclpy.init():
            recorder = Node("camera_test_recorder")
            recorder.create_subscription(HandPoses, "hands", record, 100)
            executor = SingleThreadedExecutor()
            executor.add_node(recorder)
            spinner = threading.Thread(target=executor.spin, daemon=True)
            spinner.start()
            deadline = time.monotonic() + 60  # the recorder sees the node's publisher first
            while not recorder.count_publishers("/hands") and time.monotonic() < deadline:
                time.sleep(0.05)
            played = subprocess.run(
                [sys.executable, str(FIXTURES / "scene_camera.py"), str(scenes), *camera],
                capture_output=True,
                text=True,
                timeout=400,
            )
            wait_for_last_poses(poses)
            executor.shutdown()
            spinner.join(5)
    finally:
        output = interrupt(node, timeout=30)
    assert node.returncode in (0, -2), output
    return poses, output, played.stdout + played.stderr


def wait_for_last_poses(poses: Sized, quiet_s: float = 1.0, timeout_s: float = 20.0) -> None:
    """The camera is done: wait until the node's last outputs have arrived in ``poses`` (nothing
    new for ``quiet_s``), so one still being inferred or in flight is not missed."""
    deadline = time.monotonic() + timeout_s
    count, changed = len(poses), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - changed < quiet_s:
        time.sleep(0.05)
        if len(poses) != count:
            count, changed = len(poses), time.monotonic()


def joints(msg: HandPoses) -> tuple[np.ndarray, np.ndarray]:
    hand = msg.hands[0]
    return (
        np.array([[p.x, p.y, p.z] for p in hand.joints_3d]),
        np.array([[p.x, p.y] for p in hand.joints_2d]),
    )


def test_other_aspect_ratios_a_lens_and_bad_camera_info_give_the_same_hands(
    model: Path, tmp_path: Path
) -> None:
    ideal = original(FRAMES)
    bad_info = Run("bad camera_info", ideal.frames, ideal.k, [0.1] * 6, "fisheye62")
    runs = [ideal, *(in_canvas(ideal, c) for c in ("4:3", "21:9", "1:1"))]
    runs += [through_lens(ideal, "plumb_bob"), bad_info]
    scenes = save_scenes(tmp_path / "scenes.npz", runs, roi={5: [400, 0, 200, 100]})
    # The ideal camera's sixth camera_info never comes: that frame waits for it, then goes on
    # with the previous one (the same camera here, so the same hands) and says so once.
    camera = ["--frame-id", "camera_link", "--skip-info", "0", "5"]
    poses, log, camera = play(model, scenes, camera=camera)
    assert "lost" not in camera and len(poses) == len(runs) * FRAMES, (camera, log)
    for (run, frame), msg in poses.items():
        assert (msg.image_width, msg.image_height) == runs[run].frames.shape[2:0:-1]
        assert msg.header.frame_id == "camera_link"
        ref3d, ref2d = joints(poses[0, frame])
        got3d, got2d = joints(msg)
        if run in (1, 2, 3):  # canvases: same 3D joints, 2D shifted by the frame's offset
            assert np.abs(got3d - ref3d).max() * 1000 < 1.0, (runs[run].name, frame)
            assert np.abs(got2d - (ref2d + runs[run].offset)).max() < 0.5, runs[run].name
        elif run == 4:  # the lens: undistorted, and the 2D joints back in the raw image
            lens = runs[4]
            raw2d = distort_points(ref2d, lens.k, lens.d, lens.model)
            error = np.abs(got3d - ref3d).max() * 1000, np.abs(got2d - raw2d).max()
            assert error[0] < LENS_3D_MM and error[1] < LENS_2D_PX, (frame, error)
        elif run == 5:  # distortion it cannot undo and an ROI outside: reported, K used
            assert np.abs(got3d - ref3d).max() < 1e-5 and np.abs(got2d - ref2d).max() < 1e-3
    assert log.count("rectification auto chose 'raw' because it has plumb_bob") == 1, log
    assert log.count("cannot undo distortion model 'fisheye62'") == 1, log
    assert log.count("region of interest 200x100 at (400, 0) lies outside") == 1, log
    assert log.count("frame id 'camera_link' is not an optical frame") == 1, log
    assert log.count("no camera_info stamped as a frame of /image came within 4 s") == 1, log


def test_compressed_stream_follows_the_image_remap_and_frame_id_overrides(
    model: Path, tmp_path: Path
) -> None:
    ideal = original(FRAMES)
    scenes = save_scenes(tmp_path / "scenes.npz", [ideal, in_canvas(ideal, "4:3")])
    poses, log, camera = play(
        model,
        scenes,
        params=["image_transport:=compressed", "frame_id:=left_camera_optical_frame"],
        remaps=["image:=/cam/left/image_raw"],
        camera=["--compressed", "--image-topic", "/cam/left/image_raw", "--frame-id", ""],
    )
    assert "listening on /cam/left/image_raw/compressed" in log, log
    assert "lost" not in camera and len(poses) == 2 * FRAMES, (camera, log)
    assert {msg.header.frame_id for msg in poses.values()} == {"left_camera_optical_frame"}
    assert "frame id" not in log
    for frame in range(FRAMES):
        ref3d, ref2d = joints(poses[0, frame])
        got3d, got2d = joints(poses[1, frame])
        assert np.abs(got3d - ref3d).max() * 1000 < 1.0
        assert np.abs(got2d - ref2d - [0, 45]).max() < 0.5


def test_segment_bursts_draw_every_pose_and_shutdown_clears_them(model: Path) -> None:
    from visualization_msgs.msg import Marker, MarkerArray

    params = [f"model:={model}", "image_qos:=reliable", "image_queue_depth:=5", "mode:=segment"]
    params += ["max_gap_s:=10.0"]  # a camera stalling on a busy machine must not cut a segment
    node = subprocess.Popen(
        [sys.executable, "-m", "htt_ros.ros.htt_node", "--ros-args"]
        + [arg for param in params for arg in ("-p", param)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    arrays: list[MarkerArray] = []
    try:
        with rclpy.init():
            recorder = Node("marker_recorder")
            recorder.create_subscription(MarkerArray, "markers", arrays.append, 50)
            executor = SingleThreadedExecutor()
            executor.add_node(recorder)
            spinner = threading.Thread(target=executor.spin, daemon=True)
            spinner.start()
            deadline = time.monotonic() + 60  # the recorder sees the node's publisher first
            while not recorder.count_publishers("/markers") and time.monotonic() < deadline:
                time.sleep(0.05)
            camera = [sys.executable, str(FIXTURES / "camera_publisher.py"), "normal", "30", "75"]
            subprocess.run(camera, capture_output=True, timeout=120)
            wait_for_last_poses(arrays)  # marker bursts, one per segment
            output = interrupt(node, timeout=30)
            assert "DELETEALL was not acknowledged" not in output, output  # before it exited
            deadline = time.monotonic() + 5
            while not any(m.action == Marker.DELETEALL for a in arrays for m in a.markers):
                assert time.monotonic() < deadline, ("no DELETEALL at shutdown", output)
                time.sleep(0.1)
            executor.shutdown()
            spinner.join(5)
    finally:
        interrupt(node, timeout=30)
    bursts = [a for a in arrays if a.markers[0].action == Marker.ADD]
    assert bursts, output
    for burst in bursts:  # 16 poses per segment, each its own joints, bones and caption
        keys = {(m.ns, m.id) for m in burst.markers}
        assert len(keys) == len(burst.markers) == 16 * 3, output
        stamps = {(m.header.stamp.sec, m.header.stamp.nanosec) for m in burst.markers}
        assert len(stamps) == 16
    assert arrays[-1].markers[0].action == Marker.DELETEALL
