"""Lesson 05: the checkers of replace_head and replace_classifier, on small copies of torchvision architectures.

Each architecture is built once per session and every check gets a deep copy, so even ConvNeXt and ViT
checks stay fast. ConvNeXt and ViT are torchvision's own classes in small configurations: the same head
layout as convnext_tiny and vit_b_16, a fraction of the parameters.
"""
from __future__ import annotations

import copy
import re
from functools import lru_cache

import torch
from torch import nn
from torchvision import models
from torchvision.models.convnext import CNBlockConfig, ConvNeXt
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet
from torchvision.models.vision_transformer import VisionTransformer

from ...checking import expect
from ...checking.describe import describe
from ...checking.explain import explain_error
from ...checking.sandbox import LearnerError, Mismatch, call_learner
from ...models.heads import final_linear, linear_modules
from ...models.modes import evaluating


@lru_cache(maxsize=None)
def _prototype(name: str) -> tuple[nn.Module, int]:
    """(model with random but fixed weights, input size) for one architecture, built once."""
    torch.manual_seed(0)
    builders = {
        "ResNet-18": lambda: (ResNet(BasicBlock, [2, 2, 2, 2]), 64),
        "ResNet with 2048 features (as ResNet-50)": lambda: (ResNet(Bottleneck, [1, 1, 1, 1]), 64),
        "resnet18": lambda: (models.resnet18(weights=None), 64),
        "mobilenet_v3_small": lambda: (models.mobilenet_v3_small(weights=None), 64),
        "efficientnet_b0": lambda: (models.efficientnet_b0(weights=None), 64),
        "convnext (convnext_tiny's layout)": lambda: (ConvNeXt([CNBlockConfig(32, 64, 1), CNBlockConfig(64, None, 1)]),
                                                      64),
        "vit (vit_b_16's layout)": lambda: (VisionTransformer(image_size=32, patch_size=16, num_layers=1, num_heads=2,
                                                               hidden_dim=32, mlp_dim=64), 32),
    }
    model, size = builders[name]()
    return model.eval(), size


def prepare_replace_head() -> None:
    """Build the ResNets replace_head is checked on, before the time limit starts."""
    for name in RESNETS:
        _prototype(name)


def prepare_replace_classifier() -> None:
    """Build the architectures replace_classifier is checked on, before the time limit starts."""
    for name in ARCHITECTURES:
        _prototype(name)


def _fresh(name: str) -> tuple[nn.Module, torch.Tensor, str, dict[str, torch.Tensor]]:
    """A copy of the architecture, an input batch, its head's path and a snapshot of every other weight."""
    prototype, size = _prototype(name)
    model = copy.deepcopy(prototype)
    head, _ = final_linear(model, torch.zeros(1, 3, size, size))
    backbone = {n: p.detach().clone() for n, p in model.named_parameters() if not n.startswith(head + ".")}
    return model, torch.rand(2, 3, size, size, generator=torch.Generator().manual_seed(1)), head, backbone


ADVICE = {  # the next step for each named mistake whose advice does not depend on the probe
    "hardcoded_in_features": "read the size from the model instead of typing it: nn.Linear(model.fc.in_features, "
                             "num_classes). 512 fits ResNet-18 and -34 only; ResNet-50 hands its head 2048 features.",
    "replaced_wrong_linear": "replace only the final Linear layer (the last nn.Linear in model.named_modules()): "
                             "the layers before it must keep their sizes.",
    "reinitialized_backbone": "modify the model you receive and return it: only its head should be new.",
    "stacked_on_old_head": "replace the old head instead of appending to it: "
                           "model.fc = nn.Linear(model.fc.in_features, num_classes).",
}


def _forward(model: nn.Module, batch: torch.Tensor, want: str, mistake: str | None,
             any_error: bool = False) -> torch.Tensor:
    """Logits in eval mode (the model's modes given back). A Linear shape error (or, with ``any_error``, any error
    of the model's forward pass) names ``mistake``."""
    try:
        with evaluating(model), torch.no_grad():
            return expect.tensor(call_learner(model, batch), want, "return the model itself, with its new head.")
    except LearnerError as err:
        if mistake and (any_error or "mat1 and mat2 shapes cannot be multiplied" in err.original_text):
            explanation, _ = explain_error(err.original_text)
            raise Mismatch(want, f"the model raised {err}" + (f" ({explanation})" if explanation else ""),
                           ADVICE[mistake], mistake) from None
        raise


def _head_of(model: nn.Module, batch: torch.Tensor, want: str) -> tuple[str, nn.Linear]:
    found = final_linear(model, batch[:1])
    if found is None:
        raise Mismatch(want, "a model in which no nn.Linear layer runs", "end the head with an nn.Linear layer: "
                       "nn.Linear(in_features, num_classes).")
    return found


def _head_output(model: nn.Module, head: nn.Linear, batch: torch.Tensor) -> torch.Tensor | None:
    """What the final Linear layer itself outputs when the model runs on ``batch`` (eval mode, modes given back)."""
    seen = []
    handle = head.register_forward_hook(lambda module, args, out: seen.append(out))
    try:
        with evaluating(model), torch.no_grad():
            call_learner(model, batch)
    finally:
        handle.remove()
    return expect.plain_tensor(seen[-1]) if seen else None


def _judge_new_head(model: nn.Module, logits: torch.Tensor, head: nn.Linear, features: int, want: str,
                    batch: torch.Tensor) -> None:
    """The new head gives raw, trainable scores: no activation after it, its parameters not frozen.
    ``features`` is what the backbone hands the head (the old head's in_features)."""
    scores = logits
    raw = _head_output(model, head, batch)
    if raw is not None and expect.close(raw, logits):
        scores = None  # the model returns exactly what its final Linear layer computed: nothing comes after it
    fc = dict(nn.Module.named_children(model)).get("fc")
    if isinstance(fc, nn.Module):  # probe a ResNet head alone with features of both signs and a wide range
        with evaluating(fc), torch.no_grad():
            scores = expect.plain_tensor(call_learner(fc, 10 * torch.randn(
                64, features, generator=torch.Generator().manual_seed(2))))
    if scores is not None:
        expect.raw_scores(scores, want)
    if not all(p.requires_grad for p in head.parameters()):
        raise Mismatch(want, "a new head whose parameters are frozen (requires_grad=False)",
                       "leave the new head trainable: it is the part that has to learn the new task.")


def _aligned(model: nn.Module, backbone: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The model's parameter for each backbone name: the same name, or the name inside a wrapper (``0.conv1.weight``,
    ``base.conv1.weight``) when the answer wrapped the model it was given."""
    now = dict(nn.Module.named_parameters(model))  # a lazy head's parameters have no values yet: never read them
    found = {n: now[n] for n in backbone if n in now}
    if found:
        return found
    for name in backbone:
        inside = [n for n in now if n.endswith("." + name)]
        if len(inside) == 1:
            found[name] = now[inside[0]]
    return found


def _changed_backbone(model: nn.Module, backbone: dict[str, torch.Tensor]) -> list[str]:
    now = _aligned(model, backbone)
    return [n for n, value in backbone.items() if n not in now or not expect.same(now[n].detach(), value)]


def _judge_resnet(answer, name: str, num_classes: int) -> None:
    model, batch, head, backbone = _fresh(name)
    old = model.get_submodule(head)
    old_in, old_out, old_weight = old.in_features, old.out_features, old.weight.detach().clone()
    want = f"a {name} that outputs {num_classes} scores per image, from its own {old_in} features"
    result = expect.module(call_learner(answer, model, num_classes), want, "return the model after replacing model.fc.")
    if not _aligned(result, backbone):
        raise Mismatch(want, f"{describe(result)}, without the backbone's layers", "return the whole model "
                       "(return model), not only its new head.")
    logits = _forward(result, batch, want, "hardcoded_in_features")
    if tuple(logits.shape) == (2, old_out):
        if any(module is old for _, module in linear_modules(result)):
            resized = old.out_features != old_out
            raise Mismatch(want, f"{describe(logits)}: model.fc is still the old {old_in}->{old_out} layer" +
                           (f"; setting its out_features to {old.out_features} only changed a number, its weight is "
                            f"still [{old_out}, {old_in}]" if resized else
                            "; no new layer was put into the model (one assigned to a local name changes nothing)"),
                           "assign a new layer to the model's attribute: "
                           "model.fc = nn.Linear(model.fc.in_features, num_classes).")
        raise Mismatch(want, f"{describe(logits)}: a new head, but with the old head's {old_out} outputs",
                       f"give the new head num_classes={num_classes} outputs: "
                       f"nn.Linear(model.fc.in_features, num_classes).", "kept_1000_outputs")
    if tuple(logits.shape) != (2, num_classes):
        raise Mismatch(want, describe(logits), "end the new head with nn.Linear(model.fc.in_features, num_classes).")
    if any(m.weight.shape == old_weight.shape and expect.same(m.weight.detach(), old_weight)
           for _, m in linear_modules(result)):
        raise Mismatch(want, f"the old {old_in}->{old_out} layer is still in the model, with the new layer "
                       f"stacked after it", ADVICE["stacked_on_old_head"], "stacked_on_old_head")
    if _changed_backbone(result, backbone):
        raise Mismatch(want, "a model whose backbone weights are not the pretrained ones it was given (a freshly "
                       "built or re-initialised network?)", ADVICE["reinitialized_backbone"], "reinitialized_backbone")
    _judge_new_head(result, logits, _head_of(result, batch, want)[1], old_in, want, batch)


RESNETS = ("ResNet-18", "ResNet with 2048 features (as ResNet-50)")  # a hard-coded 512 shows on the second
ARCHITECTURES = ("resnet18", "mobilenet_v3_small", "efficientnet_b0", "convnext (convnext_tiny's layout)",
                 "vit (vit_b_16's layout)")


def check_replace_head(answer) -> None:
    """Judge replace_head on a ResNet-18 and a ResNet with 2048 features (a hard-coded 512 shows there), each built
    before the time limit: the head's sizes, raw trainable scores, the backbone's weights untouched.

    Names: `hardcoded_in_features`, `kept_1000_outputs`, `reinitialized_backbone`, `stacked_on_old_head`.
    """
    _judge_resnet(answer, RESNETS[0], 5)
    try:
        _judge_resnet(answer, RESNETS[1], 3)
    except LearnerError as err:  # it worked on ResNet-18: what fails is what it assumed about the model's size
        raise Mismatch("replace_head working on any ResNet, here one with 2048 features (as ResNet-50)",
                       f"an answer that works on ResNet-18 but raised {err} on the 2048-feature ResNet",
                       ADVICE["hardcoded_in_features"], "hardcoded_in_features") from None


def check_replace_classifier(answer) -> None:
    """Judge replace_classifier on resnet18, mobilenet_v3_small, efficientnet_b0 and small models in
    convnext_tiny's and vit_b_16's layouts: the final Linear layer (found by running the model) replaced, the others kept.

    Names: `assumed_fc`, `replaced_wrong_linear`.
    """
    num_classes = 7
    passed_fc_model = False
    for name in ARCHITECTURES:
        model, batch, head, backbone = _fresh(name)
        features = model.get_submodule(head).in_features
        others = {path: module.weight.detach().clone() for path, module in linear_modules(model) if path != head}
        want = f"{name} ending in {num_classes} scores per image (its final Linear layer, {head}, replaced)"
        try:
            result = expect.module(call_learner(answer, model, num_classes), want,
                                   "return the model with its new head.")
        except LearnerError as err:
            _assumed_attribute(err, name, head, want, passed_fc_model)
            raise
        now = dict(linear_modules(result))
        replaced_other = [p for p, weight in others.items()
                          if p not in now or not expect.same(now[p].weight.detach(), weight)]
        mistake = "replaced_wrong_linear" if replaced_other else None
        logits = _forward(result, batch, want, mistake, any_error=True)
        if tuple(logits.shape) != (2, num_classes):
            if "fc" in dict(nn.Module.named_children(result)) and not head.startswith("fc"):
                raise Mismatch(want, f"{describe(logits)}: a new attribute fc that the model never uses",
                               f"{name} keeps its head in {head}, not in model.fc: find the last nn.Linear in "
                               "model.named_modules() and replace that one.", "assumed_fc")
            raise Mismatch(want, describe(logits), f"replace the final Linear layer ({head}) by one with "
                           f"num_classes outputs.", mistake)
        if replaced_other:
            raise Mismatch(want, f"the right shape, but a Linear layer before the head was replaced too "
                           f"({', '.join(replaced_other)})", f"replace only the final Linear layer, {head}.",
                           "replaced_wrong_linear")
        if _changed_backbone(result, backbone):
            raise Mismatch(want, "other weights of the model changed", "replace only the head; keep the rest as it was.")
        _judge_new_head(result, logits, _head_of(result, batch, want)[1], features, want, batch)
        passed_fc_model = passed_fc_model or head == "fc"


_MISSING_ATTRIBUTE = re.compile(r"has no attribute '(\w+)'")


def _assumed_attribute(err: LearnerError, name: str, head: str, want: str, passed_fc_model: bool) -> None:
    """The answer failed on an architecture because it looked for the head where this one has none: say so. An
    answer that handled a model with a .fc head and raises on one without, or whose error names fc, assumed fc."""
    text, line = err.original_text, err.learner_line or ""
    missing = _MISSING_ATTRIBUTE.search(text)
    names_fc = "fc" in re.findall(r"\w+", text + " " + line)
    if missing and missing.group(1) not in ("fc", head.split(".")[0]):
        raise Mismatch(want, f"your code raised {err}: it reads model.{missing.group(1)}, which {name} does not "
                       f"have (its head is {head})", "find the head without assuming its name: the last nn.Linear in "
                       "model.named_modules(), replaced through its parent module.") from None
    if not head.startswith("fc.") and head != "fc" and (names_fc or passed_fc_model):
        before = "handled a model whose head is model.fc, then " if passed_fc_model else ""
        raise Mismatch(want, f"your code {before}raised {err} on {name}, whose head is {head}: it expects a model.fc",
                       f"find the head without assuming its name: the last nn.Linear in model.named_modules() "
                       f"(here {head}), and replace that one.", "assumed_fc") from None
