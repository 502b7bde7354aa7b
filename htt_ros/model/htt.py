"""The Hierarchical Temporal Transformer (Wen et al., CVPR 2023), built to the authors' code.

Per frame a ResNet-18 feature; block P, a transformer over aligned windows of t frames, refines
it; from P's output a pose MLP predicts raw 2.5D joints and a linear branch the object class. The
per-frame token of block A mixes P's output, the raw 2D pose and the object probabilities; block
A runs over T tokens after a learnable action token, whose output gives the action class.

Shapes: B clips, L frames per clip (a multiple of t, at most T), N = B * L frames, D = 512,
J joints, O objects, A actions.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from htt_ros.labels import LabelSet
from htt_ros.model.config import HTTConfig
from htt_ros.model.decoding import decode_25d
from htt_ros.model.transformer import Encoder
from htt_ros.model.trunk import ResNetTrunk


class HTT(nn.Module):
    """HTT network. Build with ``HTT(HTTConfig.for_dataset("fpha"))`` or load a checkpoint with
    :func:`htt_ros.model.checkpoint.load_network`. ``labels`` (optional) travels with the network
    for export."""

    def __init__(self, config: HTTConfig, labels: LabelSet | None = None) -> None:
        super().__init__()
        self.config = config
        self.labels = labels
        c, d = config, config.d_model
        self.trunk = ResNetTrunk()
        self.pose_encoder = Encoder(d, c.num_heads, c.dim_feedforward, c.pose_layers, c.window)
        self.pose_head = nn.Sequential(  # authors' image_to_hand_pose.mlp
            nn.Linear(d, d),
            nn.LeakyReLU(0.01),
            nn.Linear(d, d),
            nn.LeakyReLU(0.01),
            nn.Linear(d, 3 * c.num_joints),
        )
        self.object_embed = nn.Linear(d, d)
        self.object_classifier = nn.Linear(d, c.num_objects)
        self.pose_to_token = nn.Linear(2 * c.num_joints, d)  # raw (tx, ty) only, no depth
        self.object_to_token = nn.Linear(c.num_objects, d)
        self.token_mix = nn.Linear(3 * d, d)
        self.action_token = nn.Parameter(torch.randn(1, 1, d))
        self.action_encoder = Encoder(
            d, c.num_heads, c.dim_feedforward, c.action_layers, c.clip_length + 1
        )
        self.action_classifier = nn.Linear(d, c.num_actions)

    # -- blocks, in forward order --------------------------------------------------------------

    def pose_block(self, features: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """Block P. features ``[W, t, D]`` (W windows), valid ``[W, t]`` bool -> ``[W, t, D]``.

        Padded frames are masked as keys, except the first frame of each window, which is always
        a valid key (as in the authors' code) so no attention row is fully masked.
        """
        padded = ~valid
        padded = torch.cat([torch.zeros_like(padded[:, :1]), padded[:, 1:]], dim=1)
        return self.pose_encoder(features, padded)

    def frame_heads(self, pout: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-frame heads on P's output ``[N, D]``: ``pose_raw [N, J, 3]`` raw (tx, ty, s),
        ``object_logits [N, O]`` and ``tokens [N, D]``, block A's per-frame input."""
        N = pout.shape[0]
        pose_raw = self.pose_head(pout).view(N, self.config.num_joints, 3)
        object_logits = self.object_classifier(self.object_embed(pout))
        pose_emb = self.pose_to_token(pose_raw[..., :2].reshape(N, -1))  # (j0x, j0y, j1x, ...)
        object_emb = self.object_to_token(object_logits.softmax(dim=-1))
        tokens = self.token_mix(torch.cat([pout, pose_emb, object_emb], dim=-1))  # [N, D]
        return {"pose_raw": pose_raw, "object_logits": object_logits, "tokens": tokens}

    def action_block(self, tokens: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """Block A and the action head. tokens ``[B, L, D]``, valid ``[B, L]`` bool -> action
        logits ``[B, A]``. The action token (position 0) is never masked."""
        B = tokens.shape[0]
        x = torch.cat([self.action_token.expand(B, -1, -1), tokens], dim=1)  # [B, 1+L, D]
        padded = torch.cat([torch.zeros_like(valid[:, :1]), ~valid], dim=1)  # [B, 1+L]
        return self.action_classifier(self.action_encoder(x, padded)[:, 0])

    def forward(self, images: torch.Tensor, valid: torch.Tensor) -> dict[str, torch.Tensor]:
        """Training forward pass.

        Args:
            images: ``[B, L, 3, H, W]`` float, normalised ``uint8 / 255 - 0.5``.
            valid: ``[B, L]`` bool, False for padded frames.

        Returns:
            ``pose_raw [B, L, J, 3]``, ``object_logits [B, L, O]``, ``tokens [B, L, D]``,
            ``action_logits [B, A]``.
        """
        B, L = valid.shape
        t = self.config.window
        if L % t or self.config.clip_length < L:
            raise ValueError(
                f"clip of {L} frames: need a multiple of t={t} and at most T="
                f"{self.config.clip_length}; pad as the authors do (repeat the last frame with "
                f"valid=False)"
            )
        valid = valid.bool()
        features = self.trunk(images.flatten(0, 1))  # [N, D]
        pout = self.pose_block(features.view(-1, t, features.shape[-1]), valid.view(-1, t))
        out = self.frame_heads(pout.flatten(0, 1))  # per-frame, leading dim N
        out = {k: v.view(B, L, *v.shape[1:]) for k, v in out.items()}
        out["action_logits"] = self.action_block(out["tokens"], valid)
        return out

    @torch.no_grad()
    def forward_clip(
        self, images: torch.Tensor, intrinsics: torch.Tensor, valid: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """Inference on one clip: P over aligned t-frame windows, A over the clip.

        Args:
            images: ``[L, 3, H, W]`` float, normalised ``uint8 / 255 - 0.5`` (L = T normally).
            intrinsics: ``[L, 3, 3]`` camera matrices of the frames scaled to the 480x270
                decoding frame (:data:`htt_ros.geometry.POSE_FRAME`).
            valid: ``[L]`` bool, False for padded frames.

        Returns:
            ``joints2d [L, J, 2]`` px (decoding frame), ``depth [L, J]`` m, ``joints3d
            [L, J, 3]`` m (camera frame), ``object_probs [L, O]``, ``action_probs [A]``, and
            the raw ``pose_raw [L, J, 3]``, ``object_logits [L, O]``, ``tokens [L, D]``,
            ``action_logits [A]``.
        """
        out = {k: v[0] for k, v in self(images[None], valid[None]).items()}
        joints2d, depth, joints3d = decode_25d(out["pose_raw"], intrinsics)
        out.update(
            joints2d=joints2d,
            depth=depth,
            joints3d=joints3d,
            object_probs=F.softmax(out["object_logits"], dim=-1),
            action_probs=F.softmax(out["action_logits"], dim=-1),
        )
        return out
