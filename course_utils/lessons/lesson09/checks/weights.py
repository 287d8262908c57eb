"""Lesson 09: the checker of class_weights (loss weights for an imbalanced folder)."""
from __future__ import annotations

from typing import Any

import torch

from ....checking import expect
from ....checking.sandbox import LearnerError, Mismatch, call_learner


def _labels(counts: tuple[int, ...], seed: int) -> torch.Tensor:
    """``counts[c]`` labels of each class c, in a shuffled order (a generator of its own: no global RNG is used)."""
    labels = torch.cat([torch.full((n,), c, dtype=torch.long) for c, n in enumerate(counts)])
    return labels[torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))]


def _cases():
    """(description, targets, num_classes)."""
    yield "60 labels of 4 classes, 30, 15, 10 and 5 of each (an int64 tensor)", _labels((30, 15, 10, 5), 0), 4
    yield ("24 labels of 5 classes where classes 2 and 4 never occur (an int64 tensor)", _labels((12, 4, 0, 8, 0), 1),
           5)
    yield ("a list of 18 ints, as ImageFolder's dataset.targets, of 3 classes with 3, 9 and 6 samples",
           _labels((3, 9, 6), 2).tolist(), 3)
    yield "12 labels, 4 of each of 3 classes (an int64 tensor)", _labels((4, 4, 4), 3), 3
    yield "a single label, class 1 of 3 (an int64 tensor)", torch.tensor([1]), 3


def _call(answer, targets, num_classes: int, want: str) -> Any:
    if isinstance(targets, torch.Tensor):
        return expect.on_copies(answer, targets, num_classes)
    given = list(targets)
    try:
        result = call_learner(answer, given, num_classes)
    except LearnerError as err:
        if err.kind == "AttributeError" and "'list' object" in err.text:
            raise Mismatch(want, f"raised {err}", "targets can be a plain list of ints (ImageFolder's dataset.targets "
                           "is one): turn it into a tensor first, torch.as_tensor(targets).") from None
        raise
    if not (type(given) is list and len(given) == len(targets)
            and all(type(a) is int and a == b for a, b in zip(given, targets))):
        raise Mismatch(want, "the list of targets changed while your function ran",
                       "only read targets: count them into a new tensor.")
    return result


def _shown(values: torch.Tensor) -> str:
    return "[" + ", ".join(f"{v:.4g}" for v in values.tolist()) + "]"


def _proportional(values: torch.Tensor, reference: torch.Tensor) -> bool:
    """``values`` a positive multiple of ``reference`` (both positive, float64)."""
    scale = values / reference
    return bool(torch.isfinite(scale).all() and scale[0] > 0 and expect.close(scale, scale[0].expand_as(scale), 1e-4))


def _judge_shape(out: torch.Tensor, labels: torch.Tensor, k: int, want: str) -> None:
    if tuple(out.shape) == (k,):
        return
    seen = {int(labels.max()) + 1: f"the largest label plus one, {int(labels.max()) + 1}",
            len(labels.unique()): f"the number of classes that occur, {len(labels.unique())}"}
    if out.dim() == 1 and len(out) in seen:
        raise Mismatch(want, f"shape [{len(out)}]: sized by {seen[len(out)]}", "give every class a weight, those that "
                       "never occur too: count with torch.bincount(targets, minlength=num_classes).",
                       "sized_from_labels")
    raise Mismatch(want, f"shape {list(out.shape)}", "return one weight per class: a 1-D tensor of num_classes values.")


def check_class_weights(answer) -> None:
    """Judge class_weights on 5 sets of labels: imbalanced, with absent classes, a list of ints, balanced, a single
    label; any positive multiple of len(targets) / (num_classes * count) passes, 0 for absent classes.

    Names: `not_inverted`, `sized_from_labels`, `infinite_for_absent_class`.
    """
    for description, targets, k in _cases():
        labels = torch.as_tensor(targets)
        counts = torch.bincount(labels, minlength=k).double()
        present = counts > 0
        expected = torch.zeros(k, dtype=torch.float64)
        expected[present] = len(labels) / (k * counts[present])
        want = (f"float32 weights {_shown(expected)} (or any positive multiple) for {description}: "
                f"len(targets) / (num_classes * count), 0 for a class that never occurs")
        out = expect.tensor(_call(answer, targets, k, want), want, "return a torch tensor of weights.")
        _judge_shape(out, labels, k, want)
        if not out.is_floating_point():
            raise Mismatch(want, f"{out.tolist()}, dtype {out.dtype}", "compute the weights in floating point: convert "
                           "the counts with .float() before dividing.")
        got = out.detach().double()
        absent = [c for c in range(k) if not present[c]]
        if any(not torch.isfinite(got[c]) for c in absent):
            raise Mismatch(want, f"{_shown(got)}: {got[absent[0]].item()} for class {absent[0]}, which never "
                           f"occurs (a division by its count, 0)", "give classes that never occur weight 0 instead of "
                           "dividing by their count: compute the weights only where counts > 0.",
                           "infinite_for_absent_class")
        if out.dtype != torch.float32:
            raise Mismatch(want, f"weights of dtype {out.dtype}", "return float32 weights (.float()): "
                           "nn.CrossEntropyLoss(weight=...) refuses weights of another dtype than its float32 logits.")
        if not _proportional(got[present], expected[present]):
            if _proportional(got[present], counts[present]):
                raise Mismatch(want, f"{_shown(got)}: proportional to the counts {_shown(counts)}, so the most "
                               f"frequent class weighs most", "invert the counts: a class with half the samples gets "
                               "twice the weight, len(targets) / (num_classes * count).", "not_inverted")
            raise Mismatch(want, _shown(got), "divide len(targets) by num_classes times each class's count.")
        if any(got[c] != 0 for c in absent):
            raise Mismatch(want, f"{_shown(got)}: weight {got[absent[0]].item():.4g} for class {absent[0]}, which "
                           f"never occurs", "give classes that never occur weight 0.")
