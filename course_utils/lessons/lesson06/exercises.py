"""Lesson 06 exercises: freezing the backbone (freeze_backbone), counting what trains (count_trainable) and an
optimizer over the head only (head_optimizer)."""
from __future__ import annotations

import torch

from ..declare import exercise
from .checks import prototype, check_count_trainable, check_freeze_backbone, check_head_optimizer


@exercise(
    task="freeze every parameter outside model.fc and make every parameter of model.fc trainable, whatever "
         "was frozen before",
    check=check_freeze_backbone,
    prepare=prototype,
    hints=(
        "Freezing a parameter means p.requires_grad = False; model.eval() does something else entirely.",
        "Two loops: one over model.parameters() that freezes everything, one over model.fc.parameters() that "
        "unfreezes the head.",
        "for p in model.parameters(): p.requires_grad = False, then for p in model.fc.parameters(): "
        "p.requires_grad = True; return model",
    ),
)
def freeze_backbone(model):
    """Every parameter outside model.fc frozen, every parameter of model.fc trainable; returns the model."""
    for parameter in model.parameters():
        parameter.requires_grad = False
    for parameter in model.fc.parameters():
        parameter.requires_grad = True
    return model


@exercise(
    task="return (trainable elements, total elements) over the model's parameters",
    check=check_count_trainable,
    prepare=prototype,
    hints=(
        "A parameter tensor of shape [512, 5] holds 2,560 numbers: count numbers, not tensors.",
        "p.numel() is the number of elements of p; p.requires_grad says whether it trains.",
        "sum(p.numel() for p in model.parameters() if p.requires_grad), and the same sum over all parameters.",
    ),
)
def count_trainable(model):
    """(number of trainable elements, number of all elements) of the model's parameters."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    return trainable, total


@exercise(
    task="return AdamW over exactly the model's trainable parameters, with lr 1e-3 and weight decay 1e-4",
    check=check_head_optimizer,
    prepare=prototype,
    hints=(
        "An optimizer updates exactly the parameters you give it: give it the trainable ones.",
        "Select by requires_grad, not by name: (p for p in model.parameters() if p.requires_grad).",
        "torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3, weight_decay=1e-4)",
    ),
)
def head_optimizer(model):
    """AdamW over exactly the trainable parameters, lr 1e-3, weight decay 1e-4."""
    trainable = [p for p in model.parameters() if p.requires_grad]
    return torch.optim.AdamW(trainable, lr=1e-3, weight_decay=1e-4)
