"""Preflight checks of the model side: the head's outputs, frozen BatchNorm in train mode, what the optimizer
holds, and a learning-rate probe that trains a copy on one repeated batch."""
from __future__ import annotations

import math

import torch
from torch import nn

from ..checking.state import preserved_global_state
from ..training.loop import frozen_batchnorm_layers
from .base import NotChecked, Problem, _copy, _first_batch, _num_classes


def check_outputs(model, train_loader, val_loader, optimizer, weights) -> str:
    """kept_1000_outputs: the model gives one score per class of the data."""
    classes = _num_classes(train_loader)
    inputs, _ = _first_batch(val_loader, model)
    twin = _copy(model).eval()
    with torch.no_grad():
        outputs = twin(inputs[:2])
    if outputs.ndim != 2 or outputs.shape[1] != classes:
        raise Problem(f"the model gives {list(outputs.shape)} for 2 images, the data has {classes} classes: "
                             f"the head needs {classes} outputs")
    return f"{classes} outputs for {classes} classes"


def check_frozen_bn(model, train_loader, val_loader, optimizer, weights) -> str:
    """bn_stats_drift: no BatchNorm layer whose parameters are all frozen is in train mode."""
    frozen = frozen_batchnorm_layers(model)
    drifting = [m for m in frozen if m.training]
    if drifting:
        raise Problem(f"{len(drifting)} of {len(frozen)} frozen BatchNorm layers are in train mode: their "
                      "statistics change while the backbone is 'frozen' (frozen_batchnorm_to_eval after "
                      "model.train())")
    return f"{len(frozen)} frozen BatchNorm layers, none in train mode"


def _optimised(optimizer) -> list[list[torch.Tensor]]:
    groups = getattr(optimizer, "param_groups", None)
    if groups is None:
        raise NotChecked("not checked: the optimizer has no param_groups")
    return [list(dict.__getitem__(group, "params")) for group in groups]


def check_frozen_in_optimizer(model, train_loader, val_loader, optimizer, weights) -> str:
    """includes_frozen_params: the optimizer holds no frozen parameter of the model."""
    names = {id(p): n for n, p in nn.Module.named_parameters(model)}
    frozen = [names[id(p)] for group in _optimised(optimizer) for p in group if id(p) in names and not p.requires_grad]
    if frozen:
        raise Problem(f"{len(frozen)} frozen parameters in the optimizer (e.g. {frozen[0]}): build it over "
                      "[p for p in model.parameters() if p.requires_grad]")
    return "only trainable parameters"


def check_missing_trainable(model, train_loader, val_loader, optimizer, weights) -> str:
    """optimizer_before_head_replacement: every trainable parameter of the model is in the optimizer."""
    held = {id(p) for group in _optimised(optimizer) for p in group}
    missing = [n for n, p in nn.Module.named_parameters(model) if p.requires_grad and id(p) not in held]
    if missing:
        raise Problem(f"{len(missing)} trainable parameters the optimizer does not hold (e.g. {missing[0]}): "
                      "was it built before the head was replaced?")
    return "holds every trainable parameter"


def check_duplicates(model, train_loader, val_loader, optimizer, weights) -> str:
    """duplicate_params: no parameter in two groups (or twice in one)."""
    flat = [id(p) for group in _optimised(optimizer) for p in group]
    if len(flat) != len(set(flat)):
        raise Problem(f"{len(flat) - len(set(flat))} parameters appear twice across the groups")
    return f"{len(flat)} parameter tensors, each once"


def check_lr_probe(model, train_loader, val_loader, optimizer, weights, steps: int = 12) -> str:
    """lr_too_high: a copy trained on one repeated batch with the same kind of optimizer lowers its loss."""
    inputs, targets = _first_batch(train_loader, model)
    twin = _copy(model)
    if not twin.training:
        twin.train()
    twins = dict(zip((id(p) for p in nn.Module.parameters(model)), nn.Module.parameters(twin)))
    seen, groups = set(), []
    for group, params in zip(optimizer.param_groups, _optimised(optimizer)):
        kept = [twins[id(p)] for p in params if id(p) in twins and id(p) not in seen]
        seen |= {id(p) for p in params}
        if kept:
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": kept})
    if not groups:
        raise NotChecked("not checked: the optimizer holds none of the model's parameters "
                         "(see optimizer_before_head_replacement)")
    probe = type(optimizer)(groups)
    losses = []
    with preserved_global_state():
        torch.manual_seed(0)
        for _ in range(steps):
            probe.zero_grad()
            loss = nn.functional.cross_entropy(twin(inputs), targets)
            losses.append(loss.item())
            if not math.isfinite(losses[-1]):
                break
            loss.backward()
            probe.step()
    shown = f"loss {losses[0]:.3f} -> {losses[-1]:.3f} in {len(losses)} steps on one batch"
    peak = max(losses)
    if not math.isfinite(peak) or peak > 2 * losses[0]:
        raise Problem(f"{shown}, up to {peak:.3g} on the way: it diverges (learning rate too high?)")
    if losses[-1] > 0.98 * losses[0]:
        raise Problem(f"{shown}: it does not go down (nothing trains, or the learning rate is far too low)")
    return shown
