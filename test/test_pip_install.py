"""`pip install .` put a complete htt_ros into this environment's prefix."""

import sys
from pathlib import Path

import pytest
from install_checks import check_prefix, minimal_env, tool_commands

pytestmark = [pytest.mark.ros, pytest.mark.slow]


def test_pip_install_tree_is_complete_and_runs(tmp_path: Path) -> None:
    prefix = Path(sys.prefix)
    if not (prefix / "share" / "htt_ros").is_dir():
        pytest.fail(f"htt_ros is not installed in {prefix}: run `pip install .` first")
    # The ROS wheels' bootstrapper finds the libraries; only the ament index needs the prefix.
    env = minimal_env(AMENT_PREFIX_PATH=str(prefix))
    check_prefix(prefix, env, str(prefix / "bin" / "python3"), tmp_path)
    # The same commands as pip console scripts, on the venv's PATH.
    for command in tool_commands():
        assert (prefix / "bin" / command).is_file(), f"{prefix}/bin/{command} missing"
