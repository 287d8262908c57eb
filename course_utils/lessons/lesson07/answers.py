"""Lesson 07 answers the checkers know: one wrong answer per named mistake, and correct answers written other ways."""
from torch import nn

from ..declare import alternative, wrong_answer


# ---------------------------------------------------------------- unfreeze_last_block

@wrong_answer("unfreeze_last_block")
def unfroze_everything(model):
    """Whole network unfrozen, not just the last block"""
    for parameter in model.parameters():             # "unfreeze" the network
        parameter.requires_grad = True
    return model


@wrong_answer("unfreeze_last_block")
def head_left_frozen(model):
    """Last block unfrozen, but the head left frozen"""
    for parameter in model.parameters():
        parameter.requires_grad = False
    for parameter in model.layer4.parameters():      # the last block, but not the head
        parameter.requires_grad = True
    return model


@wrong_answer("unfreeze_last_block")
def unfroze_wrong_block(model):
    """Unfroze layer3, which is not the last block"""
    for name, parameter in model.named_parameters():
        parameter.requires_grad = name.startswith(("layer3", "fc"))   # layer3 is not the last block
    return model


@alternative("unfreeze_last_block")
def unfreeze_with_requires_grad_(model):
    model.requires_grad_(False)
    model.layer4.requires_grad_(True)
    model.fc.requires_grad_(True)
    return model


@alternative("unfreeze_last_block")
def unfreeze_by_children(model):
    children = list(model.named_children())
    for name, child in children:
        for parameter in child.parameters():
            parameter.requires_grad = name in ("layer4", "fc")
    return model


@alternative("unfreeze_last_block")
def unfreeze_by_name(model):
    for name, parameter in model.named_parameters():
        parameter.requires_grad = name.split(".")[0] in {"layer4", "fc"}
    return model


# ---------------------------------------------------------------- finetune_param_groups

@wrong_answer("finetune_param_groups")
def swapped_learning_rates(model, head_lr, backbone_lr):
    """Head and backbone learning rates swapped"""
    return [{"params": [p for p in model.fc.parameters() if p.requires_grad], "lr": backbone_lr},
            {"params": [p for p in model.layer4.parameters() if p.requires_grad], "lr": head_lr}]


@wrong_answer("finetune_param_groups")
def single_learning_rate(model, head_lr, backbone_lr):
    """One learning rate for all: the backbone gets the head's"""
    return [{"params": [p for p in model.parameters() if p.requires_grad], "lr": head_lr}]


@wrong_answer("finetune_param_groups")
def duplicate_params(model, head_lr, backbone_lr):
    """Head parameters listed in both groups"""
    trainable = [p for p in model.parameters() if p.requires_grad]
    return [{"params": trainable, "lr": backbone_lr},                     # fc's parameters are in here too
            {"params": list(model.fc.parameters()), "lr": head_lr}]


@wrong_answer("finetune_param_groups")
def includes_frozen_params(model, head_lr, backbone_lr):
    """Frozen backbone parameters put in an optimizer group"""
    return [{"params": model.fc.parameters(), "lr": head_lr},
            {"params": [p for n, p in model.named_parameters() if not n.startswith("fc.")], "lr": backbone_lr}]


@alternative("finetune_param_groups")
def groups_from_generators(model, head_lr, backbone_lr):
    return [{"params": (p for p in model.layer4.parameters() if p.requires_grad), "lr": backbone_lr},
            {"params": (p for p in model.fc.parameters() if p.requires_grad), "lr": head_lr}]


@alternative("finetune_param_groups")
def groups_by_name_as_tuple(model, head_lr, backbone_lr):
    head, body = [], []
    for name, parameter in model.named_parameters():
        if parameter.requires_grad:
            (head if name.startswith("fc.") else body).append(parameter)
    return ({"params": tuple(head), "lr": head_lr, "weight_decay": 1e-4},
            {"params": tuple(body), "lr": backbone_lr, "weight_decay": 1e-4})


@alternative("finetune_param_groups")
def groups_from_generator_of_dicts(model, head_lr, backbone_lr):
    parts = ((model.fc, head_lr), (model.layer4, backbone_lr))
    return ({"params": [p for p in part.parameters() if p.requires_grad], "lr": lr} for part, lr in parts)


# ---------------------------------------------------------------- set_frozen_bn_eval

@wrong_answer("set_frozen_bn_eval")
def whole_model_eval(model):
    """Whole model switched to eval(), trainable layers too"""
    model.eval()                                     # BatchNorm statistics stay put... and so does everything else
    return model


@wrong_answer("set_frozen_bn_eval")
def bn_params_frozen_only(model):
    """BatchNorm weights frozen, but its running statistics still update"""
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            for parameter in module.parameters():
                parameter.requires_grad = False      # stops the optimizer, not the running statistics
    return model


@alternative("set_frozen_bn_eval")
def bn_eval_by_weight_flag(model):
    for module in model.modules():
        if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)) and not module.weight.requires_grad:
            module.eval()
    return model


@alternative("set_frozen_bn_eval")
def bn_eval_with_train_flag(model):
    for name, module in model.named_modules():
        if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            params = list(module.parameters())
            module.train(any(p.requires_grad for p in params))
    return model
