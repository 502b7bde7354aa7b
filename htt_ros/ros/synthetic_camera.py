"""``synthetic_camera``: an egocentric camera made of synthetic hand sequences, for demos and
tests. Publishes ``image`` (rgb8) and ``camera_info`` at ``rate_hz``, stamped with the node's
clock, looping over pre-rendered sequences of the synthetic data set."""

import sys

import numpy as np
import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from htt_ros.data.synthetic import generate_sequence, synthetic_labels
from htt_ros.ros.image_messages import camera_info_msg, rgb_to_image_msg


class SyntheticCamera(Node):
    """Plays rendered synthetic sequences as a live camera."""

    def __init__(self) -> None:
        super().__init__("synthetic_camera")
        layout = self.declare_parameter("layout", "h2o").value
        rate_hz = self.declare_parameter("rate_hz", 30.0).value
        frames = self.declare_parameter("frames_per_sequence", 90).value
        sequences = self.declare_parameter("sequences", 3).value
        seed = self.declare_parameter("seed", 0).value
        self.frame_id = self.declare_parameter("frame_id", "camera_optical_frame").value

        labels = synthetic_labels(layout)
        rng = np.random.default_rng(seed)
        actions = rng.choice(len(labels.actions), size=sequences, replace=False)
        self.get_logger().info(
            f"rendering {sequences} {layout} sequences of {frames} frames: "
            f"{', '.join(labels.actions[a].name for a in actions)}"
        )
        clips = [
            generate_sequence(layout, int(a), frames, seed=[seed, i])
            for i, a in enumerate(actions)
        ]
        self.images = np.concatenate([clip.images for clip in clips])
        self.intrinsics = clips[0].intrinsics
        self.index = 0
        self.image_pub = self.create_publisher(Image, "image", qos_profile_sensor_data)
        self.info_pub = self.create_publisher(CameraInfo, "camera_info", qos_profile_sensor_data)
        self.timer = self.create_timer(1.0 / rate_hz, self.timer_callback)

    def timer_callback(self) -> None:
        header = Header(stamp=self.get_clock().now().to_msg(), frame_id=self.frame_id)
        rgb = self.images[self.index % len(self.images)]
        self.index += 1
        self.image_pub.publish(rgb_to_image_msg(rgb, header))
        height, width = rgb.shape[:2]
        self.info_pub.publish(camera_info_msg(self.intrinsics, width, height, header))


def main(args: list[str] | None = None) -> int:
    try:
        with rclpy.init(args=args):
            rclpy.spin(SyntheticCamera())
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
