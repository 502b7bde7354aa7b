"""No pose waits for A: the node runs the action transformer on its own thread.

The pipeline's hand-over gives the same actions as the inline path (offline replay relies on
them), and through the real node a pose is published while a slow A of its step still runs,
which inline A (``action_thread:=false``) never does.
"""

import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import rclpy
from model_folders import camera_frames, export_small_model
from test_node_pipeline import FIXTURES, Recorder, run_camera

from htt_ros.engines.loader import load_model
from htt_ros.msg import Action, HandPoses
from htt_ros.streaming.pipeline import StreamingConfig, StreamingPipeline
from htt_ros.subprocesses import interrupt

pytestmark = pytest.mark.slow
K = np.array([[112.0, 0, 112], [0, 112, 64], [0, 0, 1]])


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    return export_small_model(tmp_path_factory.mktemp("action_thread") / "fpha", clip_length=32)


def replay(model: Path, submit=None) -> tuple[list, list]:
    """Poses and actions of a stream with a reset (time going backwards) half-way."""
    loaded = load_model(model)
    config = StreamingConfig(action_stride=3, action_smoothing=2, rate_hz=0.0)
    pipeline = StreamingPipeline(loaded.card, loaded.pose_step, loaded.action, config, submit)
    poses, actions = [], []
    stamps = [(i + 1) * 10**8 for i in range(20)] + [(i + 1) * 10**8 for i in range(14)]
    for rgb, stamp in zip(camera_frames(len(stamps), (224, 128), seed=2), stamps, strict=True):
        out = pipeline.push(rgb, stamp, K)
        poses += out.poses
        actions += out.actions
    return poses, actions


def test_the_action_thread_gives_the_inline_actions(model: Path) -> None:
    inline_poses, inline_actions = replay(model)
    runs: queue.Queue = queue.Queue()
    threaded: list = []

    def action_thread() -> None:  # runs A while the pipeline goes on with the next frames
        while (run := runs.get()) is not None:
            threaded.append(run())

    thread = threading.Thread(target=action_thread)
    thread.start()
    poses, actions = replay(model, submit=runs.put)
    runs.put(None)
    thread.join(60)
    assert actions == [] and len(threaded) == len(inline_actions) >= 8
    for got, want in zip(threaded, inline_actions, strict=True):
        assert (got.newest, got.first, got.window_frames) == (
            want.newest,
            want.first,
            want.window_frames,
        )
        np.testing.assert_array_equal(got.probs, want.probs)
        np.testing.assert_array_equal(got.smoothed, want.smoothed)
    assert [p.frame for p in poses] == [p.frame for p in inline_poses]


class ArrivalRecorder(Recorder):
    """Also keeps the order in which poses and actions arrive, with their stamps."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[tuple[str, int]] = []
        self.create_subscription(HandPoses, "hands", lambda m: self.arrive("pose", m), 100)
        self.create_subscription(Action, "action", lambda m: self.arrive("action", m), 100)

    def arrive(self, kind: str, msg) -> None:
        self.arrivals.append((kind, msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec))


@pytest.mark.ros
@pytest.mark.timeout(300)
@pytest.mark.parametrize("action_thread", [True, False])
def test_a_pose_is_published_while_a_of_its_step_runs(model: Path, action_thread: bool) -> None:
    # A takes at least 2 s a run: inline, the pose of the frame that triggers it waits for it.
    params = [f"model:={model}", "image_qos:=reliable", "action_stride:=4"]
    params += ["diagnostics_period_s:=0.5", f"action_thread:={action_thread}"]
    node = subprocess.Popen(
        [sys.executable, str(FIXTURES / "slow_node.py"), "--ros-args"]
        + [arg for param in params for arg in ("-p", param)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=os.environ | {"HTT_TEST_POSE_STEP_S": "0", "HTT_TEST_ACTION_S": "2.0"},
    )
    try:
        with rclpy.init():
            recorder = ArrivalRecorder()
            run_camera(recorder, "normal", 30.0, 60, node)
    finally:
        output = interrupt(node, timeout=30)
    kinds = [kind for kind, _ in recorder.arrivals]
    assert "action" in kinds, output
    first_action = kinds.index("action")
    action_stamp = recorder.arrivals[first_action][1]
    # Poses of frames after the action's newest one that arrived before the action did.
    ahead = [s for kind, s in recorder.arrivals[:first_action] if s > action_stamp]
    if action_thread:
        assert ahead, recorder.arrivals
    else:
        assert ahead == [], recorder.arrivals
