"""htt_node started as a user starts it, with bad and odd values from the command line and from a
parameters file: it runs, or it stops with one line naming the parameter, value and fix, exit 2.
"""

import subprocess
import sys
import time
from pathlib import Path

import pytest
import rclpy
from model_folders import export_small_model
from rcl_interfaces.srv import DescribeParameters, GetParameters
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, ReliabilityPolicy

from htt_ros.subprocesses import interrupt

pytestmark = pytest.mark.ros


def run_node(*ros_args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "htt_ros.ros.htt_node", "--ros-args", *ros_args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_refused(result: subprocess.CompletedProcess, *expected: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if "invalid parameter" in line]
    assert len(lines) == 1, output
    for text in expected:
        assert text in lines[0], output
    assert "fix it in the parameters file or on the command line" in lines[0]


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("argument", "expected"),
    [
        ("mode:=bogus", "'mode' must be one of sliding, segment, got 'bogus'"),
        ("default_hfov_deg:=180", "'default_hfov_deg' must be <= 179.0, got 180.0"),
        ("lag:=1.5", "'lag' takes a int, got float 1.5"),
        ("threads:=-1", "'threads' must be >= 0, got -1"),
        ("backend:=caffe", "'backend' must be one of onnxruntime, tensorrt, torch"),
        ("publish_markers:=maybe", "'publish_markers' takes a bool, got str 'maybe'"),
        ("diagnostics_max_drop_ratio:=2", "'diagnostics_max_drop_ratio' must be <= 1.0"),
        ("precision:=fp16", "'precision' 'fp16': backend onnxruntime runs precision fp32, int8"),
    ],
)
def test_bad_command_line_values_stop_the_node_in_one_line(argument: str, expected: str) -> None:
    assert_refused(run_node("-p", argument), expected)


@pytest.mark.timeout(120)
def test_bad_value_in_a_parameters_file(tmp_path: Path) -> None:
    params = tmp_path / "robot.yaml"
    params.write_text("/**/htt_node:\n  ros__parameters:\n    camera_info_timeout_s: -2\n")
    assert_refused(run_node("--params-file", str(params)), "'camera_info_timeout_s' must be >= 0")


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["-p", "lag"], "Couldn't parse parameter override rule: '-p lag'"),
        (["--params-file", "missing.yaml"], "Couldn't parse params file"),
    ],
)
def test_malformed_ros_arguments(arguments: list[str], expected: str) -> None:
    result = run_node(*arguments)
    output = result.stdout + result.stderr
    assert result.returncode == 2 and "Traceback" not in output, output
    assert expected in output and "check the arguments after --ros-args" in output


@pytest.mark.timeout(120)
def test_bad_qos_override_in_a_parameters_file(tmp_path: Path) -> None:
    params = tmp_path / "robot.yaml"
    params.write_text(
        "/**:\n  ros__parameters:\n    qos_overrides:\n      /camera/image_raw:\n"
        "        subscription:\n          reliability: sometimes\n"
    )
    assert_refused(
        run_node("--params-file", str(params)),
        "QoS override 'qos_overrides./camera/image_raw.subscription.reliability' must be one of "
        "reliable, best_effort, system_default, best_available, got 'sometimes'",
    )


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_lag_beyond_the_models_window_stops_the_node(tmp_path: Path) -> None:
    model = export_small_model(tmp_path / "fpha")
    result = run_node("-p", f"model:={model}", "-p", "lag:=16")
    assert_refused(result, "'lag' must be below the model's pose window 16, got 16")


@pytest.mark.timeout(120)
def test_integers_for_floats_ranges_in_the_descriptors_and_qos_overrides(tmp_path: Path) -> None:
    params = tmp_path / "robot.yaml"
    params.write_text(
        "/**:\n  ros__parameters:\n    max_gap_s: 1\n    not_a_parameter: 3\n"
        "    qos_overrides:\n      /hands:\n        publisher:\n"
        "          reliability: best_effort\n          durability: transient_local\n"
    )
    node = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "htt_ros.ros.htt_node",
            "--ros-args",
            "-r",
            "__node:=htt_odd",
            "--params-file",
            str(params),
            "-p",
            "model_rate_hz:=15",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        with rclpy.init():
            probe = Node("odd_probe")
            get = probe.create_client(GetParameters, "/htt_odd/get_parameters")
            describe = probe.create_client(DescribeParameters, "/htt_odd/describe_parameters")
            values = call(probe, get, GetParameters.Request(names=["model_rate_hz", "max_gap_s"]))
            assert [v.double_value for v in values.values] == [15.0, 1.0]
            names = ["default_hfov_deg", "action_stride"]
            described = call(probe, describe, DescribeParameters.Request(names=names))
            hfov, stride = described.descriptors
            ranges = hfov.floating_point_range[0]
            assert (ranges.from_value, ranges.to_value) == (0.0, 179.0)
            assert stride.integer_range[0].from_value == 1
            # The parameters file's QoS override reaches DDS: the publisher as others see it.
            deadline = time.monotonic() + 20
            while not probe.get_publishers_info_by_topic("/hands"):
                assert time.monotonic() < deadline, "no publisher on /hands"
                rclpy.spin_once(probe, timeout_sec=0.1)
            qos = probe.get_publishers_info_by_topic("/hands")[0].qos_profile
            assert qos.durability == DurabilityPolicy.TRANSIENT_LOCAL
            assert qos.reliability == ReliabilityPolicy.BEST_EFFORT
            assert node.poll() is None
    finally:
        output = interrupt(node, timeout=30)
    assert "parameter 'not_a_parameter' is not one of htt_node's and is ignored" in output
    assert node.returncode == 0 and "Traceback" not in output, output


def call(node: Node, client, request, timeout: float = 30.0):
    assert client.wait_for_service(timeout_sec=timeout), f"{client.srv_name} not available"
    future = client.call_async(request)
    deadline = time.monotonic() + timeout
    while not future.done() and time.monotonic() < deadline:
        rclpy.spin_once(node, timeout_sec=0.1)
    assert future.done(), f"{client.srv_name} did not answer"
    return future.result()
