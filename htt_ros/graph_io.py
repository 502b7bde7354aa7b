"""Tensor names of a model folder's two graphs, in their order; no torch.

The export names the graphs' inputs and outputs with these (htt_ros.model.graphs) and model.json
records them; the streaming pipeline feeds and reads the graphs by them.
"""

POSE_STEP_INPUTS = ("image", "prev_features", "valid")
POSE_STEP_OUTPUTS = ("feature", "pose_raw", "object_logits", "tokens")
ACTION_INPUTS = ("tokens", "valid")
ACTION_OUTPUTS = ("action_logits",)
