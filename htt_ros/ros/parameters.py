"""The node's parameters: names, types, defaults, meaning and validation, without ROS.

One table serves the rclpy node (declaration, descriptors, on-set validation), the README's
parameter list (a test keeps the two equal) and config/htt.yaml.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

BACKENDS = ("onnxruntime", "tensorrt", "torch")
PRECISIONS = ("auto", "fp32", "fp16", "int8")
MODES = ("sliding", "segment")
IMAGE_TRANSPORTS = ("raw", "compressed")
IMAGE_FITS = ("crop", "letterbox")  # htt_ros.streaming.preprocess.FITS
RECTIFICATIONS = ("auto", "raw", "rectified", "none")  # htt_ros.ros.camera_intrinsics
QOS_PROFILES = ("sensor_data", "reliable", "best_effort", "system_default")


@dataclass(frozen=True)
class ParameterSpec:
    """One node parameter.

    ``check`` returns None for a valid value, else the reason it is rejected. ``read_only``
    parameters are fixed at start (changing them needs a new model load or new subscriptions).
    """

    name: str
    default: Any
    description: str
    read_only: bool = False
    check: Callable[[Any], str | None] | None = None


def _one_of(choices: tuple[str, ...]) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}"

    return check


def _at_least(minimum: float) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if value >= minimum else f"must be >= {minimum}"

    return check


PARAMETERS: tuple[ParameterSpec, ...] = (
    ParameterSpec(
        "model",
        "",
        "model folder (pose_step.onnx, action.onnx, model.json); "
        "empty selects the built-in demo model",
        read_only=True,
    ),
    ParameterSpec(
        "backend",
        "onnxruntime",
        f"inference backend: {', '.join(BACKENDS)}",
        read_only=True,
        check=_one_of(BACKENDS),
    ),
    ParameterSpec(
        "precision",
        "auto",
        f"numeric precision: {', '.join(PRECISIONS)} (auto = fp16 on TensorRT, fp32 elsewhere)",
        read_only=True,
        check=_one_of(PRECISIONS),
    ),
    ParameterSpec(
        "threads",
        0,
        "CPU inference threads; 0 leaves one core free for the rest of the robot",
        read_only=True,
        check=_at_least(0),
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
        check=_at_least(0),
    ),
    ParameterSpec(
        "action_stride",
        8,
        "run the action transformer every N processed frames",
        check=_at_least(1),
    ),
    ParameterSpec(
        "action_smoothing",
        4,
        "number of recent action estimates whose probabilities are "
        "summed (the paper's voting across clips); 1 = no smoothing",
        check=_at_least(1),
    ),
    ParameterSpec("action_top_k", 5, "classes listed in Action.top_k", check=_at_least(1)),
    ParameterSpec(
        "model_rate_hz",
        0.0,
        "rate frames are processed at, picked by header stamp; "
        "0 = the rate the model was trained at (model.json)",
        check=_at_least(0.0),
    ),
    ParameterSpec(
        "max_gap_s",
        0.5,
        "a gap between frames longer than this resets the history, seconds",
        check=_at_least(0.0),
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
        check=_at_least(1),
    ),
    ParameterSpec(
        "camera_info_timeout_s",
        2.0,
        "how long to wait for camera_info before using the "
        "default intrinsics from default_hfov_deg, seconds",
        check=_at_least(0.0),
    ),
    ParameterSpec(
        "default_hfov_deg",
        0.0,
        "horizontal field of view assumed without camera_info, "
        "degrees; 0 = never assume, wait for camera_info",
        check=_at_least(0.0),
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
        check=_at_least(0.1),
    ),
)

SPECS: dict[str, ParameterSpec] = {spec.name: spec for spec in PARAMETERS}


def validate(name: str, value: Any) -> str | None:
    """Return why ``value`` is not acceptable for parameter ``name``, or None if it is."""
    spec = SPECS.get(name)
    if spec is None:
        return f"unknown parameter '{name}'; known: {', '.join(SPECS)}"
    if type(value) is not type(spec.default):
        return (
            f"'{name}' takes a {type(spec.default).__name__}, got {type(value).__name__} {value!r}"
        )
    if spec.check is None:
        return None
    reason = spec.check(value)
    return None if reason is None else f"'{name}' {reason}, got {value!r}"
