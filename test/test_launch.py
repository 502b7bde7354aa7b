"""launch/htt.launch.py and the logic it delegates to htt_ros.ros.launch_support.

The real ROS 2 `launch` packages are not on PyPI. Where they are importable the file is loaded and
its description generated for real; everywhere, it also runs against a small recording stand-in
for `launch`/`launch_ros` so that every line of it executes in CI.
"""

import importlib.util
import sys
import types
from pathlib import Path

import pytest

from htt_ros.ros import launch_support

REPO = Path(__file__).resolve().parents[1]
LAUNCH_FILE = REPO / "launch" / "htt.launch.py"


def load_launch_module() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("htt_launch", LAUNCH_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Recorded:
    """Stands in for a launch class: keeps its constructor arguments."""

    def __init__(self, *args, **kwargs) -> None:
        self.args, self.kwargs = args, kwargs


class FakeContext:
    def __init__(self, values: dict[str, str]) -> None:
        self.values = values


def fake_launch_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    class LaunchConfiguration(Recorded):
        def perform(self, context: FakeContext) -> str:
            return context.values[self.args[0]]

    modules = {
        "launch": {"LaunchDescription": type("LaunchDescription", (Recorded,), {})},
        "launch.actions": {
            "DeclareLaunchArgument": type("DeclareLaunchArgument", (Recorded,), {}),
            "OpaqueFunction": type("OpaqueFunction", (Recorded,), {}),
        },
        "launch.substitutions": {"LaunchConfiguration": LaunchConfiguration},
        "launch_ros": {},
        "launch_ros.actions": {
            "Node": type("Node", (Recorded,), {}),
            "LifecycleNode": type("LifecycleNode", (Recorded,), {}),
        },
    }
    for name, attributes in modules.items():
        module = types.ModuleType(name)
        module.__dict__.update(attributes)
        monkeypatch.setitem(sys.modules, name, module)


def launch_with(monkeypatch: pytest.MonkeyPatch, **arguments: str) -> list[Recorded]:
    """Generate the description, then run its OpaqueFunction with ``arguments`` over defaults."""
    fake_launch_modules(monkeypatch)
    monkeypatch.setattr(launch_support, "package_share", lambda: REPO)
    description = load_launch_module().generate_launch_description()
    *declared, opaque = description.args[0]
    values = {d.args[0]: d.kwargs["default_value"] for d in declared} | arguments
    return opaque.kwargs["function"](FakeContext(values))


def test_launch_file_declares_its_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_launch_modules(monkeypatch)
    description = load_launch_module().generate_launch_description()
    *declared, _ = description.args[0]
    names = {d.args[0] for d in declared}
    assert {
        "params_file",
        "namespace",
        "image_topic",
        "camera_info_topic",
        "use_sim_time",
        "model",
        "backend",
        "rviz",
        "log_level",
        "respawn",
        "autostart",
        "image_transport",
        "rviz_fixed_frame",
    } <= names
    assert all(d.kwargs["description"] for d in declared)


def test_launch_defaults_start_one_node_with_package_parameters(monkeypatch) -> None:
    (node,) = launch_with(monkeypatch)
    assert node.kwargs["package"] == "htt_ros" and node.kwargs["executable"] == "htt_node"
    params_file, overrides = node.kwargs["parameters"]
    assert params_file == str(REPO / "config" / "htt.yaml")
    assert overrides == {"use_sim_time": False}
    assert ("image", "/camera/image_raw") in node.kwargs["remappings"]
    assert node.kwargs["ros_arguments"] == ["--log-level", "info"]
    assert node.kwargs["respawn"] is False


def test_launch_arguments_reach_the_node_and_rviz(monkeypatch, tmp_path: Path) -> None:
    params = tmp_path / "mine.yaml"
    params.write_text("/**:\n  ros__parameters: {}\n")
    node, rviz = launch_with(
        monkeypatch,
        params_file=str(params),
        namespace="left_cam",
        image_topic="/cam/left",
        camera_info_topic="/cam/left/info",
        model=str(tmp_path),
        backend="torch",
        use_sim_time="true",
        rviz="true",
        log_level="DEBUG",
        respawn="true",
        autostart="false",
        image_transport="compressed",
        rviz_fixed_frame="left_cam_optical_frame",
    )
    assert node.kwargs["namespace"] == "left_cam"
    assert node.kwargs["ros_arguments"] == ["--log-level", "debug"]
    assert node.kwargs["respawn"] is True
    assert node.kwargs["parameters"] == [
        str(params),
        {
            "use_sim_time": True,
            "autostart": False,
            "model": str(tmp_path),
            "backend": "torch",
            "image_transport": "compressed",
        },
    ]
    assert node.kwargs["remappings"] == [("image", "/cam/left"), ("camera_info", "/cam/left/info")]
    assert rviz.kwargs["executable"] == "rviz2"
    assert rviz.kwargs["arguments"] == [
        "-d",
        str(REPO / "config" / "htt.rviz"),
        "-f",
        "left_cam_optical_frame",
    ]


def test_params_file_resolution(tmp_path: Path) -> None:
    share = tmp_path / "share"
    (share / "config").mkdir(parents=True)
    (share / "config" / "htt.yaml").write_text("{}")
    (share / "config" / "other.yaml").write_text("{}")
    assert launch_support.resolve_params_file("", share) == share / "config" / "htt.yaml"
    assert launch_support.resolve_params_file("other.yaml", share) == share / "config/other.yaml"
    with pytest.raises(FileNotFoundError, match="params_file:="):
        launch_support.resolve_params_file(str(tmp_path / "missing.yaml"), share)


@pytest.mark.parametrize(
    ("text", "value"), [("true", True), ("False", False), ("1", True), ("no", False), ("", False)]
)
def test_parse_bool(text: str, value: bool) -> None:
    assert launch_support.parse_bool(text) is value


def test_parse_bool_rejects_other_words() -> None:
    with pytest.raises(ValueError, match="use true or false"):
        launch_support.parse_bool("maybe")


def test_unknown_log_level_is_rejected() -> None:
    with pytest.raises(ValueError, match="not one of debug, info"):
        launch_support.log_level("verbose")


def test_empty_topics_are_rejected() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        launch_support.camera_remappings("", "/camera_info")


def test_real_launch_loads_the_file() -> None:
    launch = pytest.importorskip("launch", reason="ROS 2 launch is not installed (no PyPI wheel)")
    if not hasattr(launch, "LaunchDescription"):
        pytest.skip("the 'launch' module here is not ROS 2 launch")
    description = load_launch_module().generate_launch_description()
    assert isinstance(description, launch.LaunchDescription)
    assert {a.name for a in description.get_launch_arguments()} >= {"params_file", "namespace"}
