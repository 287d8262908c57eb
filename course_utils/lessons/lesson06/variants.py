"""Lesson 06: more ways of committing each named mistake (requires_grad_ on modules, named_parameters, loops over
children, NumPy counts, optimizers built from groups); the tests check that the checker names each one's id."""
import numpy as np
import torch
from torch import nn

from ..declare import same_mistake


# ---------------------------------------------------------------- freeze_backbone

@same_mistake("freeze_backbone", "froze_everything")
def froze_the_whole_model_with_requires_grad_(model):
    model.requires_grad_(False)
    return model


@same_mistake("freeze_backbone", "froze_everything")
def froze_every_child(model):
    for child in model.children():
        for parameter in child.parameters():
            parameter.requires_grad = False       # fc is a child too
    return model


@same_mistake("freeze_backbone", "froze_nothing")
def unfroze_the_head_only(model):
    model.fc.requires_grad_(True)
    return model


@same_mistake("freeze_backbone", "froze_nothing")
def froze_a_copy(model):
    for parameter in [p.detach() for p in model.parameters()]:
        parameter.requires_grad = False           # detached copies: the model's own parameters never change
    for parameter in model.fc.parameters():
        parameter.requires_grad = True
    return model


@same_mistake("freeze_backbone", "eval_instead_of_freeze")
def eval_then_train_the_head(model):
    model.eval()
    model.fc.train()
    return model


@same_mistake("freeze_backbone", "eval_instead_of_freeze")
def eval_on_every_child_but_fc(model):
    for name, child in model.named_children():
        if name != "fc":
            child.eval()                          # "frozen"
    return model.eval()


@same_mistake("freeze_backbone", "froze_only_conv_layers")
def froze_conv_weights_by_name(model):
    for name, parameter in model.named_parameters():
        if "conv" in name or "downsample.0" in name:
            parameter.requires_grad = False
    for parameter in model.fc.parameters():
        parameter.requires_grad = True
    return model


@same_mistake("freeze_backbone", "froze_only_conv_layers")
def froze_modules_with_weights_of_rank_four(model):
    for parameter in model.parameters():
        if parameter.dim() == 4:                  # conv kernels; BatchNorm's weight and bias are 1-D
            parameter.requires_grad = False
    return model


@same_mistake("freeze_backbone", "head_left_frozen")
def froze_the_children_but_fc(model):
    for name, child in model.named_children():
        if name != "fc":
            child.requires_grad_(False)
    return model


@same_mistake("freeze_backbone", "head_left_frozen")
def froze_all_but_fc_in_one_loop(model):
    head = {id(p) for p in model.fc.parameters()}
    for parameter in model.parameters():
        if id(parameter) not in head:
            parameter.requires_grad_(False)
    return model


# ---------------------------------------------------------------- count_trainable

@same_mistake("count_trainable", "counted_tensors")
def counted_with_len(model):
    return len([p for p in model.parameters() if p.requires_grad]), len(list(model.parameters()))


@same_mistake("count_trainable", "counted_tensors")
def counted_names_in_numpy(model):
    flags = np.array([p.requires_grad for _, p in model.named_parameters()])
    return int(flags.sum()), int(flags.size)


@same_mistake("count_trainable", "counted_all_as_trainable")
def trainable_counted_without_the_condition(model):
    trainable = total = 0
    for parameter in model.parameters():
        trainable += parameter.numel()
        total += parameter.numel()
    return trainable, total


@same_mistake("count_trainable", "counted_all_as_trainable")
def counted_with_numpy_sizes(model):
    sizes = np.array([p.numel() for p in model.parameters()])
    return sizes.sum(), sizes.sum()


# ---------------------------------------------------------------- head_optimizer

@same_mistake("head_optimizer", "optimizer_before_head_replacement")
def optimizer_then_a_sequential_head(model):
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3, weight_decay=1e-4)
    model.fc = nn.Sequential(nn.Dropout(0.2), nn.Linear(512, 5))
    return optimizer


@same_mistake("head_optimizer", "optimizer_before_head_replacement")
def optimizer_then_a_new_weight(model):
    optimizer = torch.optim.AdamW(model.fc.parameters(), lr=1e-3, weight_decay=1e-4)
    last = model.fc[-1]
    last.weight = nn.Parameter(torch.zeros_like(last.weight))   # "re-initialise" after the optimizer exists
    return optimizer


@same_mistake("head_optimizer", "includes_frozen_params")
def optimizer_over_named_parameters(model):
    return torch.optim.AdamW([p for _, p in model.named_parameters()], lr=1e-3, weight_decay=1e-4)


@same_mistake("head_optimizer", "includes_frozen_params")
def optimizer_over_every_child(model):
    params = [p for child in model.children() for p in child.parameters()]
    return torch.optim.AdamW(params, lr=1e-3, weight_decay=1e-4)


@same_mistake("head_optimizer", "wrong_hyperparameters")
def learning_rate_ten_times_too_high(model):
    return torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2, weight_decay=1e-4)


@same_mistake("head_optimizer", "wrong_hyperparameters")
def decay_in_a_group_of_its_own(model):
    group = {"params": [p for p in model.parameters() if p.requires_grad], "lr": 1e-3, "weight_decay": 1e-2}
    return torch.optim.AdamW([group])


@same_mistake("head_optimizer", "not_adamw")
def sgd_with_momentum(model):
    return torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-3, momentum=0.9,
                           weight_decay=1e-4)


@same_mistake("head_optimizer", "not_adamw")
def rmsprop(model):
    return torch.optim.RMSprop(filter(lambda p: p.requires_grad, model.parameters()), lr=1e-3, weight_decay=1e-4)
