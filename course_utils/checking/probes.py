"""Model probes the checkers share: which parameters train, what an optimizer holds, what was replaced.

They read a model only through nn.Module's own methods (a learner's class cannot override them to lie) and
never through private attributes or class names, so they work for any architecture.
"""
from __future__ import annotations

import torch
from torch import nn


def named_parameters(model: nn.Module) -> dict[str, nn.Parameter]:
    return dict(nn.Module.named_parameters(model))


def requires_grad(p: torch.Tensor) -> bool:
    """The autograd flag itself, read through torch.Tensor's own descriptor (a subclass cannot lie about it)."""
    return bool(torch.Tensor.requires_grad.__get__(p))


def trainable_names(model: nn.Module) -> set[str]:
    return {name for name, p in named_parameters(model).items() if requires_grad(p)}


def element_counts(model: nn.Module) -> tuple[int, int]:
    """(trainable elements, total elements), counting each shared parameter once."""
    params = named_parameters(model).values()
    return sum(p.numel() for p in params if requires_grad(p)), sum(p.numel() for p in params)


def structure(model: nn.Module) -> dict[str, int]:
    """Identity of every submodule and parameter by name: equal before and after means nothing was replaced."""
    modules = {f"module {name}": id(m) for name, m in nn.Module.named_modules(model)}
    return {**modules, **{f"parameter {name}": id(p) for name, p in named_parameters(model).items()}}


def replaced(before: dict[str, int], after: dict[str, int]) -> list[str]:
    """Names whose module or parameter was removed, added or swapped between two structure() snapshots."""
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))


def names_under(model: nn.Module, prefix: str) -> set[str]:
    """Parameter names inside the submodule at dotted path ``prefix`` (all names for "")."""
    return {n for n in named_parameters(model) if not prefix or n == prefix or n.startswith(prefix + ".")}


def batchnorm_parameter_names(model: nn.Module) -> set[str]:
    """Names of the parameters that belong to BatchNorm layers (their weight and bias)."""
    return {f"{path}.{name}" if path else name for path, module in nn.Module.named_modules(model)
            if isinstance(module, nn.modules.batchnorm._BatchNorm) for name, _ in module.named_parameters(recurse=False)}


def parameter_names_by_id(model: nn.Module) -> dict[int, str]:
    return {id(p): name for name, p in named_parameters(model).items()}


def optimizer_entries(optimizer: torch.optim.Optimizer) -> list[tuple[int, dict]]:
    """(id of each parameter, the hyperparameters of its group), in the optimizer's order, repeats kept."""
    return [(id(p), {k: v for k, v in group.items() if k != "params"})
            for group in optimizer.param_groups for p in group["params"]]
