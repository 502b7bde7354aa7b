"""Shared helpers of the model tests: authors'-layout state dicts and checkpoint files.

The authors' key names and shapes (their released checkpoints, fylwen/HTT) are written out
here independently of htt_ros's own mapping code.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torchvision

D, FF = 512, 2048


def _encoder_shapes(prefix: str) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {}
    for i in range(2):
        p = f"{prefix}.encoder.layers.{i}."
        shapes |= {
            p + "self_attn.in_proj_weight": (3 * D, D),
            p + "self_attn.in_proj_bias": (3 * D,),
            p + "self_attn.out_proj.weight": (D, D),
            p + "self_attn.out_proj.bias": (D,),
            p + "linear1.weight": (FF, D),
            p + "linear1.bias": (FF,),
            p + "linear2.weight": (D, FF),
            p + "linear2.bias": (D,),
            p + "norm1.weight": (D,),
            p + "norm1.bias": (D,),
            p + "norm2.weight": (D,),
            p + "norm2.bias": (D,),
        }
    return shapes | {f"{prefix}.encoder.norm.weight": (D,), f"{prefix}.encoder.norm.bias": (D,)}


def authors_shapes(joints: int, objects: int, actions: int) -> dict[str, tuple[int, ...]]:
    """The 194 keys of an authors' state dict, in their order, with their shapes."""
    resnet = {
        f"meshregnet.base_net.{k}": tuple(v.shape)
        for k, v in torchvision.models.resnet18().state_dict().items()
    }
    return (
        {"action_token": (1, 1, D)}
        | resnet
        | {"transformer_pe.pe": (1, 5000, D)}
        | _encoder_shapes("transformer_pose")
        | {
            "image_to_hand_pose.mlp.0.weight": (D, D),
            "image_to_hand_pose.mlp.0.bias": (D,),
            "image_to_hand_pose.mlp.2.weight": (D, D),
            "image_to_hand_pose.mlp.2.bias": (D,),
            "image_to_hand_pose.mlp.4.weight": (3 * joints, D),
            "image_to_hand_pose.mlp.4.bias": (3 * joints,),
            "image_to_olabel_embed.weight": (D, D),
            "image_to_olabel_embed.bias": (D,),
            "obj_classification.classifier.weight": (objects, D),
            "obj_classification.classifier.bias": (objects,),
            "hand_pose3d_to_action_input.weight": (D, 2 * joints),
            "hand_pose3d_to_action_input.bias": (D,),
            "olabel_to_action_input.weight": (D, objects),
            "olabel_to_action_input.bias": (D,),
            "concat_to_action_input.weight": (D, 3 * D),
            "concat_to_action_input.bias": (D,),
        }
        | _encoder_shapes("transformer_action")
        | {
            "action_classification.classifier.weight": (actions, D),
            "action_classification.classifier.bias": (actions,),
        }
    )


SIZES = {"fpha": (21, 26, 45), "h2o": (42, 8, 36)}


def authors_state_dict(dataset: str, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random weights in the authors' layout (small values so activations stay tame)."""
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in authors_shapes(*SIZES[dataset]).items():
        if key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(1000)
        elif key.endswith("running_var"):
            state[key] = 0.5 + torch.rand(shape, generator=gen)
        elif key.endswith(("norm1.weight", "norm2.weight", "norm.weight", "bn1.weight")):
            state[key] = 1.0 + 0.1 * torch.randn(shape, generator=gen)
        else:
            fan_in = shape[-1] if len(shape) > 1 else 1
            scale = 0.5 / fan_in**0.5 if len(shape) > 1 else 0.02
            state[key] = scale * torch.randn(shape, generator=gen)
    return state


def write_authors_checkpoint(path: Path, state: dict[str, torch.Tensor], **extra: object) -> Path:
    """``torch.save`` in the authors' layout, with a real pickled StepLR holding a real Adam."""
    params = [torch.nn.Parameter(torch.randn(4, 3)), torch.nn.Parameter(torch.zeros(4))]
    optimizer = torch.optim.Adam(params, lr=3e-5, weight_decay=0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=15.0, gamma=0.5)
    params[0].sum().backward()
    optimizer.step()
    scheduler.step()
    torch.save(
        {
            "epoch": 45,
            "network": "HTT",
            "state_dict": state,
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler,
        }
        | extra,
        path,
    )
    return path
