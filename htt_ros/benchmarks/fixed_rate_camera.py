"""The node benchmark's camera, a process of its own, publishing as a camera driver does.

    python -m htt_ros.benchmarks.fixed_rate_camera RATE_HZ SECONDS STAMPS_NPY \
        [--size W H] [--layout fpha|h2o] [--qos sensor_data|reliable] [--ros-args ...]

Publishes ``image`` (rgb8) and ``camera_info`` (sensor-data QoS, or reliable) at a fixed rate on
an absolute schedule (a late frame does not shift the ones after it), each stamped with the clock
when it is published. It starts once something subscribes to ``image`` (the node, once active),
runs for SECONDS and then writes the stamps it sent (int64 nanoseconds) to STAMPS_NPY. The frames
are a short loop of rendered synthetic hands, turned into messages once, so the camera costs
little CPU next to the node it feeds.
"""

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import rclpy
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from htt_ros.data.synthetic import generate_sequence
from htt_ros.geometry import scale_intrinsics
from htt_ros.ros.image_messages import camera_info_msg, rgb_to_image_msg

LOOP_FRAMES = 16
SUBSCRIBER_TIMEOUT_S = 120.0
FRAME_ID = "bench_camera_optical_frame"
QOS = {
    "sensor_data": qos_profile_sensor_data,  # best effort, as most camera drivers publish
    "reliable": QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE),
}


def messages(layout: str, size: tuple[int, int]) -> tuple[list[Image], CameraInfo]:
    """The looped frames as Image messages at ``size`` (W, H) and their CameraInfo."""
    sequence = generate_sequence(layout, 0, LOOP_FRAMES, seed=0)
    header = Header(frame_id=FRAME_ID)
    images = [rgb_to_image_msg(cv2.resize(rgb, size), header) for rgb in sequence.images]
    height, width = sequence.images[0].shape[:2]
    k = scale_intrinsics(sequence.intrinsics, (width, height), size)
    return images, camera_info_msg(k, size[0], size[1], header)


def publish(node: Node, rate_hz: float, seconds: float, layout: str, size, qos) -> list[int]:
    images, info = messages(layout, size)
    image_pub = node.create_publisher(Image, "image", qos)
    info_pub = node.create_publisher(CameraInfo, "camera_info", qos)
    deadline = time.monotonic() + SUBSCRIBER_TIMEOUT_S
    while image_pub.get_subscription_count() == 0:
        if time.monotonic() > deadline:
            sys.exit(f"fixed_rate_camera: nobody subscribed to {image_pub.topic_name}")
        time.sleep(0.05)
    stamps = []
    start = time.monotonic()
    for i in range(max(1, round(rate_hz * seconds))):
        delay = start + i / rate_hz - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        stamp = node.get_clock().now()
        image = images[i % len(images)]
        image.header.stamp = info.header.stamp = stamp.to_msg()
        info_pub.publish(info)
        image_pub.publish(image)
        stamps.append(stamp.nanoseconds)
    return stamps


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ros_args = argv[argv.index("--ros-args") :] if "--ros-args" in argv else []
    parser = argparse.ArgumentParser(prog="fixed_rate_camera", description=__doc__)
    parser.add_argument("rate_hz", type=float)
    parser.add_argument("seconds", type=float)
    parser.add_argument("stamps", type=Path)
    parser.add_argument("--size", type=int, nargs=2, default=(1280, 720), metavar=("W", "H"))
    parser.add_argument("--layout", choices=("fpha", "h2o"), default="fpha")
    parser.add_argument("--qos", choices=tuple(QOS), default="sensor_data")
    args = parser.parse_args(argv[: len(argv) - len(ros_args)])
    with rclpy.init(args=["camera", *ros_args]):
        node = Node("bench_camera")
        qos = QOS[args.qos]
        stamps = publish(node, args.rate_hz, args.seconds, args.layout, tuple(args.size), qos)
        time.sleep(0.5)  # let the last frames leave before the participant goes
    np.save(args.stamps, np.array(stamps, np.int64))
    return 0


if __name__ == "__main__":
    sys.exit(main())
