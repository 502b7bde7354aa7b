"""A robot install (rosdep + the README's pip line) has every module the package imports, and
every command has one name in the tools folder, pyproject's scripts and lib/htt_ros/."""

import subprocess
import sys
import tomllib
from pathlib import Path

from dependency_coverage import (
    OPTIONAL,
    PIP_ONLY,
    PYPROJECT,
    REPO,
    pyproject_requirements,
    requirement_lines,
    requirement_name,
    run_dependencies,
    third_party_imports,
    uncovered,
)

# What CMakeLists.txt installs: the Python package and the launch files.
INSTALLED_SOURCES = [REPO / "htt_ros", REPO / "launch"]


def test_every_import_of_the_installed_modules_is_declared_for_robots() -> None:
    imports = third_party_imports(INSTALLED_SOURCES)
    assert {"cv2", "rclpy", "rosbags", "torch"} <= set(imports), sorted(imports)
    problems = uncovered(imports, run_dependencies(), requirement_lines())
    assert not problems, "\n".join(problems)


def test_an_undeclared_import_is_reported(tmp_path: Path) -> None:
    module = tmp_path / "htt_ros" / "new.py"
    module.parent.mkdir()
    module.write_text(
        "import importlib\nimport scipy.ndimage\nfrom cv2 import resize\n"
        "def lazy():\n    return importlib.import_module('rosbags.rosbag2')\n"
    )
    problems = uncovered(third_party_imports([module.parent]), {"python3-numpy"}, {})
    assert len(problems) == 3, problems
    assert problems[0].startswith("cv2 (htt_ros/new.py): add <exec_depend>python3-opencv")
    assert "requirements.txt" in problems[1] and problems[1].startswith("rosbags")
    assert problems[2].startswith("scipy (htt_ros/new.py): add an <exec_depend> with its rosdep")


def test_requirements_file_repeats_pyprojects_requirements() -> None:
    """requirements.txt is the robot's pip list; each line is pyproject's requirement verbatim."""
    lines = requirement_lines()
    assert set(lines) == set(PIP_ONLY.values())
    pyproject_lines = {line for group in pyproject_requirements().values() for line in group}
    for line in lines.values():
        assert line in pyproject_lines, f"requirements.txt: {line!r} is not in pyproject.toml"


def test_optional_modules_are_pyprojects_extras() -> None:
    groups = pyproject_requirements()
    for module, (distribution, extra) in OPTIONAL.items():
        if distribution is not None:
            names = {requirement_name(line) for line in groups[extra]}
            assert distribution in names, f"{module}: {distribution} not in the {extra} extra"


def test_node_starts_without_the_optional_backends_modules() -> None:
    """The node's start-up imports none of the optional modules (the backends load them)."""
    probe = (
        "import sys, htt_ros.ros.htt_node\n"
        f"print(' '.join(sorted(n for n in {sorted(OPTIONAL)!r} if n in sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"htt_node imports at start: {result.stdout}"


def tool_modules() -> list[str]:
    return sorted(path.stem for path in (REPO / "htt_ros" / "tools").glob("htt_*.py"))


def test_every_command_has_one_name_everywhere() -> None:
    """htt_ros/tools/htt_<name>.py is the console script htt-<name> calling its main()."""
    scripts = tomllib.loads(PYPROJECT.read_text())["project"]["scripts"]
    expected = {m.replace("_", "-"): f"htt_ros.tools.{m}:main" for m in tool_modules()}
    assert scripts == expected
