"""htt_node in its own process: parameters, validation at run time, diagnostics, Ctrl-C."""

import os
import signal
import subprocess
import sys
import time

import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue
from rcl_interfaces.srv import GetParameters, SetParameters
from rclpy.node import Node
from sensor_msgs.msg import Image

pytestmark = [pytest.mark.ros, pytest.mark.slow]


@pytest.fixture
def node_process(tmp_path):
    # An empty HTT_ROS_HOME: no built-in demo model, whatever other tests made.
    env = {**os.environ, "HTT_ROS_HOME": str(tmp_path)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "htt_ros.ros.htt_node",
            "--ros-args",
            "-r",
            "__node:=htt_test",
            "-p",
            "diagnostics_period_s:=0.5",
            "-p",
            "image_qos:=reliable",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    process.communicate(timeout=20)


def call(node: Node, client, request, timeout: float = 20.0):
    assert client.wait_for_service(timeout_sec=timeout), f"{client.srv_name} not available"
    future = client.call_async(request)
    rclpy.spin_until_future_complete(node, future, timeout_sec=timeout)
    assert future.done(), f"{client.srv_name} did not answer"
    return future.result()


def int_parameter(name: str, value: int) -> Parameter:
    return Parameter(
        name=name, value=ParameterValue(type=ParameterType.PARAMETER_INTEGER, integer_value=value)
    )


def test_parameters_are_declared_and_validated_at_run_time(node_process) -> None:
    with rclpy.init():
        probe = Node("param_probe")
        get = probe.create_client(GetParameters, "/htt_test/get_parameters")
        values = call(probe, get, GetParameters.Request(names=["backend", "action_stride"])).values
        assert (values[0].string_value, values[1].integer_value) == ("onnxruntime", 8)

        setter = probe.create_client(SetParameters, "/htt_test/set_parameters")
        results = call(
            probe,
            setter,
            SetParameters.Request(
                parameters=[
                    int_parameter("action_stride", 0),
                    int_parameter("action_stride", 4),
                    int_parameter("image_queue_depth", 3),
                    int_parameter("model_rate_hz", 15),
                ]
            ),
        ).results
        # rclpy checks the descriptor's range before the node's own validation.
        assert not results[0].successful and "action_stride out of range" in results[0].reason
        assert results[1].successful
        assert not results[2].successful and "read-only" in results[2].reason
        assert results[3].successful  # an integer for a float, as `ros2 param set` sends 15
        value = call(probe, get, GetParameters.Request(names=["model_rate_hz"])).values[0]
        assert (value.type, value.double_value) == (ParameterType.PARAMETER_DOUBLE, 15.0)


def test_node_without_a_model_says_so_and_keeps_serving(node_process) -> None:
    statuses: list[DiagnosticStatus] = []
    with rclpy.init():
        probe = Node("camera_probe")
        probe.create_subscription(
            DiagnosticArray,
            "/diagnostics",
            lambda m: statuses.extend(s for s in m.status if "htt_test" in s.name),
            10,
        )
        image_pub = probe.create_publisher(Image, "image", 10)
        image = Image(height=4, width=4, encoding="rgb8", step=12, data=bytes(48))

        deadline = time.monotonic() + 30.0
        while len(statuses) < 4 and time.monotonic() < deadline:
            image_pub.publish(image)
            rclpy.spin_once(probe, timeout_sec=0.05)
    assert statuses and statuses[-1].level == DiagnosticStatus.ERROR
    assert "no model folder" in statuses[-1].message and "model:=" in statuses[-1].message
    values = {kv.key: kv.value for kv in statuses[-1].values}
    # Configure failed: the node stays unconfigured, not subscribed, and keeps reporting.
    assert values["state"] == "unconfigured" and values["frames_received"] == "0"
    assert node_process.poll() is None


def test_invalid_start_parameter_is_reported() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "htt_ros.ros.htt_node", "--ros-args", "-p", "backend:=caffe"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "'backend' must be one of onnxruntime, tensorrt, torch, got 'caffe'" in (
        result.stdout + result.stderr
    )
