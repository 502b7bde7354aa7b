"""Shared test set-up: every process a test starts talks DDS on a private domain on loopback,
and runs this checkout's Python modules (the messages come from the installed package)."""

import atexit
import os
import random
import shutil
import tempfile
from pathlib import Path

# Before rclpy is imported anywhere: one domain per test session, traffic kept on this host.
os.environ.setdefault("ROS_DOMAIN_ID", str(random.Random(os.getpid()).randint(100, 200)))
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
# The built-in demo model lives under HTT_ROS_HOME: keep the tests' own, empty unless made.
os.environ["HTT_ROS_HOME"] = tempfile.mkdtemp(prefix="htt_ros_home_")
atexit.register(shutil.rmtree, os.environ["HTT_ROS_HOME"], ignore_errors=True)
_repo = str(Path(__file__).resolve().parents[1])
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [_repo, os.environ.get("PYTHONPATH")]))

# Under `colcon test` (CMakeLists.txt) the package is already built and installed: the tests
# that build or install it themselves would only redo that (and colcon test would recurse).
_INSTALL_TESTS = ["test_colcon_build.py", "test_pip_install.py"]
collect_ignore = _INSTALL_TESTS if os.environ.get("HTT_ROS_COLCON_TEST") else []
