"""Lesson 01 exercises: turning images into batches (to_batch) and flattening features (flatten_features)."""
from __future__ import annotations

import numpy as np
import torch

from ..declare import exercise
from .checks import check_flatten_features, check_to_batch


@exercise(
    task="turn an HxWx3, HxWx4 or HxW uint8 image into a float32 [1, 3, H, W] batch with values in [0, 1]",
    check=check_to_batch,
    hints=(
        "Three steps: NumPy array -> tensor, channels first, add a batch dimension. Then scale to [0, 1].",
        "torch.from_numpy(image) keeps the HxWxC layout; .permute(2, 0, 1) makes it CxHxW; .unsqueeze(0) adds the batch.",
        "Handle the odd inputs first: if image.ndim == 2, stack it 3 times on a new last axis; "
        "image[..., :3] drops an alpha channel. Finish with .float() / 255.",
    ),
)
def to_batch(image: np.ndarray) -> torch.Tensor:
    """HxWx3 (RGB), HxWx4 (RGBA) or HxW (grayscale) uint8 image -> float32 [1, 3, H, W] in [0, 1]."""
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    image = image[..., :3]
    tensor = torch.from_numpy(image.copy()).permute(2, 0, 1).float() / 255
    return tensor.unsqueeze(0)


@exercise(
    task="flatten [B, C, H, W] into [B, C*H*W], keeping each sample's values in its own row, also for B = 1",
    check=check_flatten_features,
    hints=(
        "The batch dimension must survive: only C, H and W are merged.",
        "x.shape[0] is the batch size; -1 lets PyTorch compute the rest.",
        "torch.flatten(x, start_dim=1) or x.reshape(x.shape[0], -1). Avoid .squeeze().",
    ),
)
def flatten_features(x: torch.Tensor) -> torch.Tensor:
    """[B, C, H, W] -> [B, C*H*W], each row one sample's features (same as torch.flatten(x, 1))."""
    return x.reshape(x.shape[0], -1)
