"""Short, human descriptions of whatever a learner's function returned; never fooled or broken by the object."""
from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
import torch

from .sandbox import safe_str, type_name
from .timelimit import TimeLimitExceeded

NUMPY_SCALARS = frozenset(np.sctypeDict.values())


def shape_of(t: torch.Tensor) -> str:
    return "[" + ", ".join(str(s) for s in t.shape) + "]"


def article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def describe(value: Any, depth: int = 0) -> str:
    """One phrase for what a value is; never raises, whatever the value does."""
    try:
        return _describe(value, depth)
    except (KeyboardInterrupt, TimeLimitExceeded):
        raise
    except BaseException:  # noqa: BLE001  (an object that fights being described is described by its type)
        return f"{article(type_name(value))} {type_name(value)}"


def _tensor(value: torch.Tensor) -> str:
    grad = ", requires_grad=True" if value.requires_grad else ""
    where = "" if value.device.type == "cpu" else f" on the {value.device.type} device (it holds no values)" \
        if value.device.type == "meta" else f" on device {value.device}"
    layout = "" if value.layout == torch.strided else f", {str(value.layout).replace('torch.', '')} layout"
    nested = "a nested tensor" if value.is_nested else f"a tensor of shape {shape_of(value)}"
    return f"{nested}, dtype {value.dtype}{layout}{where}{grad}"


def _describe(value: Any, depth: int) -> str:
    kind = type_name(value)
    if value is None:
        return "None (did you forget a `return` statement?)"
    if type(value) in (torch.Tensor, torch.nn.Parameter):
        return _tensor(value)
    if issubclass(type(value), torch.Tensor):
        return f"a {kind} (a subclass of torch.Tensor that changes how PyTorch operations behave)"
    if type(value) is np.ndarray:
        return (f"a NumPy array of shape {tuple(value.shape)}, dtype {value.dtype}, not a torch tensor "
                f"(convert with torch.from_numpy(array) or torch.as_tensor(array))")
    if type(value) is int and abs(value) > 10 ** 15:
        return f"an int with {len(str(abs(value) % 10 ** 4000))}+ digits"
    if type(value) in (bool, int, float, str) or type(value) in NUMPY_SCALARS:
        return f"{article(kind)} {kind}: {textwrap.shorten(repr(value), 60)}"
    if type(value) in (tuple, list) and len(value) <= 4 and depth == 0:
        inner = ", ".join(describe(item, depth + 1).split(":")[0] for item in value)
        return f"{article(kind)} {kind} of {len(value)}: ({inner})"
    if type(value) in (tuple, list, dict, set):
        return f"{article(kind)} {kind} of {len(value)} items"
    return f"{article(kind)} {kind}: {textwrap.shorten(safe_str(value, 200), 60)}"
