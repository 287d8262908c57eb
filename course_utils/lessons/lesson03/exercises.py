"""Lesson 03 exercises: the convolution output-size formula (conv_output_size) and a small CNN (build_cnn)."""
from __future__ import annotations

from torch import nn

from ..declare import exercise
from .checks import check_build_cnn, check_conv_output_size


@exercise(
    task="compute the spatial output size of nn.Conv2d from size, kernel_size, stride, padding and dilation",
    check=check_conv_output_size,
    hints=(
        "Count how many positions the kernel window can take along one side.",
        "A dilated kernel covers dilation*(kernel_size - 1) + 1 pixels; padding adds 2*padding pixels.",
        "(size + 2*padding - dilation*(kernel_size - 1) - 1) // stride + 1",
    ),
)
def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Spatial size after nn.Conv2d: floor((size + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1."""
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


@exercise(
    task="build a CNN with at least two Conv2d layers and at most 500k parameters mapping [B, 3, 64, 64] "
         "to [B, num_classes] logits",
    check=check_build_cnn,
    hints=(
        "Blocks of Conv2d -> ReLU -> MaxPool2d(2) halve the size: 64 -> 32 -> 16 -> 8.",
        "After the last block, flatten with nn.Flatten() and map C*H*W features to num_classes with nn.Linear.",
        "Either compute in_features (channels x 8 x 8 after three poolings) or add nn.AdaptiveAvgPool2d(1) so it is "
        "just the channel count. No Softmax at the end.",
    ),
)
def build_cnn(num_classes: int) -> nn.Module:
    """A small CNN: [B, 3, 64, 64] images -> [B, num_classes] logits."""
    return nn.Sequential(
        nn.Conv2d(3, 16, kernel_size=3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),   # 32x32
        nn.Conv2d(16, 32, kernel_size=3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),  # 16x16
        nn.Conv2d(32, 64, kernel_size=3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),  # 8x8
        nn.Flatten(),
        nn.Linear(64 * 8 * 8, num_classes),
    )
