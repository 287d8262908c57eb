"""Lesson 06: the checkers of freeze_backbone, count_trainable and head_optimizer, from realistic starting states."""
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

LR, WEIGHT_DECAY = 1e-3, 1e-4


@lru_cache(maxsize=None)
def prototype() -> nn.Module:
    """A small ResNet whose fc is already the new head: Dropout, then Linear(512, 5)."""
    torch.manual_seed(0)
    model = ResNet(BasicBlock, [1, 1, 1, 1])
    model.fc = nn.Sequential(nn.Dropout(0.2), nn.Linear(model.fc.in_features, 5))
    return model


def _register_head_twice(model: nn.Module) -> None:
    model.classifier = model.fc  # one module under two names: its parameters exist once


STATES = {  # the states learners meet: all trainable, partly frozen, or with layer4 open too
    "all trainable": StartingState(),
    "partly frozen": StartingState(frozen=("layer1.", "fc.")),  # an earlier attempt froze layer1 and, by mistake, the head
    "head and layer4 trainable": StartingState(trainable=("fc.", "layer4.")),
    "a head registered twice": StartingState(then=_register_head_twice),
}


def _model(state: str) -> nn.Module:
    """A fresh copy of the prototype in one of STATES."""
    return STATES[state].build(prototype())


def _module_flags(model: nn.Module) -> list[str]:
    """Modules on which the answer set a plain ``requires_grad`` attribute (model.fc.requires_grad = True)."""
    return [name or "model" for name, module in nn.Module.named_modules(model)
            if "requires_grad" in object.__getattribute__(module, "__dict__")]


def _head_names(model: nn.Module) -> set[str]:
    return probes.names_under(model, "fc")


def check_freeze_backbone(answer) -> None:
    """Judge freeze_backbone from the starting states "all trainable" and "partly frozen" (in STATES).

    Names: `froze_everything`, `froze_nothing`, `eval_instead_of_freeze`, `froze_only_conv_layers`, `head_left_frozen`.
    """
    for state in ("all trainable", "partly frozen"):
        model = _model(state)
        model.train()
        want = f"only model.fc trainable, starting from a model with {state} parameters"
        head_module = model.fc
        head_was_frozen = not any(p.requires_grad for p in model.fc.parameters())
        result = expect.same_model(call_learner(answer, model), model, want)
        if model.fc is not head_module:
            raise Mismatch(want, "a model whose head was replaced", "keep model.fc as it is (the lesson 05 head); "
                           "freezing only changes requires_grad.")
        trainable, head = probes.trainable_names(result), _head_names(result)
        flagged = _module_flags(result)
        if flagged and not trainable & head:
            raise Mismatch(want, f"{flagged[0]}.requires_grad = ... set a new Python attribute on the module; a module "
                           f"has no such switch, so its parameters kept requires_grad as they were",
                           f"call the method with the underscore, {flagged[0]}.requires_grad_(True), or set "
                           f"p.requires_grad = True for each p in {flagged[0]}.parameters().")
        if not trainable and not head_was_frozen:
            raise Mismatch(want, "no parameter trainable at all, the new head included",
                           "freeze the backbone, then set requires_grad = True for model.fc's parameters: "
                           "training needs something to train.", "froze_everything")
        if not trainable & head and head_was_frozen:
            raise Mismatch(want, "the backbone frozen, but the head still frozen as it came in (an earlier cell had "
                           "frozen model.fc, and your code never made it trainable)",
                           "after freezing, set requires_grad = True for every parameter of model.fc: the answer "
                           "must not depend on what was frozen before.", "head_left_frozen")
        if trainable == set(probes.named_parameters(result)):
            if not result.training:
                raise Mismatch(want, "every parameter still trainable; the model was put in eval mode instead",
                               "model.eval() only changes how Dropout and BatchNorm behave. Freezing is "
                               "p.requires_grad = False for each backbone parameter.", "eval_instead_of_freeze")
            raise Mismatch(want, "every parameter still trainable", "set requires_grad = False for every "
                           "parameter outside model.fc.", "froze_nothing")
        backbone_open = sorted(trainable - head)
        norms = probes.batchnorm_parameter_names(result) - head
        if backbone_open and norms <= set(backbone_open) and len(set(backbone_open) - norms) < len(norms) / 4:
            open_norms = sorted(norms)
            raise Mismatch(want, f"the convolutions are frozen but {len(open_norms)} BatchNorm parameters "
                           f"(e.g. {open_norms[0]}) still train", "freeze every parameter outside model.fc, "
                           "whatever layer it belongs to: loop over model.parameters().", "froze_only_conv_layers")
        if backbone_open:
            raise Mismatch(want, f"backbone parameters still trainable, e.g. {backbone_open[0]}",
                           "set requires_grad = False for every parameter outside model.fc.")
        if trainable != head:
            raise Mismatch(want, f"part of the head frozen: {sorted(head - trainable)[0]}",
                           "make every parameter of model.fc trainable (requires_grad = True), including ones "
                           "an earlier cell froze.")


def check_count_trainable(answer) -> None:
    """Judge count_trainable from "partly frozen", "head and layer4 trainable" and "a head registered twice".

    Names: `counted_tensors`, `counted_all_as_trainable`.
    """
    for state in ("partly frozen", "head and layer4 trainable", "a head registered twice"):
        model = _model(state)
        expected = probes.element_counts(model)
        want = f"(trainable, total) = ({expected[0]:,}, {expected[1]:,}) elements for a model with {state} parameters"
        trainable, total = expect.sequence(call_learner(answer, model), 2, want, "return a pair: trainable, total.")
        got = (expect.number(trainable, want, "count elements with p.numel().", integral=True),
               expect.number(total, want, "count elements with p.numel().", integral=True))
        if got == expected:
            continue
        if got == expected[::-1]:
            raise Mismatch(want, f"{got}: the right numbers in the wrong order", "return (trainable, total): the "
                           "trainable count first.")
        with_buffers = sum(v.numel() for v in model.state_dict().values())
        if got[1] == with_buffers != expected[1]:
            raise Mismatch(want, f"{got}: a total counted from state_dict(), which also holds buffers (BatchNorm's "
                           f"running statistics), {with_buffers - expected[1]:,} numbers that are no parameters",
                           "count model.parameters() for the total: sum(p.numel() for p in model.parameters()).")
        if got[0] == 0 < expected[0] and got[1] == expected[1]:
            raise Mismatch(want, f"{got}: nothing counted as trainable", "test p.requires_grad, not p.grad: .grad stays "
                           "None until a backward pass, whether or not the parameter trains.")
        modules = list(nn.Module.modules(model))
        nested = (sum(p.numel() for m in modules for p in m.parameters() if p.requires_grad),
                  sum(p.numel() for m in modules for p in m.parameters()))
        if got == nested != expected:
            raise Mismatch(want, f"{got}: each parameter counted once for every module above it (m.parameters() "
                           "includes the parameters of every submodule)", "iterate over model.parameters() once; "
                           "if you loop over modules, use m.parameters(recurse=False).")
        tensors = (sum(p.requires_grad for p in model.parameters()), len(list(model.parameters())))
        if got == tensors:
            raise Mismatch(want, f"{got}: the number of parameter tensors, not of their elements",
                           "add up p.numel() for each parameter instead of counting the tensors.", "counted_tensors")
        twice = sum(p.numel() for _, p in model.named_parameters(remove_duplicate=False) if p.requires_grad)
        if got[0] == twice != expected[0]:
            raise Mismatch(want, f"{got}: a parameter registered under two names counted twice",
                           "iterate over model.parameters(), which lists each parameter tensor once.")
        if got[0] == got[1] == expected[1]:
            raise Mismatch(want, f"{got}: every element counted as trainable",
                           "count only parameters with p.requires_grad for the first number.", "counted_all_as_trainable")
        raise Mismatch(want, str(got), "sum(p.numel() for p in model.parameters() if p.requires_grad), and the same "
                       "sum without the condition.")


def check_head_optimizer(answer) -> None:
    """Judge head_optimizer from "partly frozen" and "head and layer4 trainable", the head made trainable in both.

    Names: `optimizer_before_head_replacement`, `includes_frozen_params`, `wrong_hyperparameters`, `not_adamw`.
    """
    for state in ("partly frozen", "head and layer4 trainable"):
        model = _model(state)
        for p in model.fc.parameters():
            p.requires_grad = True
        trainable = {id(p) for p in model.parameters() if p.requires_grad}
        in_model = {id(p) for p in model.parameters()}
        want = f"AdamW over exactly the {len(trainable)} trainable parameter tensors, lr={LR}, weight_decay={WEIGHT_DECAY}"
        optimizer = call_learner(answer, model)
        if not issubclass(type(optimizer), torch.optim.Optimizer):
            raise Mismatch(want, describe(optimizer), "return torch.optim.AdamW(...).")
        entries = probes.optimizer_entries(optimizer)
        held = [i for i, _ in entries]
        if any(i not in {id(p) for p in model.parameters()} for i in held):
            raise Mismatch(want, "an optimizer holding parameters that are no longer in the model: it was created "
                           "before the head was replaced", "replace the head first, then create the optimizer from "
                           "the model's parameters as they are now.", "optimizer_before_head_replacement")
        if {id(p) for p in model.parameters()} != in_model:
            raise Mismatch(want, "the model's parameters changed while the optimizer was made (a layer replaced?)",
                           "only build the optimizer: leave the model as it is.")
        if len(held) != len(set(held)):
            raise Mismatch(want, "an optimizer that holds some parameters twice",
                           "list each trainable parameter once: [p for p in model.parameters() if p.requires_grad].")
        if any(i not in trainable for i in held):
            raise Mismatch(want, f"an optimizer over {len(held)} tensors, frozen ones included",
                           "pass only trainable parameters: (p for p in model.parameters() if p.requires_grad).",
                           "includes_frozen_params")
        if set(held) != trainable:
            names = {id(p): n for n, p in probes.named_parameters(model).items()}
            left_out = sorted({names[i].split(".")[0] for i in trainable - set(held)})
            raise Mismatch(want, f"an optimizer over {len(set(held))} of the {len(trainable)} trainable tensors: on "
                           f"this model {', '.join(left_out)} train{'s' * (len(left_out) == 1)} too, and the optimizer "
                           f"leaves {'it' if len(left_out) == 1 else 'them'} out",
                           "select parameters by requires_grad, not by name: "
                           "[p for p in model.parameters() if p.requires_grad].")
        settings = [s for _, s in entries]
        if not issubclass(type(optimizer), torch.optim.AdamW):
            raise Mismatch(want, f"{describe(optimizer)}, not AdamW", "use torch.optim.AdamW: Adam adds weight decay to "
                           "the gradient, where the adaptive step scales it down; AdamW decays the weights directly. "
                           f"torch.optim.AdamW(params, lr={LR}, weight_decay={WEIGHT_DECAY}).", "not_adamw")
        if any(not math.isclose(s.get("lr", math.nan), LR) or s.get("maximize", False)
                            or not math.isclose(s.get("weight_decay", math.nan), WEIGHT_DECAY) for s in settings):
            shown = "; ".join(sorted({f"lr={s.get('lr')}, weight_decay={s.get('weight_decay')}"
                                      + (", maximize=True" if s.get("maximize") else "") for s in settings}))
            advice = f"torch.optim.AdamW(params, lr={LR}, weight_decay={WEIGHT_DECAY}) for every parameter."
            if any(math.isclose(s.get("weight_decay", 0), 0.01) for s in settings):
                advice += " AdamW's default weight decay is 0.01: pass weight_decay explicitly."
            raise Mismatch(want, f"AdamW with {shown}", advice,
                           "wrong_hyperparameters")
