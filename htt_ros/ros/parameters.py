"""The node's parameters: names, types, defaults, ranges, meaning and validation, without ROS.

One table serves the rclpy node (declaration, descriptors with ranges, validation at start and on
set), the README's parameter list and config/htt.yaml (tests keep the three equal).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from htt_ros.engines.loader import BACKENDS
from htt_ros.streaming.pipeline import MODES
from htt_ros.streaming.preprocess import FITS as IMAGE_FITS

PRECISIONS = ("auto", "fp32", "fp16", "int8")
IMAGE_TRANSPORTS = ("raw", "compressed")

RECTIFICATIONS = ("auto", "raw", "rectified", "none")  # htt_ros.ros.camera_intrinsics
QOS_PROFILES = ("sensor_data", "reliable", "best_effort", "system_default")


@dataclass(frozen=True)
class ParameterSpec:
    """One node parameter.

    ``minimum`` and ``maximum`` bound a number (inclusive; they also go into the descriptor's
    range); ``check`` returns None for a valid value, else the reason it is rejected.
    ``read_only`` parameters are fixed at start (they shape subscriptions and timers);
    ``configure`` ones are read when the model loads, so they change only while unconfigured.
    """

    name: str
    default: Any
    description: str
    read_only: bool = False
    configure: bool = False
    minimum: float | None = None
    maximum: float | None = None
    check: Callable[[Any], str | None] | None = None


def _one_of(choices: tuple[str, ...]) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}"

    return check


PARAMETERS: tuple[ParameterSpec, ...] = (
    ParameterSpec(
        "model",
        "",
        "model folder (pose_step.onnx, action.onnx, model.json); "
        "empty selects the built-in demo model",
        configure=True,
    ),
    ParameterSpec(
        "backend",
        "onnxruntime",
        f"inference backend: {', '.join(BACKENDS)}",
        configure=True,
        check=_one_of(BACKENDS),
    ),
    ParameterSpec(
        "precision",
        "auto",
        f"numeric precision: {', '.join(PRECISIONS)} (auto = fp16 on TensorRT; int8 on "
        "onnxruntime on the CPU when the model folder has htt-quantize's int8 graphs; else fp32)",
        configure=True,
        check=_one_of(PRECISIONS),
    ),
    ParameterSpec(
        "threads",
        0,
        "CPU inference threads; 0 = all cores but one on onnxruntime, "
        "torch's own default on torch",
        configure=True,
        minimum=0,
    ),
    ParameterSpec(
        "mode",
        "sliding",
        "sliding: a pose for every processed frame; segment: the paper's "
        "aligned 16-frame windows, poses published together",
        check=_one_of(MODES),
    ),
    ParameterSpec(
        "lag",
        0,
        "sliding mode look-ahead in processed frames (0 = newest frame, lowest "
        "latency; at most the pose window minus one)",
        minimum=0,
    ),
    ParameterSpec(
        "action_stride",
        8,
        "run the action transformer every N processed frames",
        minimum=1,
    ),
    ParameterSpec(
        "action_thread",
        True,
        "run the action transformer on its own thread, so that no pose waits for it; false "
        "runs it inline after the pose of every action_stride-th frame (as offline replay does)",
    ),
    ParameterSpec(
        "action_smoothing",
        4,
        "number of recent action estimates whose probabilities are "
        "summed (the paper's voting across clips); 1 = no smoothing",
        minimum=1,
    ),
    ParameterSpec("action_top_k", 5, "classes listed in Action.top_k", minimum=1),
    ParameterSpec(
        "model_rate_hz",
        0.0,
        "rate frames are processed at, picked by header stamp; "
        "0 = the rate the model was trained at (model.json)",
        minimum=0.0,
        maximum=1000.0,
    ),
    ParameterSpec(
        "max_gap_s",
        0.5,
        "a gap between frames longer than this resets the history, seconds",
        minimum=0.0,
    ),
    ParameterSpec(
        "image_transport",
        "raw",
        "raw: sensor_msgs/Image on 'image'; compressed: sensor_msgs/CompressedImage "
        "(JPEG, PNG) on '<image topic>/compressed', following a remap of 'image'",
        read_only=True,
        check=_one_of(IMAGE_TRANSPORTS),
    ),
    ParameterSpec(
        "image_qos",
        "sensor_data",
        f"QoS of the image and camera_info subscriptions: {', '.join(QOS_PROFILES)}",
        read_only=True,
        check=_one_of(QOS_PROFILES),
    ),
    ParameterSpec(
        "image_queue_depth",
        1,
        "subscription queue depth; frames beyond it are dropped",
        read_only=True,
        minimum=1,
        maximum=1000,
    ),
    ParameterSpec(
        "camera_info_timeout_s",
        2.0,
        "how long to wait for camera_info before using the "
        "default intrinsics from default_hfov_deg, seconds",
        minimum=0.0,
    ),
    ParameterSpec(
        "default_hfov_deg",
        0.0,
        "horizontal field of view assumed without camera_info, "
        "degrees, below 180 (a pinhole camera sees less than a half space); 0 = never assume, "
        "wait for camera_info",
        minimum=0.0,
        maximum=179.0,
    ),
    ParameterSpec(
        "image_fit",
        "crop",
        "frames of another aspect ratio than the model's 16:9: crop = centre crop at the "
        "training scale; letterbox = the whole field of view, padded, at a smaller scale",
        check=_one_of(IMAGE_FITS),
    ),
    ParameterSpec(
        "rectification",
        "auto",
        "raw: undistort with camera_info's D before the network; rectified: the images are "
        "rectified, use P; none: use K, ignore D; auto: none without distortion, rectified on "
        "a topic named *rect*, else raw",
        check=_one_of(RECTIFICATIONS),
    ),
    ParameterSpec(
        "frame_id",
        "",
        "frame id the outputs carry instead of the image's (an optical frame, REP 103); "
        "empty = the image's",
    ),
    ParameterSpec("publish_markers", True, "publish the RViz hand skeleton on 'markers'"),
    ParameterSpec("publish_annotated", False, "publish the annotated image on 'annotated'"),
    ParameterSpec(
        "diagnostics_period_s",
        1.0,
        "period of the /diagnostics status, seconds",
        read_only=True,
        minimum=0.1,
        maximum=60.0,
    ),
    ParameterSpec(
        "diagnostics_max_drop_ratio",
        0.5,
        "WARN when more than this share of the frames received in the last periods was dropped "
        "because inference was busy",
        minimum=0.0,
        maximum=1.0,
    ),
    ParameterSpec(
        "diagnostics_max_stamp_age_ms",
        500.0,
        "WARN when the median age of published poses (now minus the image's header stamp) "
        "exceeds this, milliseconds",
        minimum=1.0,
    ),
    ParameterSpec(
        "diagnostics_rate_tolerance",
        0.3,
        "WARN when the output rate falls more than this fraction below the expected rate (the "
        "model's rate, or the camera's if slower)",
        minimum=0.0,
        maximum=1.0,
    ),
    ParameterSpec(
        "autostart",
        True,
        "configure and activate at start (as a plain node); false waits for a lifecycle manager",
        read_only=True,
    ),
)

SPECS: dict[str, ParameterSpec] = {spec.name: spec for spec in PARAMETERS}


def validate(name: str, value: Any) -> str | None:
    """Return why ``value`` is not acceptable for parameter ``name``, or None if it is.

    An integer is acceptable for a float parameter (the command line reads ``15`` as one).
    """
    spec = SPECS.get(name)
    if spec is None:
        return f"unknown parameter '{name}'; known: {', '.join(SPECS)}"
    integer_for_float = type(spec.default) is float and type(value) is int
    if type(value) is not type(spec.default) and not integer_for_float:
        kind = type(spec.default).__name__
        return f"'{name}' takes a {kind}, got {type(value).__name__} {value!r}"
    if spec.minimum is not None and value < spec.minimum:
        return f"'{name}' must be >= {spec.minimum}, got {value!r}"
    if spec.maximum is not None and value > spec.maximum:
        return f"'{name}' must be <= {spec.maximum}, got {value!r}"
    reason = spec.check(value) if spec.check else None
    return None if reason is None else f"'{name}' {reason}, got {value!r}"


def check_lag(lag: int, window: int) -> str | None:
    """The cross-check of ``lag`` against a model's pose window, or None when it fits."""
    if lag < window:
        return None
    return f"'lag' must be below the model's pose window {window}, got {lag}"
