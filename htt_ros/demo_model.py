"""Where the built-in default model lives: what ``htt_node`` runs when no ``model`` is given.

No weights ship with the package (the authors' checkpoints and ImageNet weights are downloads).
The demo (``scripts/demo.sh``, ``python -m training.demo``) trains a model on synthetic data and
exports it here, so that afterwards the node and the launch file work without a ``model``.
"""

import os
from pathlib import Path


def default_model_dir() -> Path:
    """``$HTT_ROS_HOME/models/demo`` (default ``~/.cache/htt_ros/models/demo``)."""
    home = Path(os.environ.get("HTT_ROS_HOME", Path.home() / ".cache" / "htt_ros"))
    return home.expanduser() / "models" / "demo"
