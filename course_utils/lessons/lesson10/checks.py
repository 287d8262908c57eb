"""Lesson 10: the checkers of grad_cam (where a CNN looks) and threshold_for_recall (the decision threshold that
finds a share of the defective cells)."""
from __future__ import annotations

import copy
import math

import torch
from torch import nn

from ...checking import expect
from ...checking.describe import describe
from ...checking.sandbox import Mismatch, call_learner
from ...training.gradcam import grad_cam as reference_grad_cam
from ...training.probe import threshold_for_recall as reference_threshold

# ---------------------------------------------------------------- grad_cam


class _Watched(nn.Sequential):
    """A block that counts the calls of every hook registered on it, so a hook left behind shows when the model
    runs again (nothing private is read: the hooks report themselves)."""

    def __init__(self, *layers: nn.Module):
        super().__init__(*layers)
        self.fired = 0

    def _counted(self, hook):
        def counted(*args, **kwargs):
            self.fired += 1
            return hook(*args, **kwargs)
        return counted

    def register_forward_hook(self, hook, *args, **kwargs):
        return super().register_forward_hook(self._counted(hook), *args, **kwargs)

    def register_forward_pre_hook(self, hook, *args, **kwargs):
        return super().register_forward_pre_hook(self._counted(hook), *args, **kwargs)

    def register_full_backward_hook(self, hook, *args, **kwargs):
        return super().register_full_backward_hook(self._counted(hook), *args, **kwargs)

    def register_full_backward_pre_hook(self, hook, *args, **kwargs):
        return super().register_full_backward_pre_hook(self._counted(hook), *args, **kwargs)

    def register_backward_hook(self, hook):
        return super().register_backward_hook(self._counted(hook))


class _Net(nn.Module):
    """A small CNN with BatchNorm: stem, the watched block whose output Grad-CAM reads ([B, 6, 8, 8] for 16 px
    images), a pooled linear head over 4 classes."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2))
        self.block = _Watched(nn.Conv2d(6, 6, 3, padding=1), nn.ReLU())
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 4))

    def forward(self, x):
        return self.head(self.block(self.stem(x)))


def cam_model() -> _Net:
    """The checker's network in eval mode, its weights and BatchNorm statistics fixed by a seed."""
    with torch.random.fork_rng():
        torch.manual_seed(3)
        model = _Net()
        with torch.no_grad():
            model.stem[1].running_mean.uniform_(-0.1, 0.1)
            model.stem[1].running_var.uniform_(0.5, 1.5)
            model.head[2].weight.mul_(3)
    return model.eval()


def cam_images(batch: int, seed: int) -> torch.Tensor:
    """``batch`` 16 px images, each brighter than the last, so their maps peak at different heights."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.randn(batch, 3, 16, 16, generator=generator)
    return images * torch.linspace(0.5, 2.5, batch).view(batch, 1, 1, 1)


def _raw_maps(model: nn.Module, images: torch.Tensor, class_idx) -> torch.Tensor:
    """sum over channels of weight x A, before the ReLU and before any division: for naming mistakes."""
    saved = {}
    handle = nn.Module.register_forward_hook(model.block, lambda m, i, o: saved.__setitem__("A", o))
    try:
        with torch.enable_grad():
            scores = model(images)
            chosen = scores.argmax(1) if class_idx is None else torch.as_tensor(class_idx).long().expand(len(images))
            gradient, = torch.autograd.grad(scores.gather(1, chosen[:, None]).sum(), saved["A"])
    finally:
        handle.remove()
    return (gradient.mean(dim=(2, 3), keepdim=True) * saved["A"]).sum(1).detach()


def _by_own_max(maps: torch.Tensor) -> torch.Tensor:
    peak = maps.amax(dim=(1, 2), keepdim=True)
    return torch.where(peak > 0, maps / peak.clamp_min(1e-12), maps)


def _cases():
    """(description, images, class_idx): None, an int, a list, a tensor, and a single image."""
    yield "3 images, class_idx=None (each image's predicted class)", cam_images(3, 0), None
    yield "3 images, class_idx=2 for all", cam_images(3, 1), 2
    yield "3 images, class_idx=[0, 3, 1]", cam_images(3, 2), [0, 3, 1]
    yield "4 images, class_idx=torch.tensor([1, 1, 0, 2])", cam_images(4, 3), torch.tensor([1, 1, 0, 2])
    yield "1 image, class_idx=None", cam_images(1, 4), None


def _grads(model: nn.Module) -> list:
    return [None if p.grad is None else p.grad.clone() for p in model.parameters()]


def _hooks_fire(model: _Net, images: torch.Tensor) -> int:
    """How many hook calls one more forward and backward pass of the model triggers (0 when none is left); a hook
    that raises counts too. The model's .grad is cleared afterwards: run this last."""
    model.block.fired = 0
    try:
        with torch.enable_grad():
            model(images).sum().backward()
    except Exception:  # noqa: BLE001  (only a hook the answer left can raise here)
        model.block.fired = max(1, model.block.fired)
    model.zero_grad(set_to_none=True)
    return model.block.fired


def _name_map_mistake(out: torch.Tensor, model: nn.Module, images: torch.Tensor, class_idx, want: str) -> None:
    """The maps are wrong: say which known mistake they match, else what differs."""
    raw = _raw_maps(model, images, class_idx)
    if class_idx is not None and expect.close(out, reference_grad_cam(model, model.block, images), atol=1e-4):
        raise Mismatch(want, "the maps of each image's predicted class, not of the classes in class_idx",
                       "score the class you are given: scores[range(B), class_idx] (an int means that class for "
                       "every image); only class_idx=None means the predicted class.", "ignored_class_idx")
    spread = (raw.amax(dim=(1, 2), keepdim=True) - raw.amin(dim=(1, 2), keepdim=True)).clamp_min(1e-12)
    no_relu = ((raw - raw.amin(dim=(1, 2), keepdim=True)) / spread,  # min-max scaled: negative regions turn grey
               raw.abs() / raw.abs().amax(dim=(1, 2), keepdim=True).clamp_min(1e-12))  # evidence against counted for
    if (out.min() < -1e-6 and raw.min() < 0) or any(expect.close(out, m, atol=1e-4) for m in no_relu):
        raise Mismatch(want, "maps that keep the regions with a negative weighted sum (negative values, or all values "
                       "shifted to make room for them)", "apply ReLU to the weighted sum before dividing by its "
                       "maximum: Grad-CAM keeps only what argues FOR the class.", "no_relu")
    relu = torch.relu(raw)
    over_batch = relu / relu.amax().clamp_min(1e-12)
    if len(images) > 1 and expect.close(out, over_batch, atol=1e-4):
        raise Mismatch(want, "maps divided by the largest value of the whole batch: one image's map depends on "
                       "the others (a faint image next to a bright one comes out nearly blank)",
                       "divide each map by its own maximum: maps.amax(dim=(1, 2), keepdim=True).",
                       "normalised_over_batch")
    if expect.close(out, relu, atol=1e-4) or expect.close(out, relu, rtol=1e-3):
        raise Mismatch(want, "the right maps, not divided by their maximum (values above 1)",
                       "divide each map by its own maximum when that maximum is > 0, so it lies in [0, 1].")
    raise Mismatch(want, f"maps that differ from Grad-CAM's by up to {(out - _by_own_max(relu)).abs().max():.3g}",
                   "per image: weights = gradient of its class score w.r.t. the layer's output A, averaged over "
                   "height and width; map = ReLU(sum over channels of weights x A) / its maximum.")


def check_grad_cam(answer) -> None:
    """Judge grad_cam on a small CNN with BatchNorm in eval mode, 16 px images of different brightness, class_idx
    None, an int, a list and a tensor, and one image, against the course's Grad-CAM; afterwards no hook may fire,
    every .grad must be as before and the model still in eval mode.

    Names: `no_relu`, `hooks_left`, `ignored_class_idx`, `normalised_over_batch`.
    """
    for description, images, class_idx in _cases():
        model = cam_model()
        with torch.enable_grad():  # a .grad the learner's model could hold from training: it must stay as it is
            model(cam_images(2, 99)).sum().backward()
        expected = reference_grad_cam(model, model.block, images, class_idx)
        before = _grads(model)
        want = (f"a [{len(images)}, 8, 8] float tensor of maps in [0, 1], each divided by its own maximum, for "
                f"{description}")
        given_idx = class_idx.clone() if isinstance(class_idx, torch.Tensor) else copy.copy(class_idx)
        out = expect.on_copies(answer, model, model.block, images, given_idx)
        out = expect.tensor(out, want, "return the maps as one tensor [B, h, w].")
        if any(m.training for m in model.modules()):
            raise Mismatch(want, "the model left in train mode", "leave the model's mode as it was: it arrived in "
                           "eval mode (model.eval() is fine; never model.train() at the end).")
        if not all((a is None and b is None) or (a is not None and b is not None and torch.equal(a, b))
                   for a, b in zip(before, _grads(model))):
            raise Mismatch(want, "the parameters' .grad changed (zeroed, accumulated or cleared)",
                           "take the gradient with torch.autograd.grad(score, activations), which writes no .grad; or "
                           "save every parameter's .grad first and put it back.")
        hooks = _hooks_fire(model, images)
        if hooks:
            raise Mismatch(want, f"hooks left on the layer: one more forward and backward pass of the model called "
                           f"them {hooks} time(s)", "keep the handle that register_forward_hook (or "
                           "register_full_backward_hook) returns and call handle.remove() when done, in a `finally:` "
                           "block so an error cannot leave it behind.", "hooks_left")
        if out.requires_grad:
            raise Mismatch(want, "a tensor that still requires grad", "return maps.detach(): they are for looking "
                           "at, not for training.")
        if tuple(out.shape) != tuple(expected.shape):
            got = list(out.shape)
            hint = (" (a batch dimension missing?)" if out.dim() == 2 else
                    " (the channels kept: sum over them)" if out.dim() == 4 else "")
            raise Mismatch(want, f"shape {got}{hint}", "one map per image at the layer's resolution: [B, h, w].")
        if not out.is_floating_point():
            raise Mismatch(want, f"dtype {out.dtype}", "return float maps: they hold fractions of the maximum.")
        if not expect.close(out, expected, atol=1e-4):
            _name_map_mistake(out.detach(), model, images, class_idx, want)


# ---------------------------------------------------------------- threshold_for_recall


def _scores_cases():
    """(description, scores, targets, recall): distinct scores, ties, recall 1, small recalls, float64, int32."""
    g = torch.Generator().manual_seed(0)
    targets = (torch.rand(60, generator=g) < 0.35).long()
    scores = (targets * 0.35 + torch.rand(60, generator=g) * 0.65)
    yield "60 samples (21 defective), distinct scores, recall 0.9", scores, targets, 0.9
    yield "the same samples, recall 1.0", scores, targets, 1.0
    yield "the same samples, recall 0.05 (one defective sample is enough)", scores, targets, 0.05
    tied = torch.tensor([0.9, 0.8, 0.8, 0.8, 0.7, 0.6, 0.6, 0.3, 0.2, 0.1])
    yield ("10 samples with tied scores (0.8 three times), 5 defective, recall 0.7", tied,
           torch.tensor([1, 0, 1, 1, 0, 1, 0, 1, 0, 0]), 0.7)
    yield "10 defective samples, recall 0.7 (exactly 7 of 10)", torch.linspace(0.05, 0.95, 10), torch.ones(10).long(), 0.7
    yield "the first case as float64 scores and int32 targets, recall 0.5", scores.double(), targets.int(), 0.5


def _found(scores: torch.Tensor, targets: torch.Tensor, threshold: float) -> tuple[int, int]:
    positive = targets == 1
    return int(((scores >= threshold) & positive).sum()), int(positive.sum())


def _name_threshold_mistake(got: float, scores, targets, recall: float, expected: float, want: str) -> None:
    found, positives = _found(scores, targets, got)
    values = set(scores.tolist())
    if got not in values:
        positive = scores[targets == 1].double()
        quantile = torch.quantile(positive, 1 - recall).item() if len(positive) else math.nan
        how = " (the interpolated quantile of the defective scores)" if math.isclose(got, quantile, abs_tol=1e-6) else ""
        raise Mismatch(want, f"{got:.6g}, which is none of the scores{how}",
                       "return one of the scores: the k-th largest score of a defective sample, k = "
                       "ceil(recall x defective count). A value between two scores finds the same samples as the "
                       "score just above it.", "interpolated_quantile")
    negatives = (1 - targets.long()) if targets.dtype != torch.bool else (~targets).long()
    if (negatives == 1).any() and math.isclose(got, reference_threshold(scores, negatives, recall), abs_tol=0):
        raise Mismatch(want, f"{got:.6g}: the threshold computed from the functional samples (target 0)",
                       "take the scores of the samples whose target is 1 (defective): scores[targets == 1].",
                       "wrong_class")
    if found >= math.ceil(recall * positives - 1e-9) and got < expected:
        raise Mismatch(want, f"{got:.6g}: it finds {found} of {positives} defective samples, but {expected:.6g}, a "
                       f"higher threshold, already finds enough and calls fewer samples defective",
                       "return the LARGEST such threshold: the k-th largest defective score, k = ceil(recall x "
                       "defective count).", "not_largest")
    raise Mismatch(want, f"{got:.6g}: calling samples with a score >= {got:.6g} defective finds {found} of "
                   f"{positives} defective samples, fewer than {recall:.0%} of them",
                   "count the samples AT the threshold as defective (>=), and take k = ceil(recall x defective "
                   "count): the k-th largest defective score.")


def _expect_value_error(answer, scores, targets, recall, why: str) -> None:
    want = f"ValueError for {why}"
    from ...checking.sandbox import LearnerError
    try:
        result = call_learner(answer, scores.clone(), targets.clone(), recall)
    except LearnerError as err:
        if err.original_type is not None and issubclass(err.original_type, ValueError):
            return
        raise Mismatch(want, f"raised {err}", "check the arguments first and raise ValueError with a message that "
                       "says what to pass instead.") from None
    raise Mismatch(want, f"returned {describe(result)}", "check the arguments first: `if not 0 < recall <= 1: raise "
                   "ValueError(...)`, and raise ValueError when no target is 1.")


def check_threshold_for_recall(answer) -> None:
    """Judge threshold_for_recall on distinct and tied scores, recalls from 0.05 to 1, exact fractions, float64
    scores and int32 targets, against the course's reference; ValueError for no defective sample and recalls
    outside (0, 1].

    Names: `interpolated_quantile`, `wrong_class`, `not_largest`.
    """
    for description, scores, targets, recall in _scores_cases():
        expected = reference_threshold(scores, targets, recall)
        want = (f"{expected:.6g}, the largest score t with score >= t finding at least {recall:.0%} of the defective "
                f"samples, for {description}")
        got = expect.number(expect.on_copies(answer, scores, targets, recall), want,
                            "return the threshold as a Python float: .item() on a one-element tensor.")
        if not math.isclose(got, expected, rel_tol=0, abs_tol=1e-7 if scores.dtype == torch.float64 else 1e-6):
            _name_threshold_mistake(got, scores, targets, recall, expected, want)
    scores, targets = torch.tensor([0.2, 0.7, 0.4]), torch.tensor([0, 0, 0])
    _expect_value_error(answer, scores, targets, 0.9, "targets without a defective sample (all 0)")
    for recall in (0.0, 1.5, -0.2):
        _expect_value_error(answer, scores, torch.tensor([0, 1, 1]), recall, f"recall={recall} (outside (0, 1])")
