"""Train and eval modes: evaluate a model in eval mode, then give every module back its own mode."""
from __future__ import annotations

import contextlib
from typing import Iterator

from torch import nn


@contextlib.contextmanager
def evaluating(model: nn.Module) -> Iterator[nn.Module]:
    """``model`` in eval mode inside the block; afterwards each of its modules has the mode it had before, however
    the block ends (a model may arrive with some modules training and others not, e.g. frozen BatchNorm)."""
    modes = [(module, module.training) for module in nn.Module.modules(model)]
    try:
        model.eval()
        yield model
    finally:
        for module, training in modes:
            module.training = training
