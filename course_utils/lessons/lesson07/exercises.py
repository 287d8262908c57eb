"""Lesson 07 exercises: opening the last block (unfreeze_last_block), discriminative learning rates
(finetune_param_groups) and BatchNorm of frozen blocks (set_frozen_bn_eval)."""
from __future__ import annotations

from torch import nn

from ..declare import exercise
from .checks import prototype, check_finetune_param_groups, check_set_frozen_bn_eval, check_unfreeze_last_block


@exercise(
    task="make model.layer4 and model.fc trainable and freeze every other parameter, whatever state the model "
         "was in",
    check=check_unfreeze_last_block,
    prepare=prototype,
    hints=(
        "Set requires_grad for every parameter: the model may arrive fully frozen, partly frozen or fully "
        "trainable.",
        "model.named_parameters() gives names such as 'layer4.0.conv1.weight' and 'fc.1.bias'.",
        "for name, p in model.named_parameters(): p.requires_grad = name.startswith(('layer4.', 'fc.')); "
        "return model",
    ),
)
def unfreeze_last_block(model):
    """layer4 and fc trainable, every other parameter frozen; returns the model."""
    for name, parameter in model.named_parameters():
        parameter.requires_grad = name.startswith(("layer4.", "fc."))
    return model


@exercise(
    task="return optimizer parameter groups: fc's trainable parameters at head_lr and the other trainable "
         "parameters at backbone_lr, each parameter once and no frozen ones",
    check=check_finetune_param_groups,
    prepare=prototype,
    hints=(
        "An optimizer accepts a list of dicts, one per group: {'params': [...], 'lr': ...}.",
        "Split the trainable parameters by name: those starting with 'fc.' and the rest.",
        "head = [p for n, p in model.named_parameters() if p.requires_grad and n.startswith('fc.')], body the "
        "same with `not`; return [{'params': head, 'lr': head_lr}, {'params': body, 'lr': backbone_lr}]",
    ),
)
def finetune_param_groups(model, head_lr, backbone_lr):
    """Optimizer groups: fc's trainable parameters at head_lr, the other trainable ones at backbone_lr."""
    head = [p for name, p in model.named_parameters() if p.requires_grad and name.startswith("fc.")]
    body = [p for name, p in model.named_parameters() if p.requires_grad and not name.startswith("fc.")]
    return [{"params": head, "lr": head_lr}, {"params": body, "lr": backbone_lr}]


@exercise(
    task="after model.train(), put every BatchNorm layer whose parameters are all frozen into eval mode and "
         "leave everything else training",
    check=check_set_frozen_bn_eval,
    prepare=prototype,
    hints=(
        "A module's mode is per module: module.eval() on one layer leaves the others as they are.",
        "Loop over model.modules(); pick the BatchNorm ones (nn.modules.batchnorm._BatchNorm covers 1d and 2d) "
        "whose parameters all have requires_grad False.",
        "for m in model.modules(): if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) and not any("
        "p.requires_grad for p in m.parameters()): m.eval(); return model",
    ),
)
def set_frozen_bn_eval(model):
    """Every BatchNorm layer whose parameters are all frozen to eval mode; everything else as it was."""
    for module in model.modules():
        params = list(module.parameters(recurse=False))
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and params and not any(p.requires_grad for p in params):
            module.eval()
    return model
