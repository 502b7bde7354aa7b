"""Tensor names of a model folder's two graphs, in their order, and pose_step's feeds; no torch.

The export names the graphs' inputs and outputs with these (htt_ros.model.graphs) and model.json
records them; the streaming pipeline feeds and reads the graphs by them.
"""

import numpy as np

POSE_STEP_INPUTS = ("image", "prev_features", "valid")
POSE_STEP_OUTPUTS = ("feature", "pose_raw", "object_logits", "tokens")
ACTION_INPUTS = ("tokens", "valid")
ACTION_OUTPUTS = ("action_logits",)


def pose_step_feeds(
    image: np.ndarray, earlier: list[np.ndarray], t: int, width: int
) -> dict[str, np.ndarray]:
    """pose_step's feeds for the new frame ``image`` after the ``earlier`` features of its
    window (0 to t-1 of ``width``, oldest first): real frames first, masked padding after them
    (the authors' layout); the graph puts the new frame's feature after the earlier ones."""
    k = len(earlier) + 1
    prev = np.zeros((t - 1, width), np.float32)
    if earlier:
        prev[: k - 1] = np.stack(earlier)
    return dict(zip(POSE_STEP_INPUTS, (image, prev, np.arange(t) < k), strict=True))
