"""The networks lesson 09's recipe can fine-tune, declared where they are written: each one's head, last block,
trunk (the layers below the last block) and body (the last block and the pooling); a new model with a new head."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from ..data.folders import images_folder
from .heads import new_head
from .imagenet import pretrained_efficientnet_lite0
from .pretrained import CourseWeights, imagenet_cache_file, pretrained_resnet18, resolve_weights, weights_mode


@dataclass(frozen=True)
class Backbone:
    """A pretrained network the recipe can fine-tune: where its head is, and which parameters are its last block."""

    name: str
    head: str                        # the attribute holding the classifier
    last_block: tuple[str, ...]      # parameter-name prefixes trained in phase 2, besides the head
    build: Callable[[str | None], tuple[nn.Module, object]]
    trunk: Callable[[nn.Module, torch.Tensor], torch.Tensor]   # images -> the last block's input (always frozen)
    body: Callable[[nn.Module, torch.Tensor], torch.Tensor]    # the trunk's output -> the features the head sees

    def trained_prefixes(self) -> tuple[str, ...]:
        return (self.head + ".",) + self.last_block


def _resnet_trunk(m, x):
    return m.layer3(m.layer2(m.layer1(m.maxpool(m.relu(m.bn1(m.conv1(x)))))))


def _resnet_body(m, h):
    return torch.flatten(m.avgpool(m.layer4(h)), 1)


def _lite0_trunk(m, x):
    return m.blocks[:6](m.bn1(m.conv_stem(x)))


def _lite0_body(m, h):
    return m.forward_head(m.bn2(m.conv_head(m.blocks[6:](h))), pre_logits=True)


BACKBONES = {
    "resnet18": Backbone("resnet18", "fc", ("layer4.",), lambda mode: pretrained_resnet18(mode, progress=False),
                         _resnet_trunk, _resnet_body),
    "efficientnet_lite0": Backbone("efficientnet_lite0", "classifier", ("blocks.6.", "conv_head.", "bn2."),
                                   lambda mode: pretrained_efficientnet_lite0(), _lite0_trunk, _lite0_body),
}


def default_backbone(root: str | Path) -> str:
    """The backbone lesson 09 starts from: for the course's own images, "resnet18" (its weights as $COURSE_WEIGHTS
    says: offline, the course's backbone, pretrained on shapes like them); for your folder, an ImageNet network:
    "resnet18" when torchvision's ImageNet weights are on this machine or download within seconds, else
    "efficientnet_lite0" (ImageNet weights installed with the course). Never the shapes backbone for photos."""
    if not os.environ.get("COURSE_DATA") and Path(root) == images_folder(progress=False):
        return "resnet18"
    if weights_mode() == "course":  # $COURSE_WEIGHTS=course: resnet18 would be the shapes backbone
        return "efficientnet_lite0"
    if imagenet_cache_file().is_file():
        return "resnet18"
    try:
        imagenet = not isinstance(resolve_weights("imagenet", progress=False), CourseWeights)
    except RuntimeError:  # offline: the ImageNet ResNet-18 cannot be had
        imagenet = False
    return "resnet18" if imagenet else "efficientnet_lite0"


def backbone_of(model: nn.Module) -> Backbone:
    """The entry of BACKBONES whose head and last block ``model`` has."""
    names = [name for name, _ in model.named_parameters()]
    for backbone in BACKBONES.values():
        if hasattr(model, backbone.head) and any(n.startswith(backbone.last_block) for n in names):
            return backbone
    raise ValueError(f"the recipe knows {', '.join(BACKBONES)}: build the model with new_model(..., backbone=...)")


def new_model(num_classes: int, mode: str | None = None, seed: int = 0,
              backbone: str = "resnet18", dropout: float = 0.2) -> tuple[nn.Module, object]:
    """(model, weights): a pretrained ``backbone`` (for resnet18, the weights ``mode`` chooses; efficientnet_lite0
    is always ImageNet's, offline) whose classifier becomes Dropout(``dropout``) + a Linear layer initialised from
    ``seed`` (the Linear layer alone when ``dropout`` is 0)."""
    if backbone not in BACKBONES:
        raise ValueError(f"backbone={backbone!r}: choose one of {', '.join(map(repr, BACKBONES))}")
    parts = BACKBONES[backbone]
    model, weights = parts.build(mode)
    torch.manual_seed(seed)
    setattr(model, parts.head, new_head(getattr(model, parts.head).in_features, num_classes, dropout=dropout))
    return model, weights


def feature_extractor(model: nn.Module) -> nn.Module:
    """``model`` with its head replaced by nn.Identity, in eval mode: it returns the features the head would see."""
    setattr(model, backbone_of(model).head, nn.Identity())
    return model.eval()
