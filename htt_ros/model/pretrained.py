"""ImageNet initialisation of the ResNet-18 trunk, from the local torch hub cache only.

The authors start from torchvision's ImageNet ResNet-18 (their ``resnet18-5c106cde.pth`` holds the
same weights as torchvision's ``IMAGENET1K_V1`` file). Robots and CI have no network, so this
never downloads: the file must already be in the cache, otherwise train from scratch explicitly.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torchvision.models import ResNet18_Weights

from htt_ros.labels import LabelSet
from htt_ros.model.config import HTTConfig
from htt_ros.model.htt import HTT
from htt_ros.model.trunk import ResNetTrunk

WEIGHTS = ResNet18_Weights.IMAGENET1K_V1


class PretrainedWeightsMissing(FileNotFoundError):
    """The ImageNet ResNet-18 file is not in the local torch hub cache."""


def cached_weights_path() -> Path:
    """Where torchvision keeps the ImageNet ResNet-18 file (``$TORCH_HOME/hub/checkpoints``)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(WEIGHTS.url)


def load_imagenet_weights(trunk: ResNetTrunk) -> None:
    """Copy the cached ImageNet ResNet-18 weights (fc included) into ``trunk``.

    Raises :class:`PretrainedWeightsMissing` naming the expected path, the URL to fetch it from
    on a machine with network access, and the from-scratch alternative.
    """
    path = cached_weights_path()
    if not path.is_file():
        raise PretrainedWeightsMissing(
            f"ImageNet ResNet-18 weights not found at {path}. Nothing is downloaded here: copy "
            f"{WEIGHTS.url} to that path (or set TORCH_HOME), or train from scratch with "
            f"--from-scratch (pretrained=False)"
        )
    trunk.load_state_dict(WEIGHTS.get_state_dict(progress=False, check_hash=True))


def build_htt(config: HTTConfig, labels: LabelSet | None = None, pretrained: bool = True) -> HTT:
    """A new network for training: ImageNet trunk if ``pretrained`` (raises
    :class:`PretrainedWeightsMissing` when not cached), random trunk otherwise."""
    net = HTT(config, labels=labels)
    if pretrained:
        load_imagenet_weights(net.trunk)
    return net
