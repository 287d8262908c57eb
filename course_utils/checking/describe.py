"""Short, human descriptions of whatever a learner's function returned."""
from __future__ import annotations

import textwrap
from typing import Any

import torch


def shape_of(t: torch.Tensor) -> str:
    return "[" + ", ".join(str(s) for s in t.shape) + "]"


def describe(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        grad = ", requires_grad=True" if value.requires_grad else ""
        return f"a tensor of shape {shape_of(value)}, dtype {value.dtype}{grad}"
    if value is None:
        return "None (did you forget a `return` statement?)"
    kind = type(value).__name__
    article = "an" if kind[:1].lower() in "aeiou" else "a"
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"{article} {kind} of shape {tuple(shape)}"
    return f"{article} {kind}: {textwrap.shorten(repr(value), 60)}"
