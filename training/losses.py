"""HTT's training loss, as the authors' code computes it (fylwen/HTT, models/htt.py and
models/utils.py ``compute_hand_loss``).

With per-frame weights w = not_padding (padded frames excluded) and N frames:

    L_2d  = sum_f w_f sum_{j,xy} |u_hat - u| / (2 J sum w)     pixels of the 480x270 frame
    L_z   = sum_f w_f sum_j |Z_hat - Z| / (J sum w)             metres
    L_obj = sum_f w_f CE(object logits_f, object_f) / sum w     per frame
    L_act = mean over clips of CE(action logits, action)        per clip
    total = 1 * L_2d + 100 * L_z + 1 * L_obj + 1 * L_act        (weights configurable)

``sum w`` is replaced by 1 when every frame is padded. The 3D L1 (metres) is reported but is not
part of the total, as in the authors' code.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from htt_ros.data import SequenceDataset
from htt_ros.geometry import OFF_Z, POSE_FRAME, SCALE_FACTOR, TRANS_FACTOR
from htt_ros.model.decoding import decode_25d
from training.config import LossSection


def htt_loss(
    outputs: dict[str, torch.Tensor],
    batch: dict[str, torch.Tensor],
    weights: LossSection,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The weighted total and its named terms (detached).

    Args:
        outputs: :meth:`htt_ros.model.HTT.forward` output: ``pose_raw [B, L, J, 3]``,
            ``object_logits [B, L, O]``, ``action_logits [B, A]``.
        batch: ``intrinsics [B, L, 3, 3]`` and ``joints25d [B, L, J, 3]`` (u, v px, Z m) in
            the 480x270 decoding frame,
            ``joints3d [B, L, J, 3]`` m, ``object [B, L]``, ``action [B]``,
            ``not_padding [B, L]``.
        weights: loss weights.

    Returns:
        ``total`` (scalar) and ``{"loss_2d", "loss_z", "loss_3d", "loss_object",
        "loss_action", "loss"}``.
    """
    joints2d, depth, joints3d = decode_25d(outputs["pose_raw"], batch["intrinsics"])
    w = batch["not_padding"].flatten()  # [N]
    num_joints = joints2d.shape[-2]
    total_w = w.sum().clamp(min=1.0)
    target = batch["joints25d"]

    def frame_mean(error: torch.Tensor) -> torch.Tensor:
        """Weighted mean over real frames of per-frame sums ``[B, L, ...]`` of errors."""
        return (w * error.flatten(2).sum(-1).flatten()).sum() / total_w

    loss_2d = frame_mean((joints2d - target[..., :2]).abs()) / (2 * num_joints)
    loss_z = frame_mean((depth - target[..., 2]).abs()) / num_joints
    loss_3d = frame_mean((joints3d - batch["joints3d"]).abs()) / (3 * num_joints)
    object_ce = F.cross_entropy(
        outputs["object_logits"].flatten(0, 1), batch["object"].flatten(), reduction="none"
    )
    loss_object = (w * object_ce).sum() / total_w
    loss_action = F.cross_entropy(outputs["action_logits"], batch["action"])
    total = (
        weights.hand_2d * loss_2d
        + weights.hand_z * loss_z
        + weights.object * loss_object
        + weights.action * loss_action
    )
    terms = {
        "loss_2d": loss_2d,
        "loss_z": loss_z,
        "loss_3d": loss_3d,
        "loss_object": loss_object,
        "loss_action": loss_action,
        "loss": total,
    }
    return total, {k: v.detach() for k, v in terms.items()}


def mean_raw_pose(data: SequenceDataset) -> np.ndarray:
    """The raw 2.5D output ``[J, 3]`` (tx, ty, s) that decodes to the mean over every frame of
    ``data`` of the 2D joints (pixels of the 480x270 frames) and depths; the inverse of
    :func:`~htt_ros.model.decoding.decode_25d`, which is linear in (u, v, Z)."""
    width, height = POSE_FRAME
    raw = []
    for seq in data.sequences:
        uv = seq.joints2d - [width / 2.0, height / 2.0]  # [F, J, 2]
        fx = seq.intrinsics[0, 0]
        s = (seq.joints3d[..., 2:] - OFF_Z) / (fx * SCALE_FACTOR)  # [F, J, 1]
        raw.append(np.concatenate([uv / TRANS_FACTOR, s], axis=-1))
    return np.concatenate(raw).mean(axis=0)
