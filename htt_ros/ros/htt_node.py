"""``htt_node``: camera in; hands, handled object and action out.

Subscribes ``image`` (sensor_msgs/Image) or ``<resolved image topic>/compressed``
(CompressedImage, as image_transport names it) and ``camera_info``. Publishes ``hands``
(HandPoses), ``action`` (Action), ``labels`` (HandLabels, latched), ``markers`` (MarkerArray),
``annotated`` (Image) and ``/diagnostics``. The image callback only hands the newest frame to
the inference thread (see frame_worker); every output carries the header of the image it
describes. Parameters: htt_ros.ros.parameters and the README.
"""

import logging
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.msg import ParameterDescriptor, SetParametersResult
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.signals import SignalHandlerOptions
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from htt_ros.demo_model import default_model_dir
from htt_ros.engines.base import EngineError
from htt_ros.engines.loader import LoadedModel, load_model
from htt_ros.model_card import ModelCardError
from htt_ros.msg import Action, HandLabels, HandPoses
from htt_ros.ros.annotate import annotate
from htt_ros.ros.camera_intrinsics import IntrinsicsSource
from htt_ros.ros.frame_worker import FrameWorker
from htt_ros.ros.image_conversion import (
    ImageConversionError,
    compressed_msg_to_rgb,
    image_msg_to_rgb,
)
from htt_ros.ros.image_messages import rgb_to_image_msg
from htt_ros.ros.markers import burst_markers, clear_markers
from htt_ros.ros.message_builders import action_msg, hand_labels_msg, hand_poses_msg
from htt_ros.ros.node_status import NodeStatus
from htt_ros.ros.parameters import PARAMETERS, validate
from htt_ros.ros.qos import input_qos, latched_qos
from htt_ros.streaming.pipeline import StreamingConfig, StreamingPipeline

PIPELINE_PARAMETERS = (
    "mode",
    "lag",
    "action_stride",
    "action_smoothing",
    "model_rate_hz",
    "max_gap_s",
    "image_fit",
)
THROTTLE_S = 5.0


class InvalidParameterError(ValueError):
    """A parameter given at start is not acceptable; the node cannot run with it."""


class HttNode(Node):
    """Runs the streaming HTT pipeline on a camera."""

    def __init__(self) -> None:
        super().__init__("htt_node")
        self._declare_parameters()
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self.add_post_set_parameters_callback(self._after_set_parameters)
        p = self._p
        self.status = NodeStatus(self.get_fully_qualified_name(), p("backend"), p("model"))
        self.model: LoadedModel | None = None
        self.pipeline: StreamingPipeline | None = None
        self._lock = threading.Lock()  # the pipeline, between the worker and parameter changes
        self._recent_rgb: dict[int, np.ndarray] = {}
        self._last_action = None
        self._warned: dict[str, float] = {}
        self._marked_header = None  # header of the last markers drawn, to clear them at the end

        self.hands_pub = self.create_publisher(HandPoses, "hands", 10)
        self.action_pub = self.create_publisher(Action, "action", 10)
        self.labels_pub = self.create_publisher(HandLabels, "labels", latched_qos())
        self.markers_pub = self.create_publisher(MarkerArray, "markers", 5)
        self.annotated_pub = self.create_publisher(Image, "annotated", 2)
        self.diagnostics_pub = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self._load_model()

        compressed = p("image_transport") == "compressed"
        qos = input_qos(p("image_qos"), p("image_queue_depth"))
        self.image_sub = self.create_subscription(
            CompressedImage if compressed else Image,
            f"{self.resolve_topic_name('image')}/compressed" if compressed else "image",
            self.image_callback,
            qos,
        )
        self.info_sub = self.create_subscription(
            CameraInfo, "camera_info", self.camera_info_callback, qos
        )
        self.intrinsics = IntrinsicsSource(self.info_sub.topic_name, self.image_sub.topic_name)
        self.worker = FrameWorker(self._process)
        self.create_timer(p("diagnostics_period_s"), self.diagnostics_callback)
        self.get_logger().info(
            f"listening on {self.image_sub.topic_name} ({p('image_qos')}) and "
            f"{self.info_sub.topic_name}; backend {p('backend')}, mode {p('mode')}"
        )

    def _p(self, name: str):
        return self.get_parameter(name).value

    # -- parameters -------------------------------------------------------------------------

    def _declare_parameters(self) -> None:
        for spec in PARAMETERS:
            descriptor = ParameterDescriptor(
                description=spec.description, read_only=spec.read_only
            )
            self.declare_parameter(spec.name, spec.default, descriptor)
        for spec in PARAMETERS:
            reason = validate(spec.name, self._p(spec.name))
            if reason is not None:
                raise InvalidParameterError(reason)

    def _on_set_parameters(self, parameters: list[Parameter]) -> SetParametersResult:
        for parameter in parameters:
            if parameter.name == "use_sim_time":
                continue
            reason = validate(parameter.name, parameter.value)
            window = self.model.card.window if self.model else None
            if reason is None and parameter.name == "lag" and window and parameter.value >= window:
                reason = f"'lag' must be below the model's pose window {window}"
            if reason is not None:
                return SetParametersResult(successful=False, reason=reason)
        return SetParametersResult(successful=True)

    def _after_set_parameters(self, parameters: list[Parameter]) -> None:
        if self.model is not None and any(p.name in PIPELINE_PARAMETERS for p in parameters):
            with self._lock:
                self.pipeline = self._make_pipeline(self.model)
            self.get_logger().info("pipeline settings changed; history restarted")

    def _make_pipeline(self, model: LoadedModel) -> StreamingPipeline:
        p = self._p
        config = StreamingConfig(
            mode=p("mode"),
            lag=p("lag"),
            action_stride=p("action_stride"),
            action_smoothing=p("action_smoothing"),
            rate_hz=p("model_rate_hz") or None,
            max_gap_s=p("max_gap_s"),
            fit=p("image_fit"),
        )
        return StreamingPipeline(model.card, model.pose_step, model.action, config)

    def _load_model(self) -> None:
        folder = self._p("model") or str(default_model_dir())
        if not Path(folder, "model.json").is_file():
            self.status.model_error = (
                f"no model folder at {folder}: set the parameter model:=<folder> (htt-export "
                f"makes one from a checkpoint; scripts/demo.sh makes the built-in demo model)"
            )
            self.get_logger().error(self.status.model_error)
            return
        start = time.monotonic()
        try:
            model = load_model(
                folder, self._p("backend"), self._p("precision"), threads=self._p("threads")
            )
            self.pipeline = self._make_pipeline(model)
        except (EngineError, ModelCardError, ValueError, OSError) as error:
            self.status.model_error = f"cannot load model '{folder}': {error}"
            self.get_logger().error(self.status.model_error)
            return
        self.model = model
        self.labels_pub.publish(
            hand_labels_msg(model.card, Path(folder).name, self.get_clock().now().to_msg())
        )
        self.get_logger().info(
            f"model {folder} ({model.card.dataset}, {model.card.num_joints} joints) on "
            f"{model.backend} {model.precision}, loaded in {time.monotonic() - start:.1f} s"
        )

    # -- input --------------------------------------------------------------------------------

    def image_callback(self, msg: Image | CompressedImage) -> None:
        self.status.frames_received += 1
        if self.pipeline is not None:
            self.worker.offer((msg, time.monotonic()))

    def camera_info_callback(self, msg: CameraInfo) -> None:
        self.intrinsics.update(msg)

    def _warn(self, text: str) -> None:
        """Log ``text`` at most once per THROTTLE_S, per distinct message (rclpy's own
        throttling is per call site and would hide a second kind of problem)."""
        now = time.monotonic()
        if now - self._warned.get(text, -THROTTLE_S) >= THROTTLE_S:
            self._warned[text] = now
            self.get_logger().warning(text)

    # -- inference thread ---------------------------------------------------------------------

    def _process(self, item: tuple[Image | CompressedImage, float]) -> None:
        msg, received = item
        try:
            rgb = (
                compressed_msg_to_rgb(msg)
                if isinstance(msg, CompressedImage)
                else image_msg_to_rgb(msg)
            )
        except ImageConversionError as error:
            self.status.bad_frames += 1
            self._warn(f"{self.image_sub.topic_name}: frame skipped: {error}")
            return
        try:
            self._infer(msg, rgb, received)
        except Exception as error:  # the ROS boundary: report and keep serving
            self.status.errors += 1
            self.get_logger().error(
                f"inference failed on a frame from {self.image_sub.topic_name}: {error!r}",
                throttle_duration_sec=THROTTLE_S,
            )

    def _infer(self, msg, rgb: np.ndarray, received: float) -> None:
        height, width = rgb.shape[:2]
        answer = self.intrinsics.for_image(
            width,
            height,
            time.monotonic(),
            self._p("default_hfov_deg"),
            self._p("camera_info_timeout_s"),
            self._p("rectification"),
            self.model.card.decoding.frame,
        )
        self.status.camera_problem = answer.problem
        for text in answer.warnings:
            self.get_logger().warning(text)
        for text in answer.notes:
            self.get_logger().info(text)
        if answer.k is None:
            return
        k = answer.k
        header = self._output_header(msg.header)
        fed = rgb if answer.undistort is None else answer.undistort.image(rgb)
        stamp_ns = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        annotated = (
            self._p("publish_annotated") and self.annotated_pub.get_subscription_count() > 0
        )
        if annotated:
            self._recent_rgb[stamp_ns] = rgb
        with self._lock:
            out = self.pipeline.push(fed, stamp_ns, k, tag=header)
            window = self.pipeline.t + self.pipeline.config.lag + 1
        if out.reset_reason and out.reset_reason != "first frame":
            self.status.resets += 1
            self.status.last_reset = out.reset_reason
            self.get_logger().info(f"history reset: {out.reset_reason}")
            self.markers_pub.publish(clear_markers(header))
        card = self.model.card
        for action in out.actions:
            self.action_pub.publish(action_msg(action, card, self._p("action_top_k")))
            self.status.actions_published += 1
            self._last_action = action
        poses = out.poses
        if answer.undistort is not None:
            poses = [
                replace(pose, joints2d=answer.undistort.to_raw(pose.joints2d)) for pose in poses
            ]
        for pose in poses:
            self.hands_pub.publish(hand_poses_msg(pose, card, (width, height)))
            self.status.poses_published += 1
            source = self._recent_rgb.get(pose.frame.stamp_ns)
            if annotated and source is not None:
                image = annotate(source, pose, card, self._last_action)
                self.annotated_pub.publish(rgb_to_image_msg(image, pose.frame.tag))
        if poses and self._p("publish_markers") and self.markers_pub.get_subscription_count():
            period_s = 1.0 / (self._p("model_rate_hz") or card.frame_rate_hz)
            self.markers_pub.publish(burst_markers(poses, card, self._last_action, period_s))
            self._marked_header = header
        if out.poses:
            self.status.latencies_ms.append(1000 * (time.monotonic() - received))
        for old in sorted(self._recent_rgb)[:-window]:
            del self._recent_rgb[old]

    def _output_header(self, header: Header) -> Header:
        """The image's header, with the ``frame_id`` parameter's frame if set; warns once about
        a frame id that is empty or does not look like an optical frame (REP 103)."""
        override = self._p("frame_id")
        frame_id = override or header.frame_id
        if not frame_id or "optical" not in frame_id:
            text = (
                f"{self.image_sub.topic_name}: frame id {frame_id!r} is "
                f"{'empty' if not frame_id else 'not an optical frame'}; the joints are in "
                f"optical axes (x right, y down, z forward, REP 103): set the parameter "
                f"frame_id to the camera's optical frame"
            )
            if text not in self._warned:
                self._warned[text] = time.monotonic()
                self.get_logger().warning(text)
        if override:
            header.frame_id = override
        return header

    # -- diagnostics --------------------------------------------------------------------------

    def diagnostics_callback(self) -> None:
        processed = self.pipeline.frames_processed if self.pipeline else 0
        array = DiagnosticArray(status=[self.status.report(self.worker.dropped, processed)])
        array.header.stamp = self.get_clock().now().to_msg()
        self.diagnostics_pub.publish(array)

    def destroy_node(self) -> None:
        self.worker.stop()
        if self._marked_header is not None and self.context.ok():  # remove the hands from RViz
            self.markers_pub.publish(clear_markers(self._marked_header))
            self._marked_header = None
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    # Library modules (engine builds, model loading) log through Python's logging.
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s] [%(name)s]: %(message)s")
    try:
        # SIGINT raises KeyboardInterrupt with the context still valid, so destroy_node can
        # still publish (it clears the markers); rclpy shuts the context down on leaving.
        with rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO):
            node = HttNode()
            try:
                rclpy.spin(node)
            finally:
                node.destroy_node()
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
