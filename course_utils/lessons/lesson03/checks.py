"""Lesson 03: the checkers of conv_output_size and build_cnn, with the mistakes each can name."""
from __future__ import annotations

import math
import random

import torch
from torch import nn

from ...checking import expect
from ...checking.describe import describe
from ...checking.explain import explain_error
from ...checking.sandbox import LearnerError, Mismatch, call_learner
from ...models.modes import evaluating


# (size, kernel, stride, padding, dilation): plain, padded, strided with a remainder, dilated, 1x1, boundary
_SHOWN = ((32, 3, 1, 0, 1), (32, 3, 1, 1, 1), (33, 3, 2, 0, 1), (64, 7, 2, 3, 1), (28, 5, 3, 1, 1),
          (32, 3, 1, 0, 2), (20, 3, 2, 2, 3), (9, 1, 1, 0, 1), (5, 5, 1, 0, 1))


def _drawn_cases(count: int = 24) -> tuple[tuple[int, ...], ...]:
    """More settings drawn from a fixed seed, so no table of the cases above can pass."""
    rng = random.Random(3)
    cases = []
    while len(cases) < count:
        size, kernel, stride, padding, dilation = (rng.randint(4, 70), rng.randint(1, 7), rng.randint(1, 4),
                                                   rng.randint(0, 3), rng.randint(1, 3))
        if size + 2 * padding - dilation * (kernel - 1) - 1 >= 0:
            cases.append((size, kernel, stride, padding, dilation))
    return tuple(cases)


_CASES = _SHOWN + _drawn_cases()


def _torch_size(size, kernel, stride, padding, dilation) -> int:
    conv = nn.Conv2d(1, 1, kernel, stride=stride, padding=padding, dilation=dilation, bias=False)
    with torch.no_grad():
        return conv(torch.zeros(1, 1, size, size)).shape[-1]


def _table(cases, expected, got) -> str:
    return "; ".join(f"size={s}, kernel={k}, stride={st}, padding={p}, dilation={d}: nn.Conv2d gives "
                     f"{expected[(s, k, st, p, d)]}, yours {got[(s, k, st, p, d)]!r}" for s, k, st, p, d in cases[:2])


def check_conv_output_size(answer) -> None:
    """Judge conv_output_size on hand-picked settings (padding, stride with a remainder, dilation, 1x1, boundary) and
    24 drawn ones, against what nn.Conv2d itself outputs.

    Names: `forgot_plus_one`, `ignored_dilation`, `not_floored`.
    """
    expected = {case: _torch_size(*case) for case in _CASES}
    got = {}
    for case in _CASES:
        size, kernel, stride, padding, dilation = case
        raw = call_learner(answer, size, kernel, stride=stride, padding=padding, dilation=dilation)
        if raw is None:
            raise Mismatch("an int for every setting", describe(None), "end the function with `return` and the size.")
        got[case] = expect.number(raw, "an int for every setting",
                                  "compute the size with plain Python arithmetic on the int arguments and return it.")
    want = "the size nn.Conv2d produces, floor((size + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1"
    # A size that is not a whole number is the first thing a learner sees, whatever else is wrong.
    fractional = [c for c in _CASES if isinstance(got[c], float) and (not math.isfinite(got[c]) or got[c] % 1)]
    if fractional:
        raise Mismatch(want, f"sizes that are not whole numbers: {_table(fractional, expected, got)}",
                       "floor the division (use //): a window that does not fit is dropped.", "not_floored")
    wrong = [c for c in _CASES if got[c] != expected[c]]
    if not wrong:
        if any(isinstance(v, float) for v in got.values()):
            value = next(v for v in got.values() if isinstance(v, float))
            raise Mismatch("an int", f"{describe(value)}: floored, but a float", "return an int: use // (floor "
                           "division) on the int arguments, or int(...) around a floored value.", "not_floored")
        positional = call_learner(answer, 33, 3, 2, 1, 1)  # size, kernel_size, stride, padding, dilation
        if expect.plain_number(positional) != _torch_size(33, 3, 2, 1, 1):
            raise Mismatch("conv_output_size(33, 3, 2, 1) == 17: the parameters in the order size, kernel_size, "
                           "stride, padding, dilation", describe(positional),
                           "keep the parameter order of the exercise: def conv_output_size(size, kernel_size, "
                           "stride=1, padding=0, dilation=1), the same order as nn.Conv2d's arguments.")
        defaults = expect.number(call_learner(answer, 32, 3), "conv_output_size(32, 3) == 30", "return the size.")
        if defaults != 30:
            raise Mismatch("conv_output_size(32, 3) == 30 using the defaults stride=1, padding=0, dilation=1",
                           describe(defaults), "give the parameters those defaults in the def line.")
        return
    if all(got[c] == expected[c] - 1 for c in _CASES):
        raise Mismatch(want, _table(wrong, expected, got), "add 1: the formula counts window positions, the first "
                       "one included.", "forgot_plus_one")
    exact = {c: (c[0] + 2 * c[3] - c[4] * (c[1] - 1) - 1) / c[2] + 1 for c in _CASES}
    if all(got[c] in (math.floor(exact[c]), math.ceil(exact[c])) for c in _CASES):  # ceil, round() or mixed
        raise Mismatch(want, _table(wrong, expected, got), "floor the division (use //): a window that does not fit "
                       "is dropped, never rounded up (round() and math.ceil both round some sizes up).", "not_floored")
    no_dilation = {c: (c[0] + 2 * c[3] - c[1]) // c[2] + 1 for c in _CASES}
    if all(got[c] == no_dilation[c] for c in _CASES) and all(c[4] > 1 for c in wrong):
        raise Mismatch(want, _table(wrong, expected, got), "a dilated kernel spans dilation*(kernel_size - 1) + 1 "
                       "pixels.", "ignored_dilation")
    raise Mismatch(want, _table(wrong, expected, got), "compare with the formula term by term, starting from the "
                   "size=32, kernel=3 case.")


MAX_PARAMETERS = 500_000


def _forward(model, batch: torch.Tensor, num_classes: int):
    try:
        with torch.no_grad():
            return call_learner(model, batch)
    except LearnerError as err:
        if "mat1 and mat2 shapes cannot be multiplied" in err.original_text or "is invalid for input of size" in \
                err.original_text:
            explanation, _ = explain_error(err.original_text)
            raise Mismatch(f"logits of shape [{len(batch)}, {num_classes}] for a [{len(batch)}, 3, 64, 64] batch",
                           f"the model raised {err}", f"{explanation} For 64x64 inputs, trace the shape after the last "
                           "pooling layer, or use nn.AdaptiveAvgPool2d so the size stops mattering.",
                           "wrong_in_features") from None
        raise


def _judge_logits(out, batch_size: int, num_classes: int) -> torch.Tensor:
    want = f"logits of shape [{batch_size}, {num_classes}] for build_cnn({num_classes})"
    out = expect.tensor(out, want, "return the model's output tensor from forward.")
    if out.dim() == 4:
        raise Mismatch(want, f"{describe(out)}: a spatial map per image, not one score per class",
                       "after the last convolution, pool to 1x1 (nn.AdaptiveAvgPool2d(1)) or flatten with "
                       "torch.flatten(x, 1), then end with nn.Linear(..., num_classes).")
    if out.dim() == 2 and out.shape[0] == batch_size and out.shape[1] != num_classes:
        raise Mismatch(want, describe(out), "use the num_classes argument as the last layer's out_features.",
                       "ignores_num_classes")
    if tuple(out.shape) != (batch_size, num_classes):
        raise Mismatch(want, describe(out), "flatten with torch.flatten(x, 1) and end with nn.Linear(..., num_classes).")
    if not out.is_floating_point():
        raise Mismatch(want, describe(out), "return the raw float scores of the last Linear layer, not class indices.")
    return out


def _kernels(model: nn.Module) -> list[nn.Parameter]:
    """Convolution kernels: the 4-D weights (found for plain, lazy and scripted models alike)."""
    return [p for p in nn.Module.parameters(model) if p.dim() == 4]


def _judge_behaviour(model: nn.Module, num_classes: int) -> torch.Tensor:
    """Forward passes in eval mode: shapes, then that every image gets its own scores from its own pixels."""
    batch = torch.rand(4, 3, 64, 64)
    out = _judge_logits(_forward(model, batch, num_classes), 4, num_classes)
    one = _judge_logits(_forward(model, batch[2:3], num_classes), 1, num_classes)  # boundary: a batch of one
    want = "one row of scores per image, computed from that image alone"
    if not expect.close(one[0], out[2], rtol=1e-4, atol=1e-4):
        raise Mismatch(want, "an image's scores change with the other images in its batch",
                       "keep the batch dimension separate: pool and flatten per sample (torch.flatten(x, 1)), "
                       "never mix values across dimension 0.")
    other = _judge_logits(_forward(model, torch.rand(4, 3, 64, 64) + 0.5, num_classes), 4, num_classes)
    if expect.close(other, out, atol=1e-6):
        raise Mismatch(want, "the same scores for different images: the output does not depend on the input",
                       "compute the output from x in forward: the convolutions, then the classifier.")
    return out


def _judge_kernels_used(model: nn.Module, num_classes: int) -> None:
    """The convolutions must shape the output: each kernel gets a gradient from it."""
    kernels = _kernels(model)
    saved = [p.grad for p in kernels]
    try:
        for p in kernels:
            p.grad = None
        out = expect.plain_tensor(call_learner(model, torch.rand(2, 3, 64, 64)))
        if out is not None and out.requires_grad:  # a random weighting: softmax rows sum to a constant
            weights = torch.randn(out.shape, generator=torch.Generator().manual_seed(0))
            (out.float() * weights).sum().backward()
        used = sum(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in kernels)
    finally:
        for p, grad in zip(kernels, saved):
            p.grad = grad
    if used < 2:
        raise Mismatch("at least two Conv2d layers that the output depends on",
                       f"{len(kernels)} convolution kernels, {used} of them used in forward",
                       "pass x through the convolution layers in forward before the classifier.")


def check_build_cnn(answer) -> None:
    """Judge build_cnn for 5 and 7 classes on [B, 3, 64, 64] batches in eval mode (modes given back): the logits'
    shape and range, at least two Conv2d layers that affect the output, at most 500k parameters.

    Names: `wrong_in_features`, `softmax_before_ce`, `ignores_num_classes`.
    """
    torch.manual_seed(0)
    for num_classes in (5, 7):
        model = expect.module(call_learner(answer, num_classes), "an nn.Module",
                              "return the model, e.g. nn.Sequential(...).")
        with evaluating(model):  # probe in eval mode; the learner's model keeps its own modes afterwards
            out = _judge_behaviour(model, num_classes)
            convs = len(_kernels(model))  # after a forward pass, so lazy layers have their shapes
            if convs < 2:
                raise Mismatch("at least two Conv2d layers", f"a model with {convs} Conv2d layer{'s' * (convs != 1)}",
                               "stack two or more convolution blocks.")
            count = sum(p.numel() for p in nn.Module.parameters(model))
            if count > MAX_PARAMETERS:
                raise Mismatch(f"at most {MAX_PARAMETERS:,} parameters", f"{count:,}",
                               "use fewer channels, or pool before the Linear layer so it has fewer inputs.")
            _judge_kernels_used(model, num_classes)
        expect.raw_scores(out, "raw logits, which can be negative", probabilities_mistake="softmax_before_ce")
