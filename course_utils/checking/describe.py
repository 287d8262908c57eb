"""Short, human descriptions of whatever a learner's function returned; never fooled or broken by the object."""
from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
import torch

from .sandbox import safe_str, type_name

NUMPY_SCALARS = frozenset(np.sctypeDict.values())


def shape_of(t: torch.Tensor) -> str:
    return "[" + ", ".join(str(s) for s in t.shape) + "]"


def article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def describe(value: Any) -> str:
    kind = type_name(value)
    if value is None:
        return "None (did you forget a `return` statement?)"
    if type(value) in (torch.Tensor, torch.nn.Parameter):
        grad = ", requires_grad=True" if value.requires_grad else ""
        return f"a tensor of shape {shape_of(value)}, dtype {value.dtype}{grad}"
    if issubclass(type(value), torch.Tensor):
        return f"a {kind} (a subclass of torch.Tensor that changes how PyTorch operations behave)"
    if type(value) is np.ndarray:
        return (f"a NumPy array of shape {tuple(value.shape)}, dtype {value.dtype}, not a torch tensor "
                f"(convert with torch.from_numpy(array) or torch.as_tensor(array))")
    if type(value) in (bool, int, float, str) or type(value) in NUMPY_SCALARS:
        return f"{article(kind)} {kind}: {textwrap.shorten(repr(value), 60)}"
    if type(value) in (tuple, list) and len(value) <= 4:
        inner = ", ".join(describe(item).split(":")[0] for item in value)
        return f"{article(kind)} {kind} of {len(value)}: ({inner})"
    return f"{article(kind)} {kind}: {textwrap.shorten(safe_str(value, 200), 60)}"
