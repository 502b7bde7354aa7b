"""htt_node as a managed node, driven over DDS from another process through its lifecycle
services, as Nav2's lifecycle_manager or launch_ros' lifecycle events would drive it.

Outputs come only while active; a model that fails to load is fixed without a restart; a backend
whose library does not import leaves the node serving parameters and diagnostics.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from lifecycle_msgs.msg import State, Transition
from lifecycle_msgs.srv import ChangeState, GetState
from model_folders import export_small_model
from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue
from rcl_interfaces.srv import GetParameters, SetParameters
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from htt_ros.msg import HandPoses
from htt_ros.ros.image_messages import camera_info_msg, rgb_to_image_msg
from htt_ros.subprocesses import interrupt

pytestmark = [pytest.mark.ros, pytest.mark.slow]
NODE = "/htt_lc"
K = np.array([[160.0, 0.0, 112.0], [0.0, 160.0, 64.0], [0.0, 0.0, 1.0]])
RGB = np.full((128, 224, 3), 90, np.uint8)


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    return export_small_model(tmp_path_factory.mktemp("lifecycle_model") / "fpha")


def start_node(*params: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    args = ["-r", f"__node:={NODE[1:]}", "-p", "diagnostics_period_s:=0.5"]
    for param in params:
        args += ["-p", param]
    return subprocess.Popen(
        [sys.executable, "-m", "htt_ros.ros.htt_node", "--ros-args", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


class Manager(Node):
    """A lifecycle manager and camera in one: calls the services, feeds frames, records."""

    def __init__(self, node_process: subprocess.Popen) -> None:
        super().__init__("test_manager")
        self.process = node_process
        self.hands: list[HandPoses] = []
        self.status: list = []
        self.create_subscription(HandPoses, "hands", self.hands.append, 100)
        self.create_subscription(DiagnosticArray, "/diagnostics", self._on_status, 10)
        qos = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)
        self.image_pub = self.create_publisher(Image, "image", qos)
        self.info_pub = self.create_publisher(CameraInfo, "camera_info", qos)
        self.get_state_client = self.create_client(GetState, f"{NODE}/get_state")
        self.change_state_client = self.create_client(ChangeState, f"{NODE}/change_state")
        self.get_client = self.create_client(GetParameters, f"{NODE}/get_parameters")
        self.set_client = self.create_client(SetParameters, f"{NODE}/set_parameters")

    def _on_status(self, msg: DiagnosticArray) -> None:
        self.status += [s for s in msg.status if s.name.startswith(NODE)]

    def call(self, client, request, timeout: float = 60.0):
        assert client.wait_for_service(timeout_sec=timeout), f"{client.srv_name} not available"
        future = client.call_async(request)
        deadline = time.monotonic() + timeout
        while not future.done() and time.monotonic() < deadline:
            self.spin_and_feed(0.05)
        assert future.done(), f"{client.srv_name} did not answer"
        return future.result()

    def spin_and_feed(self, duration: float) -> None:
        """Publish camera frames at about 20 Hz for ``duration`` seconds while spinning."""
        end = time.monotonic() + duration
        while True:
            header = Header(stamp=self.get_clock().now().to_msg(), frame_id="cam")
            self.info_pub.publish(camera_info_msg(K, 224, 128, header))
            self.image_pub.publish(rgb_to_image_msg(RGB, header))
            rclpy.spin_once(self, timeout_sec=0.05)
            assert self.process.poll() is None, f"the node died:\n{interrupt(self.process)}"
            if time.monotonic() >= end:
                return

    def state(self) -> str:
        return self.call(self.get_state_client, GetState.Request()).current_state.label

    def change(self, transition: int) -> bool:
        request = ChangeState.Request(transition=Transition(id=transition))
        return self.call(self.change_state_client, request).success

    def wait_for(self, condition, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition() and time.monotonic() < deadline:
            self.spin_and_feed(0.1)
        assert condition(), (self.status[-1:], self.state())

    def values(self) -> dict[str, str]:
        status = self.status[-1]
        return {kv.key: kv.value for kv in status.values} | {"message": status.message}


def string_parameter(name: str, value: str) -> Parameter:
    return Parameter(
        name=name, value=ParameterValue(type=ParameterType.PARAMETER_STRING, string_value=value)
    )


@pytest.mark.timeout(300)
def test_outputs_only_while_active(model: Path) -> None:
    node = start_node(f"model:={model}", "autostart:=false")
    try:
        with rclpy.init():
            manager = Manager(node)
            assert manager.state() == "unconfigured"
            manager.wait_for(
                lambda: manager.status and "unconfigured" in manager.values()["state"]
            )
            assert manager.change(Transition.TRANSITION_CONFIGURE)
            assert manager.state() == "inactive"
            manager.spin_and_feed(2.0)
            assert not manager.hands, "published while inactive"
            assert manager.values()["state"] == "inactive"

            assert manager.change(Transition.TRANSITION_ACTIVATE)
            manager.wait_for(lambda: len(manager.hands) >= 5)
            manager.wait_for(lambda: manager.values()["state"] == "active")

            assert manager.change(Transition.TRANSITION_DEACTIVATE)
            manager.spin_and_feed(1.0)  # outputs already in flight
            count = len(manager.hands)
            manager.spin_and_feed(2.0)
            assert len(manager.hands) == count, "published while inactive"

            assert manager.change(Transition.TRANSITION_CLEANUP)
            assert manager.state() == "unconfigured"
            assert manager.change(Transition.TRANSITION_CONFIGURE)
            assert manager.change(Transition.TRANSITION_ACTIVATE)
            manager.wait_for(lambda: len(manager.hands) >= count + 5)
            assert State.PRIMARY_STATE_ACTIVE and manager.state() == "active"
    finally:
        output = interrupt(node, timeout=30)
    assert node.returncode == 0, output
    assert "Traceback" not in output, output


@pytest.mark.timeout(300)
def test_a_model_that_fails_to_load_is_fixed_without_a_restart(
    model: Path, tmp_path: Path
) -> None:
    node = start_node(f"model:={tmp_path / 'missing'}")  # autostart: configure fails
    try:
        with rclpy.init():
            manager = Manager(node)
            manager.wait_for(
                lambda: manager.status and "no model folder" in manager.values()["message"]
            )
            assert manager.state() == "unconfigured"
            result = manager.call(
                manager.set_client,
                SetParameters.Request(parameters=[string_parameter("model", str(model))]),
            ).results[0]
            assert result.successful, result.reason
            assert manager.change(Transition.TRANSITION_CONFIGURE)
            assert manager.change(Transition.TRANSITION_ACTIVATE)
            manager.wait_for(lambda: len(manager.hands) >= 3)
            # While a model is loaded, the parameters that choose it are refused with the fix.
            result = manager.call(
                manager.set_client,
                SetParameters.Request(parameters=[string_parameter("backend", "torch")]),
            ).results[0]
            assert not result.successful and "cleanup" in result.reason
    finally:
        output = interrupt(node, timeout=30)
    assert node.returncode == 0 and "Traceback" not in output, output


@pytest.mark.timeout(300)
def test_missing_onnxruntime_is_reported_and_the_node_keeps_serving(
    model: Path, tmp_path: Path
) -> None:
    fake = tmp_path / "site" / "onnxruntime"
    fake.mkdir(parents=True)
    # Slow to fail, like a large library: the load takes seconds, during which the node must
    # keep answering and say "loading".
    (fake / "__init__.py").write_text(
        "import time\ntime.sleep(8)\nraise ImportError('No module named onnxruntime')\n"
    )
    env = {**os.environ}
    env["PYTHONPATH"] = os.pathsep.join([str(fake.parent), env.get("PYTHONPATH", "")])
    node = start_node(f"model:={model}", env=env)
    try:
        with rclpy.init():
            manager = Manager(node)
            manager.wait_for(lambda: manager.status and manager.values()["state"] == "loading")
            answer = manager.call(manager.get_client, GetParameters.Request(names=["lag"]))
            assert answer.values[0].integer_value == 0
            assert manager.state() == "configuring"
            assert manager.values()["state"] == "loading"  # answered while the model loads
            manager.wait_for(
                lambda: manager.status and "onnxruntime" in manager.values()["message"]
            )
            message = manager.values()["message"]
            assert "pip install onnxruntime" in message, message
            assert manager.status[-1].level == manager.status[-1].ERROR
            answer = manager.call(manager.get_client, GetParameters.Request(names=["backend"]))
            assert answer.values[0].string_value == "onnxruntime"
            before = len(manager.status)
            manager.spin_and_feed(1.5)
            assert len(manager.status) > before  # diagnostics keep coming
    finally:
        output = interrupt(node, timeout=30)
    assert "pip install onnxruntime" in output and "Traceback" not in output, output
    assert node.returncode == 0
