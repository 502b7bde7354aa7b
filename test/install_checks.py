"""Checks shared by the pip and colcon install tests: a prefix holds a usable htt_ros."""

import os
import subprocess
import time
from pathlib import Path

import rclpy
from dependency_coverage import requirement_lines, run_dependencies, third_party_imports, uncovered
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.node import Node

from htt_ros.subprocesses import interrupt

REPO = Path(__file__).resolve().parents[1]
SHARE_FILES = ("package.xml", "launch/htt.launch.py", "config/htt.yaml", "config/htt.rviz")
MESSAGES = ("Action", "ClassScore", "Hand", "HandLabels", "HandPoses", "ObjectClass", "Pixel")
NODES = ("htt_node", "synthetic_camera")


def tool_commands() -> list[str]:
    """The commands of htt_ros/tools/: module htt_<name>.py is the command htt-<name>."""
    tools = (REPO / "htt_ros" / "tools").glob("htt_*.py")
    return sorted(path.stem.replace("_", "-") for path in tools)


def minimal_env(**extra: str) -> dict[str, str]:
    """What a robot's shell has at least: HOME and the DDS domain settings, nothing else."""
    env = {"HOME": os.environ.get("HOME", "/root")}
    for key in ("ROS_DOMAIN_ID", "ROS_AUTOMATIC_DISCOVERY_RANGE"):
        env[key] = os.environ[key]
    env.update(extra)
    return env


def check_prefix(prefix: Path, env: dict[str, str], python: str, workdir: Path) -> None:
    """Assert that ``prefix`` holds htt_ros in full and that ``env`` makes it usable.

    ``workdir`` lies outside the checkout, so the source folder cannot shadow the install.
    """
    share = prefix / "share" / "htt_ros"
    for name in SHARE_FILES:
        assert (share / name).is_file(), f"{share / name} missing"
    for name in MESSAGES:
        installed = (share / "msg" / f"{name}.msg").read_text()
        assert installed == (REPO / "msg" / f"{name}.msg").read_text(), (
            f"{share}/msg/{name}.msg differs from the checkout: reinstall (pip install .)"
        )
    assert (prefix / "share/ament_index/resource_index/packages/htt_ros").is_file()

    probe = (
        "import htt_ros, htt_ros.msg, htt_ros.ros.parameters\n"
        "from ament_index_python.packages import get_package_share_directory as share\n"
        f"msgs = [getattr(htt_ros.msg, n)() for n in {MESSAGES!r}]\n"
        "print(htt_ros.__file__); print(share('htt_ros')); print(htt_ros.__version__)\n"
    )
    result = subprocess.run(
        [python, "-c", probe], cwd=workdir, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    module_file, share_dir, version = result.stdout.split()
    assert Path(module_file).is_relative_to(prefix), module_file
    assert Path(share_dir) == share
    assert f"<version>{version}</version>" in (share / "package.xml").read_text()
    installed = Path(module_file).parent
    problems = uncovered(third_party_imports([installed]), run_dependencies(), requirement_lines())
    assert not problems, "\n".join(problems)

    executables = prefix / "lib" / "htt_ros"
    assert sorted(p.name for p in executables.iterdir()) == sorted([*NODES, *tool_commands()])
    check_tools_answer_help(executables, env, workdir)
    executable = executables / "htt_node"
    assert os.access(executable, os.X_OK), f"{executable} is not executable"
    check_node_runs(executable, env, workdir)


def check_tools_answer_help(executables: Path, env: dict[str, str], workdir: Path) -> None:
    """Every command installed for ros2 run starts and prints its usage under its own name."""
    for command in tool_commands():
        result = subprocess.run(
            [str(executables / command), "--help"],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, f"{command} --help: {result.stderr[-2000:]}"
        assert result.stdout.startswith(f"usage: {command} "), result.stdout[:200]


def check_node_runs(executable: Path, env: dict[str, str], workdir: Path) -> None:
    """The executable starts a node that publishes diagnostics and exits 0 on Ctrl-C."""
    node_name = f"htt_probe_{os.getpid()}"
    process = subprocess.Popen(
        [str(executable), "--ros-args", "-r", f"__node:={node_name}"],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen: list[DiagnosticArray] = []
    try:
        with rclpy.init():
            listener = Node("install_check_listener")
            listener.create_subscription(
                DiagnosticArray,
                "/diagnostics",
                lambda msg: seen.append(msg) if node_name in msg.status[0].name else None,
                10,
            )
            deadline = time.monotonic() + 30.0
            while not seen and time.monotonic() < deadline and process.poll() is None:
                rclpy.spin_once(listener, timeout_sec=0.2)
        assert seen, f"no diagnostics from {executable}; output:\n{interrupt(process)}"
    finally:
        output = interrupt(process)
    assert process.returncode == 0, f"exit code {process.returncode}; output:\n{output}"
    assert "no model folder at" in output, output  # no model here: it waits, unconfigured
