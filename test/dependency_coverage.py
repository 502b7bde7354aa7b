"""Which third-party modules the installed package imports, and whether a robot install has them.

A colcon robot gets its Python libraries from ``rosdep install`` (package.xml) and the rest from
the one pip line of the README (requirements.txt). Every third-party import of the installed
modules must be covered by one of them, or be one of the optional backends' modules, which pip
users get as extras of pyproject.toml and the backends import only when selected.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE_XML = REPO / "package.xml"
REQUIREMENTS = REPO / "requirements.txt"
PYPROJECT = REPO / "pyproject.toml"

# Import name -> the rosdep key that provides it: Python libraries (ros/rosdistro
# rosdep/python.yaml), and what the generated messages (htt_ros/msg/) import. Other ROS packages
# (rclpy, sensor_msgs, launch, ...) are imported by their package name, which is their key.
PYTHON_ROSDEP_KEYS = {
    "cv2": "python3-opencv",
    "matplotlib": "python3-matplotlib",
    "numpy": "python3-numpy",
    "PIL": "python3-pil",
    "tqdm": "python3-tqdm",
    "yaml": "python3-yaml",
    "rosidl_generator_py": "rosidl_default_runtime",
    "rosidl_parser": "rosidl_default_runtime",
}
# Import name -> requirements.txt distribution (no plain rosdep key; pip on the robot).
PIP_ONLY = {"onnxruntime": "onnxruntime", "rosbags": "rosbags"}
# Optional backends' modules, imported only when that backend or tool runs: import name ->
# (distribution, pyproject extra), or (None, where it comes from) when no extra holds it.
OPTIONAL = {
    "torch": ("torch", "torch"),
    "torchvision": ("torchvision", "torch"),
    "onnx": ("onnx", "onnx"),
    "onnxconverter_common": ("onnxconverter-common", "tensorrt"),
    "cuda": ("cuda-python", "tensorrt"),
    "tensorrt": (None, "TensorRT comes with JetPack or NVIDIA's install"),
    "pycuda": (None, "used instead of cuda-python where it is installed"),
    "openvino": (None, "measured against ONNX Runtime by htt-bench where it is installed"),
}


def third_party_imports(roots: list[Path]) -> dict[str, set[str]]:
    """Top-level module name -> files importing it, for every .py under ``roots``.

    Counts ``import x``, ``from x import y`` anywhere in a file (also inside functions) and
    ``importlib.import_module("x")`` with a literal name; leaves out the standard library,
    relative imports and htt_ros itself.
    """
    found: dict[str, set[str]] = {}
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            for name in _imported_names(ast.parse(path.read_text(), str(path))):
                top = name.partition(".")[0]
                if top not in sys.stdlib_module_names and top not in ("htt_ros", "__future__"):
                    found.setdefault(top, set()).add(str(path.relative_to(root.parent)))
    return found


def _imported_names(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.append(node.args[0].value)
    return names


def run_dependencies(package_xml: Path = PACKAGE_XML) -> set[str]:
    """Keys of package.xml that are there at run time: <depend> and <exec_depend>."""
    root = ET.parse(package_xml).getroot()
    tags = ("depend", "exec_depend")
    return {element.text.strip() for tag in tags for element in root.iter(tag)}


def requirement_name(line: str) -> str:
    """The distribution a requirement line names (``rosbags>=0.10`` -> ``rosbags``)."""
    return re.split(r"[<>=!~\[; ]", line.strip(), maxsplit=1)[0].lower()


def requirement_lines(requirements: Path = REQUIREMENTS) -> dict[str, str]:
    """Distribution name -> its whole line, for each requirement of requirements.txt."""
    lines = (line.split("#", 1)[0].strip() for line in requirements.read_text().splitlines())
    return {requirement_name(line): line for line in lines if line}


def pyproject_requirements(pyproject: Path = PYPROJECT) -> dict[str, list[str]]:
    """``dependencies`` and each extra of pyproject.toml: group name -> requirement lines."""
    project = tomllib.loads(pyproject.read_text())["project"]
    return {"dependencies": project["dependencies"], **project["optional-dependencies"]}


def uncovered(
    imports: dict[str, set[str]],
    depends: set[str],
    requirements: dict[str, str],
) -> list[str]:
    """One line per imported module that neither package.xml nor requirements.txt provides."""
    problems = []
    for name, files in sorted(imports.items()):
        where = ", ".join(sorted(files)[:3])
        if name in OPTIONAL:
            continue
        if name in PIP_ONLY:
            if PIP_ONLY[name] not in requirements:
                problems.append(f"{name} ({where}): add {PIP_ONLY[name]} to requirements.txt")
        elif PYTHON_ROSDEP_KEYS.get(name, name) not in depends:
            key = PYTHON_ROSDEP_KEYS.get(name)
            problems.append(
                f"{name} ({where}): "
                + (
                    f"add <exec_depend>{key}</exec_depend> to package.xml"
                    if key
                    else "add an <exec_depend> with its rosdep key (ros/rosdistro rosdep/*.yaml; "
                    "a ROS package by its name) to package.xml and, for a Python library, the "
                    "key to PYTHON_ROSDEP_KEYS; without a key, a line in requirements.txt"
                )
            )
    return problems
