"""``htt-demo``: the whole node on a synthetic egocentric camera, no hardware or data needed.

Starts two processes, ``synthetic_camera`` and ``htt_node``, wired over DDS as on a robot,
prints what the node reports once a second, and stops them after ``--seconds``.
"""

import argparse
import os
import signal
import subprocess
import sys
import time

import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.node import Node


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="how long to run (15)")
    parser.add_argument(
        "--layout",
        choices=("h2o", "fpha"),
        default="h2o",
        help="synthetic camera: two hands (h2o, default) or right hand (fpha)",
    )
    parser.add_argument("--rate", type=float, default=30.0, help="camera rate, Hz (30)")
    return parser


def start(module: str, *ros_args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", module, "--ros-args", *ros_args])


def stop(process: subprocess.Popen) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        return process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def main(argv: list[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    camera = start(
        "htt_ros.ros.synthetic_camera",
        "-r",
        "__ns:=/camera",
        "-p",
        f"layout:={args.layout}",
        "-p",
        f"rate_hz:={args.rate}",
    )
    node = start(
        "htt_ros.ros.htt_node",
        "-r",
        "image:=/camera/image",
        "-r",
        "camera_info:=/camera/camera_info",
    )
    latest: dict[str, DiagnosticArray] = {}
    try:
        with rclpy.init():
            listener = Node("htt_demo")
            listener.create_subscription(
                DiagnosticArray,
                "/diagnostics",
                lambda msg: latest.update({"status": msg}),
                10,
            )
            end = time.monotonic() + args.seconds
            next_print = time.monotonic() + 1.0
            while time.monotonic() < end and camera.poll() is None and node.poll() is None:
                rclpy.spin_once(listener, timeout_sec=0.1)
                if time.monotonic() >= next_print and "status" in latest:
                    next_print += 1.0
                    for status in latest["status"].status:
                        values = ", ".join(f"{kv.key}={kv.value}" for kv in status.values)
                        print(f"[{status.name}] {status.message}: {values}", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        codes = stop(node), stop(camera)
    status = latest.get("status")
    received = status is not None and any(
        kv.key == "frames_received" and int(kv.value) > 0 for s in status.status for kv in s.values
    )
    print(
        "demo finished:",
        "the node received the camera stream" if received else "the node reported no frames",
        f"(exit codes node={codes[0]}, camera={codes[1]})",
    )
    return 0 if received and codes == (0, 0) else 1


if __name__ == "__main__":
    sys.exit(main())
