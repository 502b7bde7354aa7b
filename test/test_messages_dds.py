"""Every htt_ros message crosses DDS between two processes with all of its content intact."""

import subprocess
import sys
import time
from pathlib import Path

import pytest
import rclpy
from message_samples import differences, samples
from rclpy.node import Node

from htt_ros.ros.qos import latched_qos

pytestmark = pytest.mark.ros
FIXTURES = Path(__file__).parent / "fixtures"


def test_every_message_round_trips_between_processes() -> None:
    expected = samples()
    publisher = subprocess.Popen([sys.executable, str(FIXTURES / "publish_messages.py")])
    received: dict[str, object] = {}
    try:
        with rclpy.init():
            node = Node("sample_checker")
            for name, msg in expected.items():
                node.create_subscription(
                    type(msg),
                    f"sample/{name}",
                    lambda m, name=name: received.setdefault(name, m),
                    latched_qos(),
                )
            deadline = time.monotonic() + 30.0
            while len(received) < len(expected) and time.monotonic() < deadline:
                assert publisher.poll() is None, "publisher process died"
                rclpy.spin_once(node, timeout_sec=0.1)
    finally:
        publisher.terminate()
        publisher.wait(timeout=10)

    assert sorted(received) == sorted(expected), f"missing: {set(expected) - set(received)}"
    for name, msg in expected.items():
        assert differences(msg, received[name], name) == []


def test_comparison_reports_a_changed_field() -> None:
    """The checker above would notice a corrupted field."""
    original = samples()["HandPoses"]
    changed = samples()["HandPoses"]
    changed.hands[1].joints_2d[20].y += 0.5
    assert differences(original, changed, "HandPoses") == [
        f"HandPoses.hands[1].joints_2d[20].y: {changed.hands[1].joints_2d[20].y!r} != "
        f"{original.hands[1].joints_2d[20].y!r}"
    ]
