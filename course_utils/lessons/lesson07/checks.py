"""Lesson 07: the checkers of unfreeze_last_block, finetune_param_groups and set_frozen_bn_eval, from realistic
starting states (fully frozen, partly frozen, fully trainable)."""
from __future__ import annotations

import math
from functools import lru_cache

import torch
from torch import nn
from torchvision.models.resnet import BasicBlock, ResNet

from ...checking import expect, probes
from ...checking.describe import describe
from ...checking.sandbox import Mismatch, call_learner
from ...checking.starting import StartingState

OPEN = ("layer4", "fc")  # what the last-block strategy trains


@lru_cache(maxsize=None)
def prototype() -> nn.Module:
    """A small ResNet (two blocks in layer4) whose fc is already the new head: BatchNorm1d, Dropout, Linear(512, 5)."""
    torch.manual_seed(0)
    model = ResNet(BasicBlock, [1, 1, 1, 2])
    model.fc = nn.Sequential(nn.BatchNorm1d(512), nn.Dropout(0.2), nn.Linear(model.fc.in_features, 5))
    return model


def _freeze_head_batchnorm(model: nn.Module) -> None:
    model.fc[0].requires_grad_(False)


STATES = {  # after lesson 06 (only the head trains), everything frozen, layer1 frozen by an earlier experiment, ...
    "head trainable": StartingState(trainable=("fc.",)),
    "fully frozen": StartingState(trainable=()),
    "layer1 frozen": StartingState(frozen=("layer1.",)),
    "all trainable": StartingState(),
    "last block trainable": StartingState(trainable=OPEN),
    "part of the last block trainable": StartingState(trainable=("layer4.1.", "fc.")),
    "the head's BatchNorm1d frozen too": StartingState(trainable=OPEN, then=_freeze_head_batchnorm),
}


def _model(state: str) -> nn.Module:
    """A fresh copy of the prototype in one of STATES, in training mode."""
    return STATES[state].build(prototype())


def _under(model: nn.Module, *prefixes: str) -> set[str]:
    return set().union(*(probes.names_under(model, prefix) for prefix in prefixes))


def _unreplaced(before: dict[str, int], model: nn.Module, want: str) -> None:
    swapped = probes.replaced(before, probes.structure(model))
    if swapped:
        raise Mismatch(want, f"a model whose layers changed: {', '.join(swapped[:3])}",
                       "only change requires_grad (or modes): keep every layer, the head included, as it is.")


def check_unfreeze_last_block(answer) -> None:
    """Judge unfreeze_last_block from "head trainable", "fully frozen", "all trainable" and "layer1 frozen" (in
    STATES): requires_grad set as asked, no layer replaced, modes left alone.

    Names: `unfroze_everything`, `head_left_frozen`, `unfroze_wrong_block`.
    """
    for state in ("head trainable", "fully frozen", "all trainable", "layer1 frozen"):
        model = _model(state)
        want = f"layer4 and fc trainable, everything else frozen, starting from a model with {state} parameters"
        before = probes.structure(model)
        result = expect.same_model(call_learner(answer, model), model, want)
        _unreplaced(before, result, want)
        trainable, last, head = probes.trainable_names(result), _under(result, "layer4"), _under(result, "fc")
        if trainable == last | head:
            continue
        earlier = sorted(trainable - last - head)
        if earlier and trainable >= last | head and set(earlier) == set(probes.named_parameters(result)) - last - head:
            raise Mismatch(want, "every parameter trainable: the earlier blocks were never frozen",
                           "freeze everything first (requires_grad = False), then unfreeze model.layer4 and model.fc.",
                           "unfroze_everything")
        if earlier and not (trainable & last):
            block = earlier[0].split(".")[0]
            raise Mismatch(want, f"{block} trainable instead of layer4 (e.g. {earlier[0]})",
                           "the last residual block of a torchvision ResNet is model.layer4, just before the "
                           "pooling and fc.", "unfroze_wrong_block")
        if earlier:
            raise Mismatch(want, f"{len(earlier)} parameters outside layer4 and fc still trainable, e.g. {earlier[0]}",
                           "set requires_grad = False for every parameter outside model.layer4 and model.fc.")
        if last <= trainable and not head & trainable:
            raise Mismatch(want, "layer4 trainable but the head (fc) frozen",
                           "the new head must train too: also set requires_grad = True on model.fc's parameters.",
                           "head_left_frozen")
        missing = sorted((last | head) - trainable)
        raise Mismatch(want, f"{len(missing)} parameters of layer4 or fc still frozen, e.g. {missing[0]}",
                       "set requires_grad = True on every parameter of model.layer4 and model.fc.")


def _groups(result, want: str) -> list[tuple[list, dict]]:
    """(params, settings) of each group the learner returned, read through the built-in types' own methods."""
    advice = "return a list of dicts such as {'params': [...], 'lr': head_lr}."
    if isinstance(result, (dict, torch.Tensor, str, bytes)) or result is None:
        raise Mismatch(want, describe(result), advice)
    try:
        groups = list(iter(result))
    except TypeError:
        raise Mismatch(want, describe(result), advice) from None
    out = []
    for group in groups:
        if type(group) is not dict or "params" not in dict.keys(group):
            raise Mismatch(want, f"a group that is {describe(group)}", "make each group a plain dict: "
                           "{'params': [...], 'lr': ...}.")
        params = dict.__getitem__(group, "params")
        if isinstance(params, (dict, str, bytes, set, frozenset)):
            raise Mismatch(want, f"a group whose params are {describe(params)}", "put the parameters in a list: "
                           "torch.optim needs them in a fixed order (a set has none).")
        params = [params] if isinstance(params, torch.Tensor) else list(iter(params))
        if not all(isinstance(p, torch.Tensor) for p in params):
            raise Mismatch(want, "a group whose params are not all tensors", "use the model's parameters.")
        settings = {k: v for k, v in dict.items(group) if k != "params"}
        out.append((params, settings))
    return out


def _lr(settings: dict) -> float | None:
    value = settings.get("lr")
    tensor = expect.plain_tensor(value)
    if tensor is not None and tensor.numel() == 1 and tensor.is_floating_point():
        return float(tensor.item())                  # torch.optim accepts a tensor learning rate
    value = expect.plain_number(value)
    return float(value) if value is not None and not isinstance(value, bool) else None


def _same_rate(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6)      # float32 copies of a rate are the same rate


def check_finetune_param_groups(answer) -> None:
    """Judge finetune_param_groups from "last block trainable" (lr 1e-3 / 1e-4) and "part of the last block trainable"
    (lr 0.02 / 0.005), reading the groups as an optimizer would.

    Names: `swapped_learning_rates`, `single_learning_rate`, `duplicate_params`, `includes_frozen_params`.
    """
    for state, head_lr, backbone_lr in (("last block trainable", 1e-3, 1e-4),
                                        ("part of the last block trainable", 0.02, 0.005)):
        model = _model(state)
        names = probes.parameter_names_by_id(model)
        trainable = probes.trainable_names(model)
        head, body = trainable & _under(model, "fc"), trainable - _under(model, "fc")
        want = (f"on the checker's small ResNet ({state}): fc's {len(head)} trainable tensors at lr={head_lr} and "
                f"layer4's {len(body)} trainable tensors at lr={backbone_lr}, each once")
        groups = _groups(call_learner(answer, model, head_lr, backbone_lr), want)
        held = [names.get(id(p)) for params, _ in groups for p in params]
        if None in held:
            raise Mismatch(want, "a group holding a tensor that is not one of the model's parameters",
                           "collect the parameters from the model you were given.")
        repeated = sorted({n for n in held if held.count(n) > 1})
        if repeated:
            across = any(len({i for i, (params, _) in enumerate(groups) if any(names.get(id(p)) == n for p in params)})
                         > 1 for n in repeated)
            where = ("in more than one group: torch.optim refuses that ('some parameters appear in more than one "
                     "parameter group')") if across else "twice in one group: torch.optim warns and trains it twice"
            raise Mismatch(want, f"{repeated[0]} (and {len(repeated) - 1} more) {where}",
                           "build the groups from disjoint lists: fc's trainable parameters, and the trainable "
                           "parameters outside fc, each once.", "duplicate_params")
        frozen = sorted(set(held) - trainable)
        if frozen:
            raise Mismatch(want, f"{len(frozen)} frozen parameters in the groups, e.g. {frozen[0]}",
                           "keep only parameters with p.requires_grad: a frozen parameter in an optimizer starts "
                           "training at that group's rate the moment someone unfreezes it.", "includes_frozen_params")
        if set(held) != trainable:
            missing = sorted(trainable - set(held))
            raise Mismatch(want, f"{len(missing)} trainable parameters in no group, e.g. {missing[0]}",
                           "put every trainable parameter in exactly one group.")
        rate = {names[id(p)]: _lr(settings) for params, settings in groups for p in params}
        if any(r is None for r in rate.values()):
            raise Mismatch(want, "a group without a numeric 'lr'", "give each group its own 'lr' entry.")
        head_rates, body_rates = {rate[n] for n in head}, {rate[n] for n in body}
        if all(_same_rate(r, head_lr) for r in head_rates) and all(_same_rate(r, backbone_lr) for r in body_rates):
            continue
        if all(_same_rate(r, backbone_lr) for r in head_rates) and all(_same_rate(r, head_lr) for r in body_rates):
            raise Mismatch(want, f"fc at lr={backbone_lr} and layer4 at lr={head_lr}: the two rates swapped",
                           "the new head, which starts from random weights, gets the larger head_lr; the "
                           "pretrained block the gentle backbone_lr.", "swapped_learning_rates")
        if max(head_rates | body_rates) - min(head_rates | body_rates) <= 1e-6 * max(head_rates | body_rates):
            raise Mismatch(want, f"every parameter at lr={next(iter(head_rates))}",
                           "make two groups: {'params': head, 'lr': head_lr} and {'params': body, "
                           "'lr': backbone_lr}.", "single_learning_rate")
        raise Mismatch(want, f"fc at lr {sorted(head_rates)}, layer4 at lr {sorted(body_rates)}",
                       "use head_lr for fc's parameters and backbone_lr for the trainable ones outside fc.")


def _batchnorms(model: nn.Module) -> dict[str, nn.Module]:
    return {name: m for name, m in nn.Module.named_modules(model) if isinstance(m, nn.modules.batchnorm._BatchNorm)}


def _running_statistics(norms: dict[str, nn.Module]) -> dict[str, torch.Tensor]:
    return {name: m.running_mean.detach().clone() for name, m in norms.items()}


def check_set_frozen_bn_eval(answer) -> None:
    """Judge set_frozen_bn_eval after model.train() from "last block trainable", "head trainable" and "the head's
    BatchNorm1d frozen too": each module's mode, and running statistics that move only where they should.

    Names: `whole_model_eval`, `bn_params_frozen_only`.
    """
    for state in ("last block trainable", "head trainable", "the head's BatchNorm1d frozen too"):
        model = _model(state)
        flags = {n: probes.requires_grad(p) for n, p in probes.named_parameters(model).items()}
        norms = _batchnorms(model)
        frozen = {n for n, m in norms.items() if not any(probes.requires_grad(p) for p in m.parameters())}
        want = (f"after model.train(): the {len(frozen)} BatchNorm layers whose parameters are all frozen in eval "
                f"mode, everything else training ({state})")
        before = probes.structure(model)
        result = expect.same_model(call_learner(answer, model), model, want)
        _unreplaced(before, result, want)
        changed = sorted(n for n, p in probes.named_parameters(result).items() if probes.requires_grad(p) != flags[n])
        still = sorted(n for n in frozen if norms[n].training)
        if not any(m.training for n, m in nn.Module.named_modules(result) if n):  # every layer, whatever the root says
            raise Mismatch(want, "the whole model in eval mode: Dropout off and the trainable BatchNorm layers "
                           "frozen in their statistics too", "switch only the frozen BatchNorm layers: module.eval() "
                           "on each, not model.eval().", "whole_model_eval")
        if changed:
            mistake = "bn_params_frozen_only" if still and set(changed) <= probes.batchnorm_parameter_names(result) \
                else None
            raise Mismatch(want, f"requires_grad changed for {len(changed)} parameters (e.g. {changed[0]})"
                           + (f" while {len(still)} frozen BatchNorm layers still update their running statistics"
                              if still else ""),
                           "requires_grad decides what the optimizer updates; BatchNorm's running statistics "
                           "follow the module's mode. Leave requires_grad alone and call .eval() on each frozen "
                           "BatchNorm layer.", mistake)
        if still:
            raise Mismatch(want, f"{len(still)} frozen BatchNorm layers still in train mode, e.g. {still[0]}",
                           "for every BatchNorm module (BatchNorm1d and BatchNorm2d alike) whose parameters all have "
                           "requires_grad False, call module.eval().")
        stopped = sorted(n for n, m in nn.Module.named_modules(result) if n and n not in frozen and not m.training)
        if stopped:
            raise Mismatch(want, f"{len(stopped)} other modules put in eval mode too, e.g. {stopped[0]}",
                           "only BatchNorm layers whose parameters are all frozen go to eval; a BatchNorm with any "
                           "trainable parameter (layer4's, the head's BatchNorm1d) and Dropout keep training.")
        if not result.training:
            raise Mismatch(want, "the model itself reports training=False", "leave the model in train mode.")
        _statistics_behave(result, norms, frozen, want)


def _statistics_behave(model: nn.Module, norms: dict[str, nn.Module], frozen: set[str], want: str) -> None:
    """One forward pass, as training would run it: frozen statistics must stay put, the others must move."""
    before = _running_statistics(norms)
    with torch.no_grad():
        nn.Module.__call__(model, torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(0)))
    after = _running_statistics(norms)
    moved = sorted(n for n in frozen if not torch.equal(before[n], after[n]))
    if moved:
        raise Mismatch(want, f"frozen BatchNorm layers whose running statistics still change in a forward pass, "
                       f"e.g. {moved[0]}", "put them in eval mode with module.eval(), nothing that switches back.")
    stuck = sorted(n for n in norms.keys() - frozen if torch.equal(before[n], after[n]))
    if stuck:
        raise Mismatch(want, f"trainable BatchNorm layers whose running statistics no longer update, e.g. {stuck[0]}",
                       "leave BatchNorm layers with trainable parameters in train mode.")
