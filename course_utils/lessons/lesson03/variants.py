"""Lesson 03: more ways of committing each named mistake (other idioms: math, NumPy, loops, nn.Module classes,
functional softmax); the tests check that the checker names each one's id."""
import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..declare import same_mistake


# ---------------------------------------------------------------- conv_output_size

@same_mistake("conv_output_size", "forgot_plus_one")
def forgot_plus_one_with_floor(size, kernel_size, stride=1, padding=0, dilation=1):
    return math.floor((size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride)


@same_mistake("conv_output_size", "forgot_plus_one")
def counted_window_positions_from_zero(size, kernel_size, stride=1, padding=0, dilation=1):
    span, last = dilation * (kernel_size - 1) + 1, size + 2 * padding
    positions = 0
    start = stride                                 # the first window is never counted
    while start + span <= last:
        positions += 1
        start += stride
    return positions


@same_mistake("conv_output_size", "ignored_dilation")
def ignored_dilation_with_floor(size, kernel_size, stride=1, padding=0, dilation=1):
    return math.floor((size + 2 * padding - kernel_size) / stride) + 1


@same_mistake("conv_output_size", "ignored_dilation")
def ignored_dilation_in_numpy(size, kernel_size, stride=1, padding=0, dilation=1):
    return int(np.floor((size + 2 * padding - (kernel_size - 1) - 1) / stride) + 1)


@same_mistake("conv_output_size", "not_floored")
def rounded_instead_of_floored(size, kernel_size, stride=1, padding=0, dilation=1):
    return round((size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1


@same_mistake("conv_output_size", "not_floored")
def rounded_up(size, kernel_size, stride=1, padding=0, dilation=1):
    return math.ceil((size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1


# ---------------------------------------------------------------- build_cnn

class _TwoConvs(nn.Module):
    def __init__(self, num_classes, features, softmax=False):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(8, 16, 3, padding=1)
        self.fc, self.softmax = nn.Linear(features, num_classes), softmax

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = self.fc(torch.flatten(x, 1))
        return F.softmax(x, dim=1) if self.softmax else x


@same_mistake("build_cnn", "wrong_in_features")
def in_features_for_32_pixels(num_classes):
    return _TwoConvs(num_classes, 16 * 8 * 8)      # computed for 32x32 inputs; the maps are 16x16 here


@same_mistake("build_cnn", "wrong_in_features")
def in_features_without_pooling(num_classes):
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 64 * 64, num_classes),       # sized for the maps before pooling
    )


@same_mistake("build_cnn", "softmax_before_ce")
def functional_softmax_in_forward(num_classes):
    return _TwoConvs(num_classes, 16 * 16 * 16, softmax=True)


@same_mistake("build_cnn", "softmax_before_ce")
def softmax_module_after_pooling(num_classes):
    layers = [nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
              nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveMaxPool2d(1), nn.Flatten()]
    layers += [nn.Linear(32, num_classes), nn.Softmax(dim=-1)]
    return nn.Sequential(*layers)


@same_mistake("build_cnn", "ignores_num_classes")
def classes_typed_as_five(num_classes):
    return _TwoConvs(5 if num_classes else 0, 16 * 16 * 16)   # the lesson's 5 classes, whatever is asked


@same_mistake("build_cnn", "ignores_num_classes")
def classes_from_a_global(num_classes):
    classes = ["crescent", "frame", "hourglass", "tee", "trefoil", "x", "y", "z", "u", "v"]
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(16, len(classes)),
    )
