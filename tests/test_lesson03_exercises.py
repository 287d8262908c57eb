"""Lesson 03 answers for the checker contract (test_exercise_contract.py), plus checks specific to its exercises."""
import math

import torch
from torch import nn

from course_utils import check_exercise

from helpers import assert_mistake

CONV_MUTANTS = {
    "forgot_plus_one": lambda s, k, stride=1, padding=0, dilation=1: (s + 2 * padding - dilation * (k - 1) - 1) // stride,
    "ignored_dilation": lambda s, k, stride=1, padding=0, dilation=1: (s + 2 * padding - k) // stride + 1,
    "not_floored": lambda s, k, stride=1, padding=0, dilation=1: (s + 2 * padding - dilation * (k - 1) - 1) / stride + 1,
}

CONV_ALTERNATIVES = [
    lambda size, kernel_size, stride=1, padding=0, dilation=1:
        math.floor((size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1,
    lambda size, kernel_size, stride=1, padding=0, dilation=1:
        int(nn.Conv2d(1, 1, kernel_size, stride, padding, dilation)(torch.zeros(1, 1, size, size)).shape[-1]),
]


def _blocks(*channels):
    layers = []
    for c_in, c_out in zip(channels, channels[1:]):
        layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
    return layers


CNN_MUTANTS = {
    "wrong_in_features": lambda n: nn.Sequential(*_blocks(3, 8, 16), nn.Flatten(), nn.Linear(16 * 8 * 8, n)),
    "softmax_before_ce": lambda n: nn.Sequential(*_blocks(3, 8, 16), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                                 nn.Linear(16, n), nn.Softmax(dim=1)),
    "ignores_num_classes": lambda n: nn.Sequential(*_blocks(3, 8, 16), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                                   nn.Linear(16, 10)),
}


class _ModuleCNN(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.features = nn.Sequential(*_blocks(3, 12, 24, 48))
        self.head = nn.Linear(48 * 8 * 8, num_classes)

    def forward(self, x):
        return self.head(torch.flatten(self.features(x), 1))


CNN_ALTERNATIVES = [
    lambda n: nn.Sequential(*_blocks(3, 16, 32), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, n)),
    _ModuleCNN,
]


def test_rounding_up_is_also_not_floored():
    assert_mistake("conv_output_size", lambda s, k, stride=1, padding=0, dilation=1:
                   math.ceil((s + 2 * padding - dilation * (k - 1) - 1) / stride) + 1, "not_floored")


def test_build_cnn_limits_are_enforced():
    too_big = lambda n: nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(8, 32, 3, padding=1),  # noqa: E731
                                      nn.Flatten(), nn.Linear(32 * 64 * 64, n))
    assert "500,000" in check_exercise("build_cnn", too_big).message
    one_conv = lambda n: nn.Sequential(nn.Conv2d(3, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, n))  # noqa: E731
    assert "two Conv2d" in check_exercise("build_cnn", one_conv).message


ANSWERS = {
    "conv_output_size": (CONV_MUTANTS, CONV_ALTERNATIVES),
    "build_cnn": (CNN_MUTANTS, CNN_ALTERNATIVES),
}


def test_tensor_answers_are_failures_not_checker_errors():
    # found by the fuzz test: comparing an empty tensor crashed the checker itself
    result = check_exercise("conv_output_size", lambda *args, **kwargs: torch.tensor([]))
    assert result.status == "failed" and "plain Python arithmetic" in result.message

    class RoundedLogits(_ModuleCNN):
        def forward(self, x):
            return super().forward(x).round().long()
    result = check_exercise("build_cnn", RoundedLogits)
    assert result.status == "failed" and "raw float scores" in result.message
