"""What launch/htt.launch.py computes, in plain Python so that it is testable without `launch`."""

from pathlib import Path

PACKAGE = "htt_ros"
DEFAULT_PARAMS_FILE = "htt.yaml"
RVIZ_CONFIG = "htt.rviz"
LOG_LEVELS = ("debug", "info", "warn", "error", "fatal")
RESPAWN_DELAY_S = 2.0


def package_share() -> Path:
    """The installed ``share/htt_ros`` folder (needs AMENT_PREFIX_PATH to hold its prefix)."""
    from ament_index_python.packages import get_package_share_directory

    return Path(get_package_share_directory(PACKAGE))


def resolve_params_file(value: str, share: Path) -> Path:
    """The parameters file a launch argument names.

    Empty means the package's ``config/htt.yaml``; a bare file name is looked up in the
    package's ``config/`` first; anything else is a path. Raises FileNotFoundError naming
    where it looked.
    """
    if not value:
        candidates = [share / "config" / DEFAULT_PARAMS_FILE]
    elif "/" not in value:
        candidates = [share / "config" / value, Path(value).resolve()]
    else:
        candidates = [Path(value).expanduser().resolve()]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"parameters file '{value}' not found (looked at {', '.join(map(str, candidates))}); "
        f"pass params_file:=<path to a YAML keyed '/**/htt_node:'>"
    )


def camera_remappings(image_topic: str, camera_info_topic: str) -> list[tuple[str, str]]:
    """Remap the node's ``image`` and ``camera_info`` inputs.

    The compressed stream follows: the node subscribes ``<resolved image>/compressed``.
    """
    if not image_topic or not camera_info_topic:
        raise ValueError("image_topic and camera_info_topic must not be empty")
    return [("image", image_topic), ("camera_info", camera_info_topic)]


def rviz_arguments(config: Path, fixed_frame: str) -> list[str]:
    """RViz's command line: the config file, and the fixed frame (the camera's optical frame,
    the frame id the outputs carry) instead of the one saved in the config."""
    if not fixed_frame:
        raise ValueError("rviz_fixed_frame must not be empty: give the camera's optical frame")
    return ["-d", str(config), "-f", fixed_frame]


def parse_bool(value: str) -> bool:
    """A launch argument's truth value ('true'/'false', '1'/'0', 'yes'/'no')."""
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off", ""):
        return False
    raise ValueError(f"'{value}' is not a boolean; use true or false")


def node_parameter_overrides(
    model: str,
    backend: str,
    use_sim_time: bool,
    autostart: str = "",
    image_transport: str = "",
) -> dict[str, object]:
    """Parameters set from launch arguments; empty ones keep the parameters file's value."""
    overrides: dict[str, object] = {"use_sim_time": use_sim_time}
    if autostart:
        overrides["autostart"] = parse_bool(autostart)
    if model:
        overrides["model"] = str(Path(model).expanduser().resolve())
    if backend:
        overrides["backend"] = backend
    if image_transport:
        overrides["image_transport"] = image_transport
    return overrides


def log_level(value: str) -> str:
    """A launch argument's log level, checked against the ones ROS knows."""
    lowered = value.strip().lower()
    if lowered not in LOG_LEVELS:
        raise ValueError(f"log_level '{value}' is not one of {', '.join(LOG_LEVELS)}")
    return lowered
