"""``htt_node``: camera in; hands, handled object and action out, as a managed (lifecycle) node.

Subscribes ``image`` (sensor_msgs/Image) or ``<resolved image topic>/compressed``
(CompressedImage, as image_transport names it) and ``camera_info``. Publishes ``hands``
(HandPoses), ``action`` (Action), ``labels`` (HandLabels, latched), ``markers`` (MarkerArray),
``annotated`` (Image) and ``/diagnostics``. The image callback only hands the newest frame to
the inference thread (see frame_worker); every output carries the header of the image it
describes. With ``action_thread`` (the default) the action transformer runs on a second thread
fed the same way, so that no pose waits for it. Parameters: htt_ros.ros.parameters and the README.

Lifecycle: configure loads the model (or builds the TensorRT engine), activate subscribes and
publishes, deactivate stops both, cleanup frees the model. With ``autostart`` (the default) the
node configures and activates itself, so ``ros2 run`` and the launch file need no manager.

Threads: the node spins in a MultiThreadedExecutor. The lifecycle services and the autostart
timer sit in their own reentrant callback group, so a transition that loads a model for minutes
runs on one executor thread while the default group (parameter services, the diagnostics timer,
the image callbacks) keeps being served on another; ``get_state`` answers during a load too.
"""

import gc
import logging
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.msg import (
    FloatingPointRange,
    IntegerRange,
    ParameterDescriptor,
    SetParametersResult,
)
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.duration import Duration
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.impl.implementation_singleton import rclpy_implementation
from rclpy.lifecycle import LifecycleNodeMixin, LifecycleState, TransitionCallbackReturn
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.signals import SignalHandlerOptions
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from htt_ros.demo_model import default_model_dir
from htt_ros.engines.base import EngineError
from htt_ros.engines.loader import LoadedModel, load_model, resolve_precision, warm_up
from htt_ros.model_card import ModelCard, ModelCardError
from htt_ros.msg import Action, HandLabels, HandPoses
from htt_ros.ros import output_topics as topics
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
from htt_ros.ros.node_status import NodeStatus, Thresholds
from htt_ros.ros.parameters import PARAMETERS, SPECS, ParameterSpec, check_lag, validate
from htt_ros.ros.qos import (
    RELIABLE_REPAIR_S,
    input_qos,
    latched_qos,
    overridable,
    qos_override_problem,
)
from htt_ros.streaming.pipeline import ActionRun, StreamingConfig, StreamingPipeline
from htt_ros.streaming.results import ActionResult

PIPELINE_PARAMETERS = (
    "mode",
    "lag",
    "action_stride",
    "action_thread",
    "action_smoothing",
    "model_rate_hz",
    "max_gap_s",
    "image_fit",
)
# Parameters rclpy itself declares or reads (QoS overrides, sim time): not ours to refuse.
ROS_PARAMETER_PREFIXES = ("qos_overrides.", "use_sim_time", "start_type_description_service")
# The pip package to install when a backend's import fails, by top-level module.
PACKAGES = {"onnxruntime": "onnxruntime", "torch": "torch", "tensorrt": "tensorrt"}
PACKAGES |= {"torchvision": "torchvision", "cuda": "cuda-python", "pycuda": "pycuda"}
THROTTLE_S = 5.0
RCLError = rclpy_implementation.RCLError


class InvalidParameterError(ValueError):
    """A parameter given at start is not acceptable; the node cannot run with it."""


def descriptor(spec: ParameterSpec) -> ParameterDescriptor:
    """The descriptor ``ros2 param describe`` shows: description, read-only flag, range."""
    result = ParameterDescriptor(description=spec.description, read_only=spec.read_only)
    low, high = spec.minimum, spec.maximum
    if low is None and high is None:
        return result
    if isinstance(spec.default, float):
        low = -sys.float_info.max if low is None else low
        high = sys.float_info.max if high is None else high
        result.floating_point_range = [FloatingPointRange(from_value=low, to_value=high)]
    else:
        low = -(2**63) if low is None else low
        high = 2**63 - 1 if high is None else high
        result.integer_range = [IntegerRange(from_value=low, to_value=high, step=1)]
    return result


def missing_package(error: ImportError, backend: str) -> str:
    """The line that says which package a backend lacks and how to get it."""
    module = (error.name or backend).split(".")[0]
    package = PACKAGES.get(module, module)
    return (
        f"backend {backend} cannot start: Python package '{package}' does not import here "
        f"({error}); install it (pip install {package}) or set backend to another one"
    )


class HttNode(LifecycleNodeMixin, Node):
    """Runs the streaming HTT pipeline on a camera."""

    def __init__(self) -> None:
        # First: rclpy may destroy a half-built node, and destroy_node reads these.
        self.worker: FrameWorker | None = None
        self.action_worker: FrameWorker | None = None
        self._marked_header = None  # header of the last markers drawn, to clear them at the end
        Node.__init__(self, "htt_node")
        self._lifecycle_group = ReentrantCallbackGroup()
        LifecycleNodeMixin.__init__(self, callback_group=self._lifecycle_group)
        self._declare_parameters()
        self.add_pre_set_parameters_callback(self._floats_from_integers)
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
        self.image_sub = self.info_sub = None
        self.intrinsics: IntrinsicsSource | None = None

        self.hands_pub = self._publisher(HandPoses, topics.HANDS, 10)
        self.action_pub = self._publisher(Action, topics.ACTION, 10)
        self.labels_pub = self._publisher(HandLabels, topics.LABELS, latched_qos())
        self.markers_pub = self._publisher(MarkerArray, topics.MARKERS, 5)
        self.annotated_pub = self._publisher(Image, topics.ANNOTATED, 2)
        self.diagnostics_pub = self.create_publisher(
            DiagnosticArray, "/diagnostics", 10, qos_overriding_options=overridable()
        )
        self.create_timer(p("diagnostics_period_s"), self.diagnostics_callback)
        if p("autostart"):
            self._autostart_timer = self.create_timer(
                0.0, self._autostart, callback_group=self._lifecycle_group
            )

    def _p(self, name: str):
        return self.get_parameter(name).value

    def _publisher(self, msg_type, topic: str, qos):
        """A lifecycle publisher (it publishes only while active) with QoS overrides."""
        return self.create_lifecycle_publisher(
            msg_type, topic, qos, qos_overriding_options=overridable()
        )

    # -- parameters -------------------------------------------------------------------------

    def _declare_parameters(self) -> None:
        """Declare the table's parameters, refusing a bad start value with InvalidParameterError.

        Values come from the command line, a parameters file or launch; the command line reads
        ``15`` as an integer, which a float parameter takes as 15.0. Overrides are checked here,
        before rclpy sees them, so that the error names the parameter, the value and the fix.
        """
        overrides = {name: p.value for name, p in self._parameter_overrides.items()}
        for name, value in overrides.items():
            reason = (
                qos_override_problem(name, value) if name.startswith("qos_overrides.") else None
            )
            if reason is not None:
                raise InvalidParameterError(reason)
            if name not in SPECS and not name.startswith(ROS_PARAMETER_PREFIXES):
                self.get_logger().warning(
                    f"parameter '{name}' is not one of htt_node's and is ignored; known: "
                    f"{', '.join(SPECS)}"
                )
        for spec in PARAMETERS:
            value = overrides.get(spec.name, spec.default)
            if isinstance(spec.default, float) and type(value) is int:
                value = float(value)
            reason = validate(spec.name, value)
            if reason is not None:
                raise InvalidParameterError(reason)
            self.declare_parameter(spec.name, value, descriptor(spec), ignore_override=True)
        try:
            resolve_precision(self._p("backend"), self._p("precision"))
        except EngineError as error:
            raise InvalidParameterError(f"'precision' {self._p('precision')!r}: {error}") from None
        window = self._model_window()
        reason = check_lag(self._p("lag"), window) if window else None
        if reason is not None:
            raise InvalidParameterError(reason)

    def _model_window(self) -> int | None:
        """The pose window of the configured model folder, None where it cannot be read (the
        configure transition then reports why)."""
        try:
            return ModelCard.load(self._model_folder()).window
        except (ModelCardError, OSError):
            return None

    def _model_folder(self) -> str:
        return self._p("model") or str(default_model_dir())

    def _floats_from_integers(self, parameters: list[Parameter]) -> list[Parameter]:
        """``ros2 param set /htt_node model_rate_hz 15`` sends an integer; take it as 15.0."""
        return [
            Parameter(p.name, value=float(p.value))
            if p.name in SPECS
            and isinstance(SPECS[p.name].default, float)
            and p.type_ == Parameter.Type.INTEGER
            else p
            for p in parameters
        ]

    def _on_set_parameters(self, parameters: list[Parameter]) -> SetParametersResult:
        for parameter in parameters:
            if parameter.name not in SPECS:
                continue
            reason = validate(parameter.name, parameter.value)
            configured = self.status.state != "unconfigured"
            if reason is None and SPECS[parameter.name].configure and configured:
                reason = (
                    f"'{parameter.name}' is read when the model loads: deactivate and clean up "
                    f"the node first (ros2 lifecycle set {self.get_fully_qualified_name()} "
                    f"cleanup), then set it and configure again"
                )
            if reason is None and parameter.name == "lag" and self.model is not None:
                reason = check_lag(parameter.value, self.model.card.window)
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
        submit = self._submit_action if p("action_thread") else None
        return StreamingPipeline(model.card, model.pose_step, model.action, config, submit)

    # -- lifecycle ----------------------------------------------------------------------------

    def _autostart(self) -> None:
        self.destroy_timer(self._autostart_timer)
        if self.trigger_configure() == TransitionCallbackReturn.SUCCESS:
            self.trigger_activate()

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.status.state, self.status.model_error = "loading", None
        self.status.backend, self.status.model = self._p("backend"), self._p("model")
        error = self._load_model()
        self.status.model_error = error
        self.status.state = "unconfigured" if error else "inactive"
        if error:
            self.get_logger().error(error)
            return TransitionCallbackReturn.FAILURE
        return TransitionCallbackReturn.SUCCESS

    def _load_model(self) -> str | None:
        """Load the model and make the pipeline; return why it failed, or None."""
        folder = self._model_folder()
        if not Path(folder, "model.json").is_file():
            return (
                f"no model folder at {folder}: set the parameter model:=<folder> (htt-export "
                f"makes one from a checkpoint; scripts/demo.sh makes the built-in demo model), "
                f"then configure"
            )
        start = time.monotonic()
        backend = self._p("backend")
        try:
            model = load_model(folder, backend, self._p("precision"), threads=self._p("threads"))
            warm_up(model)
        except ImportError as error:
            return missing_package(error, backend)
        except (EngineError, ModelCardError, ValueError, OSError) as error:
            return f"cannot load model '{folder}': {error}"
        reason = check_lag(self._p("lag"), model.card.window)
        if reason is not None:
            return f"{reason}: set a smaller lag, then configure"
        with self._lock:
            self.model, self.pipeline = model, self._make_pipeline(model)
        self.get_logger().info(
            f"model {folder} ({model.card.dataset}, {model.card.num_joints} joints) on "
            f"{model.backend} {model.precision}{self._auto_note(model)}, loaded in "
            f"{time.monotonic() - start:.1f} s"
        )
        return None

    def _auto_note(self, model: LoadedModel) -> str:
        """Why ``precision: auto`` chose what it did, for the load line."""
        if self._p("precision") != "auto":
            return ""
        if model.precision == "int8":
            return " (precision auto: the model folder has int8 graphs)"
        if model.backend == "onnxruntime":
            return " (precision auto: no int8 graphs in the model folder; htt-quantize makes them)"
        return " (precision auto)"

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        p = self._p
        compressed = p("image_transport") == "compressed"
        qos = input_qos(p("image_qos"), p("image_queue_depth"))
        self.image_sub = self.create_subscription(
            CompressedImage if compressed else Image,
            f"{self.resolve_topic_name('image')}/compressed" if compressed else "image",
            self.image_callback,
            qos,
            qos_overriding_options=overridable(),
        )
        self.info_sub = self.create_subscription(
            CameraInfo,
            "camera_info",
            self.camera_info_callback,
            qos,
            qos_overriding_options=overridable(),
        )
        self.intrinsics = IntrinsicsSource(self.info_sub.topic_name, self.image_sub.topic_name)
        self.status.restart()
        self.action_worker = FrameWorker(self._run_action, name="htt_action")
        self.worker = FrameWorker(self._process)
        result = super().on_activate(state)
        card = self.model.card
        name = Path(self._model_folder()).name
        self.labels_pub.publish(hand_labels_msg(card, name, self.get_clock().now().to_msg()))
        self.status.state = "active"
        self.get_logger().info(
            f"active: listening on {self.image_sub.topic_name} ({p('image_qos')}) and "
            f"{self.info_sub.topic_name}; backend {p('backend')}, mode {p('mode')}"
        )
        return result

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop_input()
        self.status.state = "inactive"
        self.get_logger().info("inactive: not subscribed, not publishing")
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._free_model()
        self.status.state = "unconfigured"
        self.get_logger().info("cleaned up: model freed")
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop_input()
        self._free_model()
        self.status.state = "finalized"
        return TransitionCallbackReturn.SUCCESS

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop_input()
        self._free_model()
        self.status.state = "unconfigured"
        return TransitionCallbackReturn.SUCCESS

    def _stop_input(self) -> None:
        """Unsubscribe, then let the inference thread finish its frame and stop."""
        for subscription in (self.image_sub, self.info_sub):
            if subscription is not None:
                self.destroy_subscription(subscription)
        self.image_sub = self.info_sub = None
        for name in ("worker", "action_worker"):  # frames first: they hand A its runs
            worker = getattr(self, name)
            setattr(self, name, None)
            if worker is not None:
                worker.stop()

    def _free_model(self) -> None:
        """Drop the pipeline and the graphs; runners that hold GPU memory release it."""
        with self._lock:
            model, self.model, self.pipeline = self.model, None, None
        self._recent_rgb.clear()
        if model is not None:
            for runner in (model.pose_step, model.action):
                close = getattr(runner, "close", None)
                if close is not None:
                    close()
        model = None
        gc.collect()

    # -- input --------------------------------------------------------------------------------

    def image_callback(self, msg: Image | CompressedImage) -> None:
        self.status.frames_received += 1
        worker = self.worker
        if worker is not None:
            worker.offer((msg, time.monotonic()))

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
        stamp_ns = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        if not self.intrinsics.wait_for(stamp_ns):
            self._warn(
                f"{self.info_sub.topic_name}: no camera_info stamped as a frame of "
                f"{self.image_sub.topic_name} came within {RELIABLE_REPAIR_S:g} s; using the "
                f"latest, older one (publish each camera_info with its image's stamp)"
            )
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
            self._publish_action(action)
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
            self.status.record_latency(
                received, out.poses[-1].frame.stamp_ns, self.get_clock().now().nanoseconds
            )
        for old in sorted(self._recent_rgb)[:-window]:
            del self._recent_rgb[old]

    def _publish_action(self, action: ActionResult) -> None:
        self.action_pub.publish(action_msg(action, self.model.card, self._p("action_top_k")))
        self.status.actions_published += 1
        self._last_action = action

    def _submit_action(self, run: ActionRun) -> None:
        """The pipeline's hand-over of a due A run to the action thread (never waits)."""
        worker = self.action_worker
        if worker is not None and worker.offer(run):
            self._warn(
                f"the action transformer takes longer than {self._p('action_stride')} frames: "
                f"a run was skipped; raise action_stride or use a faster backend"
            )

    def _run_action(self, run: ActionRun) -> None:
        """The action thread: run A, publish its result."""
        try:
            self._publish_action(run())
        except Exception as error:  # the ROS boundary: report and keep serving
            self.status.errors += 1
            self.get_logger().error(
                f"action transformer failed: {error!r}", throttle_duration_sec=THROTTLE_S
            )

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
        p = self._p
        pipeline, worker, model = self.pipeline, self.worker, self.model
        processed = pipeline.frames_processed if pipeline else 0
        rate = (p("model_rate_hz") or model.card.frame_rate_hz) if model else 0.0
        thresholds = Thresholds(
            p("diagnostics_max_drop_ratio"),
            p("diagnostics_max_stamp_age_ms"),
            p("diagnostics_rate_tolerance"),
        )
        dropped = worker.dropped if worker else 0
        array = DiagnosticArray(status=[self.status.report(dropped, processed, rate, thresholds)])
        array.header.stamp = self.get_clock().now().to_msg()
        self.diagnostics_pub.publish(array)

    def destroy_node(self) -> None:
        for worker in (self.worker, self.action_worker):
            if worker is not None:
                worker.stop()
        if self._marked_header is not None and self.context.ok():  # remove the hands from RViz
            self.markers_pub.publish(clear_markers(self._marked_header))
            # the process ends next: let reliable subscribers (RViz) acknowledge it first
            if not self.markers_pub.wait_for_all_acked(Duration(seconds=RELIABLE_REPAIR_S)):
                self.get_logger().warning(
                    f"the markers' DELETEALL was not acknowledged within "
                    f"{RELIABLE_REPAIR_S:g} s of shutdown; a subscriber (RViz) may keep showing "
                    f"the last hands"
                )
            self._marked_header = None
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    # Library modules (engine builds, model loading) log through Python's logging.
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s] [%(name)s]: %(message)s")
    try:
        # SIGINT raises KeyboardInterrupt with the context still valid, so destroy_node can
        # still publish (it clears the markers); rclpy shuts the context down on leaving.
        context = rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    except RCLError as error:  # a malformed --ros-args rule, a parameters file rcl cannot read
        reason = str(error).split(", at /")[0]
        rclpy.logging.get_logger("htt_node").fatal(
            f"cannot start: {reason}; check the arguments after --ros-args (-p name:=value, "
            f"--params-file <a readable YAML file>)"
        )
        return 2
    try:
        with context:
            node = HttNode()
            executor = MultiThreadedExecutor(num_threads=3)
            executor.add_node(node)
            try:
                executor.spin()
            finally:
                executor.shutdown()
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
