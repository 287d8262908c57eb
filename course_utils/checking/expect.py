"""Shared expectations for checkers: each turns a learner's value into a plain, trustworthy one or raises Mismatch.

Checkers call these before comparing anything, so a wrong type, a lying subclass or an object whose
methods raise becomes a clear "Expected / Your answer / Try" message in one style.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from .describe import NUMPY_SCALARS, describe
from .sandbox import Mismatch

_INTEGER_SCALARS = frozenset(t for t in NUMPY_SCALARS if issubclass(t, np.integer))
_FLOAT_SCALARS = frozenset(t for t in NUMPY_SCALARS if issubclass(t, np.floating))


def plain_tensor(value: Any) -> torch.Tensor | None:
    """The value as an ordinary torch.Tensor (a subclass stripped of its overrides), or None if it is no tensor."""
    if type(value) in (torch.Tensor, nn.Parameter):
        return value
    if not issubclass(type(value), torch.Tensor):
        return None
    with torch._C.DisableTorchFunctionSubclass():  # noqa: SLF001  (bypass a subclass's __torch_function__)
        plain = torch.Tensor.as_subclass(value, torch.Tensor)
    return plain if type(plain) is torch.Tensor and "Python" not in str(torch._C._dispatch_keys(plain)) else None  # noqa: SLF001


def plain_number(value: Any) -> int | float | None:
    """An exact int or float for Python and NumPy numbers (subclasses read by their base type), else None."""
    cls = type(value)
    if cls is bool or issubclass(cls, bool):
        return None
    if cls is int or cls is float:
        return value
    if cls in _INTEGER_SCALARS or cls in _FLOAT_SCALARS:
        return value.item()
    if issubclass(cls, int):
        return int.__int__(value)
    if issubclass(cls, float):
        return float.__float__(value)
    return None


def tensor(value: Any, want: str, advice: str) -> torch.Tensor:
    """``value`` as a plain tensor, or a Mismatch that names what it is instead."""
    result = plain_tensor(value)
    if result is None:
        if type(value) is np.ndarray:
            advice = f"return a torch tensor: torch.from_numpy(array) converts a NumPy array. {advice}"
        raise Mismatch(want, describe(value), advice)
    return result


def number(value: Any, want: str, advice: str, integral: bool = False) -> int | float:
    """``value`` as a plain number (an int when ``integral``), or a Mismatch saying what it is instead."""
    result = plain_number(value)
    if result is None:
        if plain_tensor(value) is not None:
            advice = f"return a Python number, not a tensor: call .item() on a one-element tensor. {advice}"
        raise Mismatch(want, describe(value), advice)
    if integral and not isinstance(result, int):
        if not math.isfinite(result) or result != math.floor(result):
            raise Mismatch(want, describe(value), advice)
        raise Mismatch(want, f"{describe(value)} (a float, although a whole number)", advice)
    return result


def sequence(value: Any, length: int, want: str, advice: str) -> tuple:
    """A tuple or list of exactly ``length`` items, as a tuple."""
    if type(value) not in (tuple, list) or len(value) != length:
        raise Mismatch(want, describe(value), advice)
    return tuple(value)


def module(value: Any, want: str, advice: str) -> nn.Module:
    if not isinstance(value, nn.Module) or not issubclass(type(value), nn.Module):
        raise Mismatch(want, describe(value), advice)
    return value


def same(a: torch.Tensor, b: torch.Tensor, atol: float = 0.0) -> bool:
    """Same shape and (within ``atol``) the same values, for plain tensors of any dtype."""
    if a.shape != b.shape:
        return False
    if atol == 0.0:
        return torch.equal(a.detach().cpu(), b.detach().cpu())
    return bool(torch.allclose(a.detach().cpu().double(), b.detach().cpu().double(), atol=atol, rtol=0, equal_nan=False))


def states_equal(a: Sequence[torch.Tensor], b: Sequence[torch.Tensor], rtol: float = 1e-5, atol: float = 1e-7) -> bool:
    return len(a) == len(b) and all(x.shape == y.shape and torch.allclose(x, y, rtol=rtol, atol=atol) for x, y in zip(a, b))


def _copy(value: Any) -> Any:
    if type(value) is np.ndarray:
        return value.copy()
    if type(value) in (torch.Tensor, nn.Parameter):
        return value.detach().clone()
    return value


def _unchanged(original: Any, given: Any) -> bool:
    if type(original) is np.ndarray:
        return type(given) is np.ndarray and given.shape == original.shape and np.array_equal(given, original)
    if type(original) in (torch.Tensor, nn.Parameter):
        return type(given) in (torch.Tensor, nn.Parameter) and same(given, original)
    return True


def on_copies(answer: Any, *args: Any) -> Any:
    """Call the answer with copies of its array and tensor arguments; fail it if it changed them in place."""
    from .sandbox import call_learner

    copies = [_copy(arg) for arg in args]
    out = call_learner(answer, *copies)
    changed = [i for i, (original, given) in enumerate(zip(args, copies)) if not _unchanged(original, given)]
    if changed:
        raise Mismatch("the input left unchanged", "your function changed its input in place",
                       "work on a new tensor instead: avoid in-place operations (names ending in _, /=, [...] = ) "
                       "on the input.", "modified_input")
    return out
