"""``htt_node``: the rclpy node that turns a camera stream into hands, objects and actions.

Subscribes: ``image`` (sensor_msgs/Image) or ``image/compressed`` (sensor_msgs/CompressedImage),
and ``camera_info``. Publishes: ``/diagnostics`` (input rates and health). Parameters: see
htt_ros.parameters and the README.
"""

import sys
import time

import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rcl_interfaces.msg import ParameterDescriptor, SetParametersResult
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import CameraInfo, CompressedImage, Image

from htt_ros.parameters import PARAMETERS, validate
from htt_ros.ros.qos import input_qos


class InvalidParameterError(ValueError):
    """A parameter given at start is not acceptable; the node cannot run with it."""


class HttNode(Node):
    """Camera in; hands, object and action out."""

    def __init__(self) -> None:
        super().__init__("htt_node")
        self._declare_parameters()
        self.add_on_set_parameters_callback(self._on_set_parameters)

        transport = self.get_parameter("image_transport").value
        qos_name = self.get_parameter("image_qos").value
        qos = input_qos(qos_name, self.get_parameter("image_queue_depth").value)
        image_type, image_topic = (
            (CompressedImage, "image/compressed")
            if transport == "compressed"
            else (Image, "image")
        )
        self._image_sub = self.create_subscription(
            image_type, image_topic, self.image_callback, qos
        )
        self._info_sub = self.create_subscription(
            CameraInfo, "camera_info", self.camera_info_callback, qos
        )
        self._diagnostics_pub = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        period = self.get_parameter("diagnostics_period_s").value
        self._diagnostics_timer = self.create_timer(period, self.diagnostics_callback)

        self._frames = 0
        self._frames_at_last_report = 0
        self._last_report = time.monotonic()
        self._camera_info: CameraInfo | None = None
        self.get_logger().info(
            f"listening on {self._image_sub.topic_name} ({image_type.__name__}, {qos_name}) "
            f"and {self._info_sub.topic_name}; model "
            f"'{self.get_parameter('model').value or 'built-in'}' on "
            f"{self.get_parameter('backend').value}"
        )

    def _declare_parameters(self) -> None:
        for spec in PARAMETERS:
            self.declare_parameter(
                spec.name,
                spec.default,
                ParameterDescriptor(description=spec.description, read_only=spec.read_only),
            )
        for spec in PARAMETERS:
            reason = validate(spec.name, self.get_parameter(spec.name).value)
            if reason is not None:
                raise InvalidParameterError(reason)

    def _on_set_parameters(self, parameters: list[Parameter]) -> SetParametersResult:
        for parameter in parameters:
            if parameter.name == "use_sim_time":
                continue
            reason = validate(parameter.name, parameter.value)
            if reason is not None:
                return SetParametersResult(successful=False, reason=reason)
        return SetParametersResult(successful=True)

    def image_callback(self, msg: Image | CompressedImage) -> None:
        self._frames += 1

    def camera_info_callback(self, msg: CameraInfo) -> None:
        self._camera_info = msg

    def diagnostics_callback(self) -> None:
        now = time.monotonic()
        rate = (self._frames - self._frames_at_last_report) / max(now - self._last_report, 1e-9)
        self._frames_at_last_report, self._last_report = self._frames, now

        status = DiagnosticStatus(name=f"{self.get_fully_qualified_name()}: input")
        status.hardware_id = self.get_fully_qualified_name()
        if rate == 0.0:
            status.level = DiagnosticStatus.WARN
            status.message = f"no images on {self._image_sub.topic_name}"
        elif self._camera_info is None:
            status.level = DiagnosticStatus.WARN
            status.message = f"images but no camera_info on {self._info_sub.topic_name}"
        else:
            status.level = DiagnosticStatus.OK
            status.message = "receiving"
        status.values = [
            KeyValue(key="frames_received", value=str(self._frames)),
            KeyValue(key="input_rate_hz", value=f"{rate:.2f}"),
            KeyValue(key="camera_info", value=str(self._camera_info is not None).lower()),
            KeyValue(key="backend", value=self.get_parameter("backend").value),
        ]
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self._diagnostics_pub.publish(array)


def main(args: list[str] | None = None) -> int:
    try:
        with rclpy.init(args=args):
            rclpy.spin(HttNode())
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except InvalidParameterError as error:
        rclpy.logging.get_logger("htt_node").fatal(
            f"invalid parameter: {error}; fix it in the parameters file or on the command line"
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
