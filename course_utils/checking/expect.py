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
_equal, _allclose = torch.equal, torch.allclose  # private references: comparisons no answer can replace
LARGEST = 1e15  # numbers beyond this are no sizes, counts or accuracies


def _ordinary(t: torch.Tensor) -> bool:
    """A dense CPU tensor with real storage: what every checker compares (not meta, sparse, nested or quantized)."""
    return (t.layout == torch.strided and t.device.type == "cpu" and not t.is_nested and not t.is_quantized
            and "Python" not in str(torch._C._dispatch_keys(t)))  # noqa: SLF001


def plain_tensor(value: Any) -> torch.Tensor | None:
    """The value as an ordinary torch.Tensor (a subclass stripped of its overrides), or None if it is no such tensor."""
    if not issubclass(type(value), torch.Tensor):
        return None
    plain = value
    if type(value) not in (torch.Tensor, nn.Parameter):
        with torch._C.DisableTorchFunctionSubclass():  # noqa: SLF001  (bypass a subclass's __torch_function__)
            plain = torch.Tensor.as_subclass(value, torch.Tensor)
    return plain if type(plain) in (torch.Tensor, nn.Parameter) and _ordinary(plain) else None


def plain_number(value: Any) -> int | float | None:
    """An exact int or float for Python and NumPy numbers (subclasses read by their base type), else None."""
    cls = type(value)
    if cls is bool or issubclass(cls, bool):
        return None
    if cls is int or cls is float:
        number = value
    elif cls in _INTEGER_SCALARS or cls in _FLOAT_SCALARS:
        number = value.item()
    elif issubclass(cls, int):
        number = int.__int__(value)
    elif issubclass(cls, float):
        number = float.__float__(value)
    else:
        return None
    return number if isinstance(number, float) or abs(number) <= LARGEST else float("inf")


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
    """A tuple or list (a namedtuple too) of exactly ``length`` items, read through the base type's own methods."""
    base = tuple if isinstance(value, tuple) else list if isinstance(value, list) else None
    items = tuple(base.__iter__(value)) if base is not None else None
    if items is None or len(items) != length:
        raise Mismatch(want, describe(value), advice)
    return items


def module(value: Any, want: str, advice: str) -> nn.Module:
    if not isinstance(value, nn.Module) or not issubclass(type(value), nn.Module):
        raise Mismatch(want, describe(value), advice)
    return value


def same_model(value: Any, model: nn.Module, want: str) -> nn.Module:
    """The model the answer was given, returned (answers that change a model in place must return it)."""
    if value is None:
        raise Mismatch(want, describe(None), "end with `return model`.")
    value = module(value, want, "return the model you were given.")
    if value is not model:
        raise Mismatch(want, f"{describe(value)}, not the model that was passed in",
                       "change the model you receive and return that same model.")
    return value


def _comparable(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and _ordinary(a) and _ordinary(b) and not a.is_complex() and not b.is_complex()


def same(a: torch.Tensor, b: torch.Tensor, atol: float = 0.0) -> bool:
    """Same shape and (within ``atol``) the same values; False for anything not comparably shaped or stored."""
    if not _comparable(a, b):
        return False
    if atol == 0.0:
        return _equal(a.detach(), b.detach())
    return bool(_allclose(a.detach().double(), b.detach().double(), atol=atol, rtol=0, equal_nan=False))


def close(a: torch.Tensor, b: torch.Tensor, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
    """torch.allclose in float64 for comparable tensors; False otherwise (never raises)."""
    return _comparable(a, b) and bool(_allclose(a.detach().double(), b.detach().double(), rtol=rtol, atol=atol))


def raw_scores(scores: torch.Tensor, want: str, probabilities_mistake: str | None = None) -> None:
    """Raise Mismatch when a model's [B, C] scores are no raw logits: rows of probabilities (a Softmax at the end,
    named ``probabilities_mistake``) or scores that are never negative (an activation after the last Linear)."""
    if not torch.all(scores >= 0):
        return
    if close(scores.sum(dim=1), torch.ones(len(scores)), atol=1e-4):
        raise Mismatch(want, "rows that are probabilities summing to 1", "remove the final Softmax: "
                       "CrossEntropyLoss applies softmax itself and expects raw scores.", probabilities_mistake)
    raise Mismatch(want, "scores that are all zero or positive: an activation (ReLU, Sigmoid) after the last Linear "
                   "layer", "end with the Linear layer itself: CrossEntropyLoss expects raw, unbounded scores.")


def states_equal(a: Sequence[torch.Tensor], b: Sequence[torch.Tensor], rtol: float = 1e-5, atol: float = 1e-7) -> bool:
    return len(a) == len(b) and all(x.dtype == y.dtype and close(x, y, rtol, atol) for x, y in zip(a, b))


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
