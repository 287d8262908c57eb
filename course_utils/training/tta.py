"""Test-time augmentation over the 8 symmetries of a square image (4 rotations by 90 degrees, each mirrored):
a defect on a solar cell is a defect whichever way up the cell lies."""
from __future__ import annotations

import torch
from torch import nn

from ..models.modes import evaluating


def symmetries(images: torch.Tensor) -> list[torch.Tensor]:
    """The 8 symmetries of square images [B, C, H, H]: 4 rotations by 90 degrees, each also mirrored."""
    if images.ndim != 4 or images.shape[-1] != images.shape[-2]:
        raise ValueError(f"images of shape {list(images.shape)}: give a batch [B, C, H, H] of square images")
    turned = [torch.rot90(images, k, dims=(-2, -1)) for k in range(4)]
    return turned + [image.flip(-1) for image in turned]


def predict_with_symmetries(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Softmax probabilities [B, K] averaged over the 8 symmetries (test-time augmentation), in eval mode,
    without gradients; the model's own mode is given back."""
    with evaluating(model), torch.no_grad():
        return torch.stack([model(view).softmax(1) for view in symmetries(images)]).mean(0)
