"""The built-in default model folder: what ``htt_node`` runs when no ``model`` is given.

No pretrained weights ship with the package (the authors' checkpoints and ImageNet weights are
downloads). ``htt-demo`` therefore makes a demo model folder once and caches it: an H2O-shaped
network (two hands, the H2O label set) with seeded random weights, exported at a reduced input
size so that a CPU keeps up with a camera. Its poses and labels carry no meaning; it shows the
whole path from camera to messages working. Give a trained model folder for real results.
"""

import os
from pathlib import Path

DEMO_INPUT_SIZE = (320, 180)


def default_model_dir() -> Path:
    """``$HTT_ROS_HOME/models/demo`` (default ``~/.cache/htt_ros/models/demo``)."""
    home = Path(os.environ.get("HTT_ROS_HOME", Path.home() / ".cache" / "htt_ros"))
    return home.expanduser() / "models" / "demo"


def ensure_demo_model(folder: Path | None = None) -> Path:
    """The demo model folder, exported first if it does not exist yet (needs torch)."""
    folder = folder or default_model_dir()
    if (folder / "model.json").is_file():
        return folder
    try:
        import torch

        from htt_ros.export.onnx_export import export_model_folder
        from htt_ros.labels import H2O
        from htt_ros.model import HTT, HTTConfig, save_checkpoint
    except ImportError as error:
        raise RuntimeError(
            f"making the demo model needs torch ({error}); pip install 'ros-htt-ros[torch]' or "
            f"give a model folder"
        ) from error
    torch.manual_seed(0)
    net = HTT(HTTConfig.for_dataset("h2o"), labels=H2O)
    folder.parent.mkdir(parents=True, exist_ok=True)
    checkpoint = folder.parent / "demo_random_weights.pth"
    save_checkpoint(checkpoint, net)
    staging = folder.with_name(folder.name + ".partial")
    export_model_folder(checkpoint, staging, input_size=DEMO_INPUT_SIZE)
    staging.rename(folder)
    return folder
