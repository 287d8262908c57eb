"""Lesson 07: more ways of committing each named mistake (requires_grad_ on modules, names, children, groups
built in loops, modes set per module); the tests check that the checker names each one's id."""
from torch import nn

from ..declare import same_mistake


# ---------------------------------------------------------------- unfreeze_last_block

@same_mistake("unfreeze_last_block", "unfroze_everything")
def requires_grad_on_the_whole_model(model):
    model.requires_grad_(True)
    return model


@same_mistake("unfreeze_last_block", "unfroze_everything")
def unfroze_every_child(model):
    for child in model.children():
        for parameter in child.parameters():
            parameter.requires_grad_(True)
    return model


@same_mistake("unfreeze_last_block", "head_left_frozen")
def only_layer4_by_name(model):
    for name, parameter in model.named_parameters():
        parameter.requires_grad = name.startswith("layer4.")
    return model


@same_mistake("unfreeze_last_block", "head_left_frozen")
def froze_then_opened_layer4(model):
    model.requires_grad_(False)
    model.layer4.requires_grad_(True)
    return model


@same_mistake("unfreeze_last_block", "unfroze_wrong_block")
def opened_layer1_as_the_first_block(model):
    model.requires_grad_(False)
    for module in (model.layer1, model.fc):
        module.requires_grad_(True)
    return model


@same_mistake("unfreeze_last_block", "unfroze_wrong_block")
def opened_the_second_to_last_child(model):
    children = list(model.children())            # [..., layer4, avgpool, fc]: -3 is layer4, -4 is layer3
    model.requires_grad_(False)
    children[-4].requires_grad_(True)
    model.fc.requires_grad_(True)
    return model


# ---------------------------------------------------------------- finetune_param_groups

def _trainable(module):
    return [p for p in module.parameters() if p.requires_grad]


@same_mistake("finetune_param_groups", "swapped_learning_rates")
def swapped_in_a_dict(model, head_lr, backbone_lr):
    rates = {"fc": backbone_lr, "layer4": head_lr}
    return [{"params": _trainable(getattr(model, name)), "lr": lr} for name, lr in rates.items()]


@same_mistake("finetune_param_groups", "swapped_learning_rates")
def swapped_by_name(model, head_lr, backbone_lr):
    head, body = [], []
    for name, parameter in model.named_parameters():
        if parameter.requires_grad:
            (head if name.startswith("fc.") else body).append(parameter)
    return [{"params": body, "lr": head_lr}, {"params": head, "lr": backbone_lr}]


@same_mistake("finetune_param_groups", "single_learning_rate")
def one_group_at_the_backbone_rate(model, head_lr, backbone_lr):
    return [{"params": _trainable(model), "lr": backbone_lr}]


@same_mistake("finetune_param_groups", "single_learning_rate")
def two_groups_one_rate(model, head_lr, backbone_lr):
    return [{"params": _trainable(model.layer4), "lr": head_lr}, {"params": _trainable(model.fc), "lr": head_lr}]


@same_mistake("finetune_param_groups", "duplicate_params")
def head_listed_in_both(model, head_lr, backbone_lr):
    return [{"params": _trainable(model.layer4) + _trainable(model.fc), "lr": backbone_lr},
            {"params": _trainable(model.fc), "lr": head_lr}]


@same_mistake("finetune_param_groups", "duplicate_params")
def backbone_group_from_the_whole_model(model, head_lr, backbone_lr):
    return [{"params": _trainable(model.fc), "lr": head_lr},
            {"params": [p for _, p in model.named_parameters() if p.requires_grad], "lr": backbone_lr}]


@same_mistake("finetune_param_groups", "includes_frozen_params")
def every_layer4_and_fc_parameter(model, head_lr, backbone_lr):
    return [{"params": list(model.fc.parameters()), "lr": head_lr},
            {"params": list(model.layer4.parameters()), "lr": backbone_lr},
            {"params": list(model.layer3.parameters()), "lr": backbone_lr}]


@same_mistake("finetune_param_groups", "includes_frozen_params")
def backbone_by_exclusion(model, head_lr, backbone_lr):
    head = {id(p) for p in model.fc.parameters()}
    return [{"params": _trainable(model.fc), "lr": head_lr},
            {"params": [p for p in model.parameters() if id(p) not in head], "lr": backbone_lr}]


# ---------------------------------------------------------------- set_frozen_bn_eval

@same_mistake("set_frozen_bn_eval", "whole_model_eval")
def eval_on_every_child(model):
    for child in model.children():
        child.eval()
    return model


@same_mistake("set_frozen_bn_eval", "whole_model_eval")
def train_false(model):
    return model.train(False)


@same_mistake("set_frozen_bn_eval", "bn_params_frozen_only")
def frozen_bn_parameters_by_name(model):
    for name, parameter in model.named_parameters():
        if ".bn" in f".{name}" or "downsample.1" in name:
            parameter.requires_grad_(False)      # stops the optimizer, not the running statistics
    return model


@same_mistake("set_frozen_bn_eval", "bn_params_frozen_only")
def momentum_left_and_weights_frozen(model):
    for name, module in model.named_modules():
        if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            module.weight.requires_grad = False
            module.bias.requires_grad = False
    return model
