"""`colcon build` in a workspace, as on a robot, gives an install space that works."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from install_checks import REPO, check_prefix, minimal_env

pytestmark = [pytest.mark.ros, pytest.mark.slow]
NOT_SOURCE = ("build", "install", "log", ".venv", ".git", "__pycache__", ".pytest_cache", "runs")


def sourced_env(setup: Path, base: dict[str, str]) -> dict[str, str]:
    """The environment after `source <setup>` in bash."""
    dump = subprocess.run(
        ["bash", "-c", f"source '{setup}' && env -0"],
        env=base,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()
    return dict(line.split("=", 1) for line in dump.split("\0") if "=" in line)


@pytest.mark.timeout(900)  # colcon build is allowed 600 s
def test_colcon_build_gives_a_working_install_space(tmp_path: Path) -> None:
    colcon = Path(sys.prefix) / "bin" / "colcon"
    assert colcon.exists(), "colcon missing: pip install colcon-common-extensions (dev extra)"
    workspace = tmp_path / "ws"
    shutil.copytree(
        REPO, workspace / "src" / "htt_ros", ignore=shutil.ignore_patterns(*NOT_SOURCE)
    )

    # On the pip wheels the underlay is the venv, and the wheels need the include-path fix.
    underlay = {**os.environ, "AMENT_PREFIX_PATH": sys.prefix}
    fix = workspace / "src" / "htt_ros" / "cmake" / "ros_wheels_fix.cmake"
    build = subprocess.run(
        [
            str(colcon),
            "build",
            "--event-handlers",
            "console_cohesion+",
            "--cmake-args",
            f"-DCMAKE_PROJECT_INCLUDE={fix}",
            "-DBUILD_TESTING=OFF",
        ],
        cwd=workspace,
        env=underlay,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]

    install = workspace / "install"
    base = minimal_env(AMENT_PREFIX_PATH=sys.prefix, PATH=os.environ["PATH"])
    env = sourced_env(install / "setup.bash", base)
    python = shutil.which("python3", path=env["PATH"])
    check_prefix(install / "htt_ros", env, python, tmp_path)
