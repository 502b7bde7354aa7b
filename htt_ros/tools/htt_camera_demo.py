"""``htt-camera-demo``: the node on a live synthetic egocentric camera, no hardware needed.

Starts two processes, ``synthetic_camera`` and ``htt_node``, wired over DDS as on a robot,
prints once a second what the node publishes and reports, and stops them after ``--seconds``.
The model is the built-in default one (made by the demo, ``scripts/demo.sh``) or ``--model``.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.node import Node

from htt_ros.demo_model import default_model_dir
from htt_ros.errors import UserError
from htt_ros.model_card import ModelCard
from htt_ros.msg import Action, HandPoses
from htt_ros.subprocesses import interrupt
from htt_ros.tools.cli import positive_float, refuses_in_one_line


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="htt-camera-demo", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds", type=positive_float, default=20.0, help="how long to run (20)"
    )
    parser.add_argument("--model", default="", help="model folder (default: the demo model)")
    parser.add_argument("--rate", type=positive_float, default=30.0, help="camera rate, Hz (30)")
    return parser


def start(module: str, *ros_args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", module, "--ros-args", *ros_args])


class Listener(Node):
    """Keeps the latest of what the node publishes and counts it."""

    def __init__(self) -> None:
        super().__init__("htt_demo")
        self.hands: list[HandPoses] = []
        self.actions: list[Action] = []
        self.status: DiagnosticArray | None = None
        self.create_subscription(HandPoses, "/htt/hands", self.hands.append, 10)
        self.create_subscription(Action, "/htt/action", self.actions.append, 10)
        self.create_subscription(DiagnosticArray, "/diagnostics", self.on_status, 10)

    def on_status(self, msg: DiagnosticArray) -> None:
        if any(s.name.startswith("/htt/htt_node") for s in msg.status):
            self.status = msg

    def line(self) -> str:
        parts = []
        if self.status is not None:
            status = self.status.status[0]
            values = {kv.key: kv.value for kv in status.values}
            parts.append(
                f"{status.message}: in {values['input_rate_hz']} Hz, out "
                f"{values['output_rate_hz']} Hz, stamp age {values['stamp_age_ms_median']} ms, "
                f"dropped {values['frames_dropped_busy']}"
            )
        if self.hands:
            hands = self.hands[-1]
            wrist = hands.hands[-1].joints_3d[0]
            parts.append(
                f"{len(self.hands)} poses, right wrist ({wrist.x:+.2f}, {wrist.y:+.2f}, "
                f"{wrist.z:.2f}) m, object {hands.object.name} {hands.object.confidence:.2f}"
            )
        if self.actions:
            parts.append(f"action '{self.actions[-1].label}' {self.actions[-1].confidence:.2f}")
        return " | ".join(parts) or "waiting for the node"


@refuses_in_one_line
def main(argv: list[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    model = args.model or str(default_model_dir())
    if not args.model and not Path(model, "model.json").is_file():
        raise UserError(
            f"no demo model at {model}; run scripts/demo.sh once (it trains and exports the "
            f"demo model there) or pass --model"
        )
    ModelCard.load(Path(model))  # a wrong folder is refused here, not by the node's log
    print(f"model: {model}", flush=True)
    camera = start(
        "htt_ros.ros.synthetic_camera", "-r", "__ns:=/camera", "-p", f"rate_hz:={args.rate}"
    )
    node = start(
        "htt_ros.ros.htt_node",
        "-r",
        "__ns:=/htt",
        "-r",
        "image:=/camera/image",
        "-r",
        "camera_info:=/camera/camera_info",
        "-p",
        f"model:={model}",
    )
    listener = None
    try:
        with rclpy.init():
            listener = Listener()
            end = time.monotonic() + args.seconds
            next_print = time.monotonic() + 1.0
            while time.monotonic() < end and camera.poll() is None and node.poll() is None:
                rclpy.spin_once(listener, timeout_sec=0.1)
                if time.monotonic() >= next_print:
                    next_print += 1.0
                    print(listener.line(), flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        for process in (node, camera):
            interrupt(process, timeout=15)
        codes = node.returncode, camera.returncode
    poses = len(listener.hands) if listener else 0
    actions = len(listener.actions) if listener else 0
    print(
        f"demo finished: {poses} hand poses and {actions} actions received "
        f"(exit codes node={codes[0]}, camera={codes[1]})"
    )
    return 0 if poses > 0 and codes == (0, 0) else 1


if __name__ == "__main__":
    sys.exit(main())
