"""Lesson 03 answers the checkers know: one wrong answer per named mistake, and correct answers written other ways."""
import math

import torch
from torch import nn

from ..declare import alternative, wrong_answer


# ---------------------------------------------------------------- conv_output_size

@wrong_answer("conv_output_size")
def forgot_plus_one(size, kernel_size, stride=1, padding=0, dilation=1):
    """Final + 1 left off: every size comes out one too small"""
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride


@wrong_answer("conv_output_size")
def ignored_dilation(size, kernel_size, stride=1, padding=0, dilation=1):
    """Dilation ignored: the kernel treated as undilated"""
    return (size + 2 * padding - kernel_size) // stride + 1


@wrong_answer("conv_output_size")
def not_floored(size, kernel_size, stride=1, padding=0, dilation=1):
    """Plain / division: a fractional float, not a whole number"""
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1


@alternative("conv_output_size")
def conv_output_size_with_floor(size, kernel_size, stride=1, padding=0, dilation=1):
    return math.floor((size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1


@alternative("conv_output_size")
def conv_output_size_measured(size, kernel_size, stride=1, padding=0, dilation=1):
    conv = nn.Conv2d(1, 1, kernel_size, stride, padding, dilation)
    return int(conv(torch.zeros(1, 1, size, size)).shape[-1])


@alternative("conv_output_size")
def conv_output_size_numpy(size, kernel_size, stride=1, padding=0, dilation=1):
    import numpy as np
    return np.int64(size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1  # a NumPy integer


# ---------------------------------------------------------------- build_cnn

@wrong_answer("build_cnn")
def wrong_in_features(num_classes):
    """Linear sized for 8 x 8 maps, but they are 16 x 16"""
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 64 -> 16: 16 x 16 x 16 features
        nn.Flatten(),
        nn.Linear(16 * 8 * 8, num_classes),                           # sized as if the maps were 8 x 8
    )


@wrong_answer("build_cnn")
def softmax_before_ce(num_classes):
    """Softmax layer at the end, before CrossEntropyLoss"""
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(16, num_classes), nn.Softmax(dim=1),
    )


@wrong_answer("build_cnn")
def ignores_num_classes(num_classes):
    """Always 10 outputs: num_classes ignored"""
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(16, 10),
    )


@alternative("build_cnn")
def build_cnn_pooled(num_classes):
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, num_classes),
    )


@alternative("build_cnn")
class ModuleCNN(nn.Module):
    """The class style: layers in __init__, the data flow in forward."""

    def __init__(self, num_classes):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 12, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(12, 24, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(24, 48, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.head = nn.Linear(48 * 8 * 8, num_classes)

    def forward(self, x):
        return self.head(torch.flatten(self.features(x), 1))


@alternative("build_cnn")
def build_cnn_lazy(num_classes):
    return nn.Sequential(   # lazy layers infer their input sizes on the first forward pass
        nn.LazyConv2d(16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.LazyConv2d(32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.LazyLinear(num_classes),
    )
