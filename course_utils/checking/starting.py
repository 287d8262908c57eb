"""Starting states as data: which parameters of a checker's model train when a learner's function receives it."""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Callable

from torch import nn


@dataclass(frozen=True)
class StartingState:
    """Parameters whose names start with ``trainable`` (and not with ``frozen``) train; ``then`` edits the model."""
    trainable: tuple[str, ...] = ("",)
    frozen: tuple[str, ...] = ()
    then: Callable[[nn.Module], None] | None = None

    def build(self, prototype: nn.Module) -> nn.Module:
        """A fresh copy of ``prototype`` in this state, in training mode."""
        model = copy.deepcopy(prototype)
        for name, p in model.named_parameters():
            p.requires_grad = name.startswith(self.trainable) and not name.startswith(self.frozen)
        if self.then is not None:
            self.then(model)
        return model.train()
