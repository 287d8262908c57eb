"""Classifier heads: find the final Linear layer wherever an architecture keeps it, and replace it.

One interface for every torchvision classifier (ResNet's `fc`, MobileNet's and EfficientNet's
`classifier[-1]`, ConvNeXt's `classifier[2]`, ViT's `heads.head`): the head is found by running the model
and seeing which Linear layer executes last, not from a list of class names.
"""
from __future__ import annotations

import torch
from torch import nn

from .modes import evaluating


def example_input(size: int = 224) -> torch.Tensor:
    """One zero image of the size the architectures accept (ViT needs exactly 224)."""
    return torch.zeros(1, 3, size, size)


def linear_modules(model: nn.Module) -> list[tuple[str, nn.Linear]]:
    """Every nn.Linear with its dotted path, in registration order."""
    return [(name, m) for name, m in nn.Module.named_modules(model) if isinstance(m, nn.Linear)]


def final_linear(model: nn.Module, example: torch.Tensor) -> tuple[str, nn.Linear] | None:
    """The Linear layer that runs last in a forward pass on ``example`` (the classifier head), with its path.

    Found by running the model, not by knowing the architecture: hooks record the order in which
    Linear layers execute. The model is put in eval mode for the pass and given back its own modes.
    """
    order: list[str] = []
    modules = dict(linear_modules(model))
    handles = [m.register_forward_hook(lambda mod, args, out, name=name: order.append(name))
               for name, m in modules.items()]
    try:
        with evaluating(model), torch.no_grad():
            model(example)
    finally:
        for handle in handles:
            handle.remove()
    return (order[-1], modules[order[-1]]) if order else None


def find_head(model: nn.Module, example: torch.Tensor | None = None) -> tuple[str, nn.Linear]:
    """(dotted path, layer) of the model's final Linear layer; a clear error if it has none."""
    found = final_linear(model, example_input() if example is None else example)
    if found is None:
        raise ValueError(f"{type(model).__name__} runs no nn.Linear layer, so it has no classifier head to replace.")
    return found


def new_head(in_features: int, num_classes: int, dropout: float = 0.0) -> nn.Module:
    """A Linear layer from in_features to num_classes, after Dropout when dropout > 0."""
    linear = nn.Linear(in_features, num_classes)
    return nn.Sequential(nn.Dropout(dropout), linear) if dropout > 0 else linear


def replace_classifier(model: nn.Module, num_classes: int, dropout: float = 0.0,
                       example: torch.Tensor | None = None) -> nn.Module:
    """Replace the final Linear layer, wherever it lives, by a fresh one with ``num_classes`` outputs."""
    path, head = find_head(model, example)
    parent_path, _, name = path.rpartition(".")
    parent = model.get_submodule(parent_path) if parent_path else model
    setattr(parent, name, new_head(head.in_features, num_classes, dropout))
    return model


def head_table(models: dict[str, nn.Module], example: torch.Tensor | None = None) -> list[dict[str, object]]:
    """For each named model: where its head is, its input features and its number of outputs."""
    rows = []
    for name, model in models.items():
        path, head = find_head(model, example)
        rows.append({"architecture": name, "head": path, "in_features": head.in_features,
                     "out_features": head.out_features,
                     "parameters": f"{sum(p.numel() for p in model.parameters()) / 1e6:.1f} M"})
    return rows


def split_resnet(model: nn.Module, at: str) -> tuple[nn.Sequential, nn.Sequential]:
    """(below, above): the torchvision ResNet's children before ``at`` and from ``at`` on, sharing its modules.

    above(below(x)) equals model(x); when everything below is frozen, below's outputs can be computed once
    and cached. ``at`` is one of the ResNet's children, e.g. "layer4" or "fc".
    """
    names = [name for name, _ in model.named_children()]
    if at not in names or "avgpool" not in names:
        raise ValueError(f"at={at!r}: choose one of {', '.join(names)} of a torchvision ResNet")
    index = names.index(at)
    children = dict(model.named_children())
    below = nn.Sequential(*(children[n] for n in names[:index]))
    rest = [children[n] for n in names[index:]]
    if at != "fc":  # ResNet.forward flattens between the global pooling and fc
        rest.insert(names[index:].index("fc"), nn.Flatten(1))
    else:
        below.append(nn.Flatten(1))
    return below, nn.Sequential(*rest)
