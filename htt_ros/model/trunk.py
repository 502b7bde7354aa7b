"""Per-frame feature extractor: ResNet-18 with a global mean pool (Wen et al. 2023, Sec. 3.1).

Parameter names are torchvision's ``resnet18`` names so ImageNet and the authors' weights map one
to one. As in the authors' code, the feature is the global mean of layer4 (any input size works)
and ``fc`` is never applied: it exists only so the authors' ``fc.*`` keys have a home.
"""

from __future__ import annotations

import torch
from torchvision.models.resnet import BasicBlock, ResNet


class ResNetTrunk(ResNet):
    """ResNet-18 returning the 512-d pre-fc feature of each image."""

    feature_dim = 512

    def __init__(self) -> None:
        super().__init__(BasicBlock, [2, 2, 2, 2])

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """images ``[N, 3, H, W]`` (normalised ``/255 - 0.5``) -> features ``[N, 512]``."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(images))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))  # [N, 512, H/32, W/32]
        return x.mean(dim=(2, 3))  # global mean pool, fc unused
