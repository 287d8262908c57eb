"""Lesson 03 exercises: the convolution output-size formula (conv_output_size) and a small CNN (build_cnn)."""
from __future__ import annotations

import math
from numbers import Integral, Real

import torch
from torch import nn

from ..checking.describe import describe
from ..checking.explain import explain_error
from ..checking.sandbox import LearnerError, Mismatch, call_learner
from . import Exercise

LESSON = "03_cnn_shape_flow"


# ---------------------------------------------------------------- conv_output_size

def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Spatial size after nn.Conv2d: floor((size + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1."""
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


# (size, kernel, stride, padding, dilation): plain, padded, strided with a remainder, dilated, 1x1, boundary
_CASES = ((32, 3, 1, 0, 1), (32, 3, 1, 1, 1), (33, 3, 2, 0, 1), (64, 7, 2, 3, 1), (28, 5, 3, 1, 1),
          (32, 3, 1, 0, 2), (20, 3, 2, 2, 3), (9, 1, 1, 0, 1), (5, 5, 1, 0, 1))


def _torch_size(size, kernel, stride, padding, dilation) -> int:
    conv = nn.Conv2d(1, 1, kernel, stride=stride, padding=padding, dilation=dilation, bias=False)
    with torch.no_grad():
        return conv(torch.zeros(1, 1, size, size)).shape[-1]


def check_conv_output_size(answer) -> None:
    got, expected = {}, {}
    for case in _CASES:
        size, kernel, stride, padding, dilation = case
        got[case] = call_learner(answer, size, kernel, stride=stride, padding=padding, dilation=dilation)
        expected[case] = _torch_size(*case)
    if any(value is None for value in got.values()):
        raise Mismatch("an int for every setting", describe(None), "end the function with `return` and the size.")
    odd = [v for v in got.values() if not isinstance(v, Real) or isinstance(v, bool)]
    if odd:
        raise Mismatch("an int for every setting", describe(odd[0]),
                       "compute the size with plain Python arithmetic on the int arguments and return it.")
    wrong = [c for c in _CASES if got[c] != expected[c]]
    if not wrong:
        if any(not isinstance(v, Integral) or isinstance(v, bool) for v in got.values()):
            value = next(v for v in got.values() if not isinstance(v, Integral))
            raise Mismatch("an int", describe(value), "use // (floor division) so the result is an int.", "not_floored")
        defaults = call_learner(answer, 32, 3)
        if defaults != 30:
            raise Mismatch("conv_output_size(32, 3) == 30 using the defaults stride=1, padding=0, dilation=1",
                           describe(defaults), "give the parameters those defaults in the def line.")
        return

    def table(cases) -> str:
        return "; ".join(f"size={s}, kernel={k}, stride={st}, padding={p}, dilation={d}: nn.Conv2d gives "
                         f"{expected[(s, k, st, p, d)]}, yours {got[(s, k, st, p, d)]!r}" for s, k, st, p, d in cases[:2])

    want = "the size nn.Conv2d produces, floor((size + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1"
    numeric = all(isinstance(got[c], (int, float)) and not isinstance(got[c], bool) for c in _CASES)
    if numeric and all(got[c] == expected[c] - 1 for c in _CASES):
        raise Mismatch(want, table(wrong), "add 1: the formula counts window positions, the first one included.",
                       "forgot_plus_one")
    if numeric:
        exact = {c: (c[0] + 2 * c[3] - c[4] * (c[1] - 1) - 1) / c[2] + 1 for c in _CASES}
        if all(math.isclose(got[c], exact[c]) or math.isclose(got[c], math.ceil(exact[c])) for c in _CASES):
            raise Mismatch(want, table(wrong), "floor the division (use //): a window that does not fit is dropped.",
                           "not_floored")
        no_dilation = {c: (c[0] + 2 * c[3] - c[1]) // c[2] + 1 for c in _CASES}
        if all(got[c] == no_dilation[c] for c in _CASES) and all(c[4] > 1 for c in wrong):
            raise Mismatch(want, table(wrong), "a dilated kernel spans dilation*(kernel_size - 1) + 1 pixels.",
                           "ignored_dilation")
    raise Mismatch(want, table(wrong), "compare with the formula term by term, starting from the size=32, kernel=3 case.")


# ---------------------------------------------------------------- build_cnn

def build_cnn(num_classes: int) -> nn.Module:
    """A small CNN: [B, 3, 64, 64] images -> [B, num_classes] logits."""
    return nn.Sequential(
        nn.Conv2d(3, 16, kernel_size=3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),   # 32x32
        nn.Conv2d(16, 32, kernel_size=3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),  # 16x16
        nn.Conv2d(32, 64, kernel_size=3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),  # 8x8
        nn.Flatten(),
        nn.Linear(64 * 8 * 8, num_classes),
    )


MAX_PARAMETERS = 500_000


def _forward(model, batch: torch.Tensor, num_classes: int):
    try:
        with torch.no_grad():
            return call_learner(model, batch)
    except LearnerError as err:
        if "mat1 and mat2 shapes cannot be multiplied" in str(err.exc):
            explanation, _ = explain_error(err.exc)
            raise Mismatch(f"logits of shape [{len(batch)}, {num_classes}] for a [{len(batch)}, 3, 64, 64] batch",
                           f"the model raised {err}", f"{explanation} For 64x64 inputs, trace the shape after the last "
                           "pooling layer, or use nn.AdaptiveAvgPool2d so the size stops mattering.",
                           "wrong_in_features") from None
        raise


def check_build_cnn(answer) -> None:
    torch.manual_seed(0)
    for num_classes in (5, 7):
        model = call_learner(answer, num_classes)
        if not isinstance(model, nn.Module):
            raise Mismatch("an nn.Module", describe(model), "return the model, e.g. nn.Sequential(...).")
        convs = sum(isinstance(m, nn.Conv2d) for m in model.modules())
        if convs < 2:
            raise Mismatch("at least two Conv2d layers", f"a model with {convs} Conv2d layer{'s' * (convs != 1)}",
                           "stack two or more convolution blocks.")
        count = sum(p.numel() for p in model.parameters())
        if count > MAX_PARAMETERS:
            raise Mismatch(f"at most {MAX_PARAMETERS:,} parameters", f"{count:,}",
                           "use fewer channels, or pool before the Linear layer so it has fewer inputs.")
        model.eval()
        for batch_size in (4, 1):  # boundary: a batch of one
            batch = torch.rand(batch_size, 3, 64, 64)
            out = _forward(model, batch, num_classes)
            want = f"logits of shape [{batch_size}, {num_classes}] for build_cnn({num_classes})"
            if not isinstance(out, torch.Tensor):
                raise Mismatch(want, describe(out), "return the model's output tensor from forward.")
            if out.dim() == 2 and out.shape[0] == batch_size and out.shape[1] != num_classes:
                raise Mismatch(want, describe(out), "use the num_classes argument as the last layer's out_features.",
                               "ignores_num_classes")
            if tuple(out.shape) != (batch_size, num_classes):
                raise Mismatch(want, describe(out), "flatten with torch.flatten(x, 1) and end with nn.Linear(..., num_classes).")
            if not out.is_floating_point():
                raise Mismatch(want, describe(out), "return the raw float scores of the last Linear layer, not class indices.")
        if torch.all(out >= 0) and torch.allclose(out.sum(dim=1), torch.ones(len(out)), atol=1e-4):
            raise Mismatch("raw logits (CrossEntropyLoss applies softmax itself)", "rows that are probabilities summing to 1",
                           "remove the final Softmax layer.", "softmax_before_ce")


EXERCISES = (
    Exercise(
        name="conv_output_size",
        lesson=LESSON,
        task="compute the spatial output size of nn.Conv2d from size, kernel_size, stride, padding and dilation",
        check=check_conv_output_size,
        solution=conv_output_size,
        hints=(
            "Count how many positions the kernel window can take along one side.",
            "A dilated kernel covers dilation*(kernel_size - 1) + 1 pixels; padding adds 2*padding pixels.",
            "(size + 2*padding - dilation*(kernel_size - 1) - 1) // stride + 1",
        ),
        mistakes=("forgot_plus_one", "ignored_dilation", "not_floored"),
    ),
    Exercise(
        name="build_cnn",
        lesson=LESSON,
        task="build a CNN with at least two Conv2d layers and at most 500k parameters mapping [B, 3, 64, 64] "
             "to [B, num_classes] logits",
        check=check_build_cnn,
        solution=build_cnn,
        hints=(
            "Blocks of Conv2d -> ReLU -> MaxPool2d(2) halve the size: 64 -> 32 -> 16 -> 8.",
            "After the last block, flatten with nn.Flatten() and map C*H*W features to num_classes with nn.Linear.",
            "Either compute in_features (channels x 8 x 8 after three poolings) or add nn.AdaptiveAvgPool2d(1) so it is "
            "just the channel count. No Softmax at the end.",
        ),
        mistakes=("wrong_in_features", "softmax_before_ce", "ignores_num_classes"),
    ),
)
