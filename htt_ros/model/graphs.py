"""The two inference graphs of a model folder, as torch modules ready for ONNX export.

``PoseStep`` is ResNet + block P + per-frame heads for one new frame: the ResNet runs on the new
frame only, the caller caches its ``feature`` and passes the previous t-1 features back in.
``ActionStep`` is block A + the action head over the last T tokens. Both keep TensorRT's rules
(those of its ONNX parser): the uint8 image is followed directly by a Cast, masks
stay bool (only Not/Concat/Where on them), and no attention row is ever fully masked.
"""

from __future__ import annotations

import torch
from torch import nn

from htt_ros.graph_io import ACTION_INPUTS, ACTION_OUTPUTS, POSE_STEP_INPUTS, POSE_STEP_OUTPUTS
from htt_ros.model.htt import HTT


class PoseStep(nn.Module):
    """One streaming step of ResNet + P.

    Inputs: ``image`` uint8 ``[1, H, W, 3]`` RGB; ``prev_features`` float32 ``[t-1, 512]``, the
    cached features of the window's other frames, oldest first; ``valid`` bool ``[t]``, validity
    of the window positions, real frames first (position 0 is treated as valid whatever is
    passed). The new frame's feature takes the last valid position (the last position when all
    are valid): in a partial window, real frames at 0..k-1 and padding after them as the authors
    lay it out, the new frame is frame k-1 and ``prev_features[:k-1]`` hold the others, so the
    ResNet still runs once per frame. Outputs: ``feature [1, 512]`` (cache it), and for every
    position of the window ``pose_raw [t, J, 3]``, ``object_logits [t, O]`` and ``tokens
    [t, 512]``.
    """

    input_names = POSE_STEP_INPUTS
    output_names = POSE_STEP_OUTPUTS

    def __init__(self, net: HTT) -> None:
        super().__init__()
        self.net = net

    def forward(
        self, image: torch.Tensor, prev_features: torch.Tensor, valid: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        x = image.float()  # the graph's first op: Cast uint8 -> float (TensorRT needs it first)
        x = (x / 255.0 - 0.5).permute(0, 3, 1, 2)  # [1, 3, H, W], the authors' normalisation
        feature = self.net.trunk(x)  # [1, 512]
        window = torch.cat([prev_features, feature], dim=0)  # [t, 512]
        later = torch.cat([valid[1:], torch.zeros_like(valid[:1])])  # is a later one valid?
        newest = valid & ~later  # the last valid position (bool ops only: TensorRT)
        window = torch.where(newest[:, None], feature, window)
        pout = self.net.pose_block(window[None], valid[None])[0]  # [t, 512]
        heads = self.net.frame_heads(pout)
        return feature, heads["pose_raw"], heads["object_logits"], heads["tokens"]


class ActionStep(nn.Module):
    """Block A: ``tokens`` float32 ``[T, 512]`` and ``valid`` bool ``[T]`` -> ``action_logits
    [A]``."""

    input_names = ACTION_INPUTS
    output_names = ACTION_OUTPUTS

    def __init__(self, net: HTT) -> None:
        super().__init__()
        self.net = net

    def forward(self, tokens: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        return self.net.action_block(tokens[None], valid[None])[0]


class Trunk(nn.Module):
    """The bare ResNet-18 trunk, ``image`` uint8 ``[B, H, W, 3]`` -> ``feature [B, 512]``: the
    benchmark's yardstick for what one frame must cost at least."""

    input_names = ("image",)
    output_names = ("feature",)

    def __init__(self, net: HTT) -> None:
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.net.trunk((image.float() / 255.0 - 0.5).permute(0, 3, 1, 2))


class NaiveWindow(nn.Module):
    """ResNet + P on a whole window without a feature cache: ``images`` uint8 ``[t, H, W, 3]``
    and ``valid [t]`` -> ``pose_raw``, ``object_logits``, ``tokens``. The benchmark's naive
    pipeline runs it every frame, so each frame goes through the ResNet t times."""

    input_names = ("images", "valid")
    output_names = ("pose_raw", "object_logits", "tokens")

    def __init__(self, net: HTT) -> None:
        super().__init__()
        self.net = net

    def forward(
        self, images: torch.Tensor, valid: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        features = self.net.trunk((images.float() / 255.0 - 0.5).permute(0, 3, 1, 2))
        heads = self.net.frame_heads(self.net.pose_block(features[None], valid[None])[0])
        return heads["pose_raw"], heads["object_logits"], heads["tokens"]
