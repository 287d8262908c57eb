"""Lesson 06 answers the checkers know: one wrong answer per named mistake, and correct answers written other ways."""
import numpy as np
import torch
from torch import nn

from ..declare import alternative, wrong_answer


# ---------------------------------------------------------------- freeze_backbone

@wrong_answer("freeze_backbone")
def froze_everything(model):
    """Head frozen too: nothing is left to train"""
    for parameter in model.parameters():
        parameter.requires_grad = False
    return model


@wrong_answer("freeze_backbone")
def froze_nothing(model):
    """Backbone never frozen: only the head was touched"""
    for parameter in model.fc.parameters():
        parameter.requires_grad = True
    return model


@wrong_answer("freeze_backbone")
def eval_instead_of_freeze(model):
    """Frozen with model.eval(): every weight still trains"""
    model.eval()                                     # "freeze" the model
    for parameter in model.parameters():
        parameter.requires_grad = True
    return model


@wrong_answer("freeze_backbone")
def froze_only_conv_layers(model):
    """Only conv weights frozen: BatchNorm layers still train"""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            module.weight.requires_grad = False
    for parameter in model.fc.parameters():
        parameter.requires_grad = True
    return model


@wrong_answer("freeze_backbone")
def head_left_frozen(model):
    """Head never set trainable: a frozen head stays frozen"""
    for name, parameter in model.named_parameters():
        if not name.startswith("fc."):
            parameter.requires_grad = False        # the head is never set trainable: it stays as it came in
    return model


@alternative("freeze_backbone")
def freeze_by_name(model):
    for name, parameter in model.named_parameters():
        parameter.requires_grad = name.startswith("fc.")
    return model


@alternative("freeze_backbone")
def freeze_with_requires_grad_(model):
    model.requires_grad_(False)
    model.fc.requires_grad_(True)
    return model


@alternative("freeze_backbone")
def freeze_children(model):
    for name, child in model.named_children():
        for parameter in child.parameters():
            parameter.requires_grad_(name == "fc")
    return model


# ---------------------------------------------------------------- count_trainable

@wrong_answer("count_trainable")
def counted_tensors(model):
    """Counted tensors instead of numbers"""
    params = list(model.parameters())
    return sum(p.requires_grad for p in params), len(params)


@wrong_answer("count_trainable")
def counted_all_as_trainable(model):
    """Every parameter counted as trainable, frozen ones too"""
    total = sum(p.numel() for p in model.parameters())
    return total, total


@alternative("count_trainable")
def count_with_numpy(model):
    sizes = np.array([p.numel() for p in model.parameters()])
    trains = np.array([p.requires_grad for p in model.parameters()])
    return sizes[trains].sum(), sizes.sum()         # NumPy integers


@alternative("count_trainable")
def count_in_a_loop(model):
    trainable = total = 0
    for parameter in model.parameters():
        total += parameter.nelement()
        if parameter.requires_grad:
            trainable += parameter.nelement()
    return [trainable, total]


# ---------------------------------------------------------------- head_optimizer

@wrong_answer("head_optimizer")
def optimizer_before_head_replacement(model):
    """Optimizer made before the head is replaced: it holds the old head"""
    optimizer = torch.optim.AdamW(model.fc.parameters(), lr=1e-3, weight_decay=1e-4)
    model.fc = nn.Linear(512, 5)                     # a "fresh" head, made after the optimizer
    return optimizer


@wrong_answer("head_optimizer")
def includes_frozen_params(model):
    """Frozen parameters handed to the optimizer too"""
    return torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)


@wrong_answer("head_optimizer")
def wrong_hyperparameters(model):
    """Weight decay left at AdamW's default of 0.01"""
    return torch.optim.AdamW(filter(lambda p: p.requires_grad, model.parameters()), lr=1e-3)  # default decay 0.01


@wrong_answer("head_optimizer")
def not_adamw(model):
    """Plain Adam used, not AdamW"""
    return torch.optim.Adam((p for p in model.parameters() if p.requires_grad), lr=1e-3, weight_decay=1e-4)


@alternative("head_optimizer")
def optimizer_from_generator(model):
    return torch.optim.AdamW((p for p in model.parameters() if p.requires_grad), lr=0.001, weight_decay=0.0001)


@alternative("head_optimizer")
def optimizer_with_group(model):
    group = {"params": [p for _, p in model.named_parameters() if p.requires_grad], "lr": 1e-3, "weight_decay": 1e-4}
    return torch.optim.AdamW([group])
