"""What every preflight check shares: how a check says "not checked" or names a problem, and how it reads the
learner's objects without changing them."""
from __future__ import annotations

import copy

import torch
from torch import nn

from ..checking.state import preserved_global_state


class NotChecked(Exception):
    """Raised by a check that cannot apply to these objects (its message says why)."""


class Problem(AssertionError):
    """Raised by a check that found its mistake; ``mistake_id`` when it is another entry than the check's own."""

    def __init__(self, message: str, mistake_id: str | None = None):
        super().__init__(message)
        self.mistake_id = mistake_id


def _dataset(loader):
    return getattr(loader, "dataset", None)


def _first_batch(loader, model: nn.Module | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """One batch (drawn without moving the global random state), on the model's device when given."""
    with preserved_global_state():
        inputs, targets = next(iter(loader))
    if model is not None:
        device = next(nn.Module.parameters(model), torch.empty(0)).device
        inputs, targets = inputs.to(device), targets.to(device)
    return inputs, targets


def _num_classes(loader) -> int:
    classes = getattr(_dataset(loader), "classes", None)
    if classes:
        return len(classes)
    raise NotChecked("not checked: the training set has no .classes (an ImageFolder has)")


def _copy(model: nn.Module) -> nn.Module:
    return copy.deepcopy(model)


def _transform(loader):
    transform = getattr(_dataset(loader), "transform", None)
    if transform is None:
        raise NotChecked("not checked: the validation set has no .transform to try")
    return transform
