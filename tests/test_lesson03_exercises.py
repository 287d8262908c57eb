"""Lesson 03 checks beyond the contract: mistakes combined, limits, spatial maps, lazy layers, the model's mode."""
import math

import pytest
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


def test_parameter_order_and_a_table_of_known_cases_fail():
    swapped = lambda size, kernel_size, padding=0, stride=1, dilation=1: (  # noqa: E731
        (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1)
    assert "parameter order" in check_exercise("conv_output_size", swapped).message
    shown = {(32, 3, 1, 0, 1): 30, (32, 3, 1, 1, 1): 32, (33, 3, 2, 0, 1): 16, (64, 7, 2, 3, 1): 32,
             (28, 5, 3, 1, 1): 9, (32, 3, 1, 0, 2): 28, (20, 3, 2, 2, 3): 9, (9, 1, 1, 0, 1): 9, (5, 5, 1, 0, 1): 1}
    table = lambda s, k, stride=1, padding=0, dilation=1: shown.get((s, k, stride, padding, dilation), 7)  # noqa: E731
    assert check_exercise("conv_output_size", table).status == "failed"


def _blocks():
    return [nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2)]


class _Unused(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.features = nn.Sequential(*_blocks())
        self.fc = nn.Linear(3, num_classes)

    def forward(self, x):
        return self.fc(x.mean((2, 3)))               # the convolutions never run


class _Mixing(ModuleCNN):
    def forward(self, x):
        z = torch.flatten(self.features(x), 1)
        return self.head(z.mean(0, keepdim=True).expand_as(z))   # every image gets the batch's average


class _Tutorial(nn.Module):                            # a 32x32 tutorial's hard-coded flatten size
    def __init__(self, num_classes):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 6, 5), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.MaxPool2d(2))
        self.fc = nn.Linear(16 * 5 * 5, num_classes)

    def forward(self, x):
        return self.fc(self.features(x).view(-1, 16 * 5 * 5))


def test_behaviour_not_just_shapes_is_judged():
    assert "used in forward" in check_exercise("build_cnn", _Unused).message
    assert "other images in its batch" in check_exercise("build_cnn", _Mixing).message
    for last in (nn.ReLU(), nn.Sigmoid()):
        ends_activated = lambda n, last=last: nn.Sequential(*_blocks(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),  # noqa: E731
                                                            nn.Linear(16, n), last)
        assert "can be negative" in check_exercise("build_cnn", ends_activated).message
    assert_mistake("build_cnn", _Tutorial, "wrong_in_features")


def test_a_grayscale_first_layer_is_not_blamed_on_the_images():
    gray = lambda n: nn.Sequential(nn.Conv2d(1, 8, 3), nn.Conv2d(8, 8, 3), nn.AdaptiveAvgPool2d(1),  # noqa: E731
                                   nn.Flatten(), nn.Linear(8, n))
    result = check_exercise("build_cnn", gray)
    assert "in_channels=3" in result.message and "hwc_not_permuted" not in result.message


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")
def test_scripted_and_unpicklable_models_pass():
    import threading

    class WithLock(ModuleCNN):
        def __init__(self, num_classes):
            super().__init__(num_classes)
            self.lock = threading.Lock()                 # cannot be deep-copied
    assert check_exercise("build_cnn", lambda n: torch.jit.script(ModuleCNN(n))).passed
    assert check_exercise("build_cnn", WithLock).passed
