"""Lesson 03 checks beyond the contract: mistakes combined, limits, spatial maps, lazy layers, the model's mode."""
import math

import torch
from torch import nn

from course_utils import check_exercise
from course_utils.lessons.lesson03.answers import ModuleCNN, build_cnn_lazy
from helpers import assert_mistake


def test_rounding_up_is_also_not_floored():
    assert_mistake("conv_output_size", lambda s, k, stride=1, padding=0, dilation=1:
                   math.ceil((s + 2 * padding - dilation * (k - 1) - 1) / stride) + 1, "not_floored")


def test_fractional_sizes_are_named_first_even_with_a_second_fault():
    no_floor_no_plus_one = lambda s, k, stride=1, padding=0, dilation=1: (s + 2 * padding - dilation * (k - 1) - 1) / stride  # noqa: E731
    assert_mistake("conv_output_size", no_floor_no_plus_one, "not_floored")


def test_build_cnn_limits_are_enforced():
    too_big = lambda n: nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(8, 32, 3, padding=1),  # noqa: E731
                                      nn.Flatten(), nn.Linear(32 * 64 * 64, n))
    assert "500,000" in check_exercise("build_cnn", too_big).message
    one_conv = lambda n: nn.Sequential(nn.Conv2d(3, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, n))  # noqa: E731
    assert "two Conv2d" in check_exercise("build_cnn", one_conv).message


def test_a_spatial_map_is_explained_and_not_called_ignores_num_classes():
    conv_head = lambda n: nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # noqa: E731
                                        nn.Conv2d(8, n, 1))
    result = check_exercise("build_cnn", conv_head)
    assert result.status == "failed" and result.mistake is None and "spatial map" in result.message


def test_lazy_modules_pass_and_the_returned_model_keeps_its_mode():
    assert check_exercise("build_cnn", build_cnn_lazy).passed
    made = []

    def records(num_classes):
        made.append(ModuleCNN(num_classes))
        return made[-1]
    assert check_exercise("build_cnn", records).passed
    assert all(model.training for model in made)


def test_tensor_answers_are_failures_not_checker_errors():
    # found by the fuzz test: comparing an empty tensor crashed the checker itself
    result = check_exercise("conv_output_size", lambda *args, **kwargs: torch.tensor([]))
    assert result.status == "failed" and "plain Python arithmetic" in result.message

    class RoundedLogits(ModuleCNN):
        def forward(self, x):
            return super().forward(x).round().long()
    result = check_exercise("build_cnn", RoundedLogits)
    assert result.status == "failed" and "raw float scores" in result.message
