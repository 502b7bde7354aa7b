"""`colcon build` in a workspace, as on a robot, gives an install space that works, with every
command under install/lib/htt_ros/, and `colcon test` runs the pytest suite on it."""

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
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
    check_colcon_test_runs_pytest(colcon, workspace, underlay)


def check_colcon_test_runs_pytest(colcon: Path, workspace: Path, env: dict[str, str]) -> None:
    """`colcon test` runs the suite with pytest; here narrowed to one quick file."""
    quick = {**env, "PYTEST_ADDOPTS": "-k test_geometry"}
    test = subprocess.run(
        [str(colcon), "test", "--event-handlers", "console_cohesion+"],
        cwd=workspace,
        env=quick,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert test.returncode == 0, test.stdout[-4000:] + test.stderr[-4000:]
    results = subprocess.run(
        [str(colcon), "test-result", "--all"],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert results.returncode == 0, results.stdout + results.stderr
    junit = workspace / "build" / "htt_ros" / "test_results" / "htt_ros" / "pytest.xunit.xml"
    assert f"{junit.relative_to(workspace)}: " in results.stdout, results.stdout
    suite = ET.parse(junit).getroot().find("testsuite")
    tests, failures, errors = (int(suite.get(k)) for k in ("tests", "failures", "errors"))
    assert tests >= 4 and failures == errors == 0, results.stdout
    cases = {case.get("classname") for case in suite.iter("testcase")}
    assert all(name.startswith("htt_ros.test.test_geometry") for name in cases), cases
