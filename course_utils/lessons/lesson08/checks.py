"""Lesson 08: the checkers of predict (one image through a trained model) and confusion_matrix."""
from __future__ import annotations

import copy
import math
from functools import lru_cache

import numpy as np
import torch
from PIL import Image
from torch import nn
from torchvision import transforms as T

from ...checking import expect
from ...checking.describe import describe
from ...checking.sandbox import LearnerError, Mismatch, call_learner

CLASS_NAMES = ("circle", "square", "triangle", "star", "ring")


class _Recorder:
    """Calls seen by the recording layers; copies of the model share it, so a deepcopy cannot hide them."""

    def __init__(self):
        self.calls: list[tuple[bool, bool]] = []  # (gradients on, layer in train mode)

    def __deepcopy__(self, memo):
        return self

    __copy__ = lambda self: self  # noqa: E731


class _Recording:
    """Mixin for a layer that records, on every call, whether gradients were on and whether it was training."""

    recorder: _Recorder

    def forward(self, x):
        self.recorder.calls.append((torch.is_grad_enabled(), self.training))
        return super().forward(x)


class _RecordingDropout(_Recording, nn.Dropout):
    """Dropout that records its calls (train mode makes every answer random)."""


class _RecordingBatchNorm2d(_Recording, nn.BatchNorm2d):
    """BatchNorm2d that records its calls (train mode changes the answer and the model)."""


@lru_cache(maxsize=None)
def prototype() -> nn.Module:
    """A small trained-looking CNN with BatchNorm and Dropout, so that train mode changes every answer."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), _RecordingBatchNorm2d(8), nn.ReLU(),
                          nn.AdaptiveAvgPool2d(2), nn.Flatten(), _RecordingDropout(0.5), nn.Linear(32, len(CLASS_NAMES)))
    model[1].recorder = model[5].recorder = _Recorder()
    with torch.no_grad():
        model[1].running_mean.uniform_(-0.2, 0.2)
        model[1].running_var.uniform_(0.5, 1.5)
        model[-1].weight.mul_(8)
    return model


def _transform():
    return T.Compose([T.Resize(20), T.CenterCrop(16), T.ToTensor(), T.Normalize([0.4, 0.5, 0.6], [0.2, 0.25, 0.3])])


def _image(seed: int) -> Image.Image:
    """A deterministic RGB image, wider than high, larger than the transform's crop."""
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (24, 30, 3), dtype=np.uint8), "RGB")


def _reference(model: nn.Module, image: Image.Image, prepare, softmax: bool = True) -> tuple[str, float]:
    model = copy.deepcopy(model).eval()
    with torch.no_grad():
        out = model(prepare(image).unsqueeze(0))[0]
    scores = out.softmax(0) if softmax else out
    index = int(scores.argmax())
    return CLASS_NAMES[index], float(scores[index])


def _shown(name) -> str:
    return repr(str.__str__(name)) if isinstance(name, str) else describe(name)


class _CountedCompose(T.Compose):
    """The transform handed to predict, counting its calls: an answer that never calls it skipped it."""

    def __init__(self, transforms):
        super().__init__(transforms)
        self.calls = 0

    def __call__(self, image):
        self.calls += 1
        return super().__call__(image)


def _call_predict(answer, model, image, want: str):
    weights = [p.detach().clone() for p in model.parameters()]
    names = list(CLASS_NAMES)
    given = _CountedCompose(_transform().transforms)
    try:
        result = call_learner(answer, model, image, given, names)
    except LearnerError as err:
        text = str(err)
        if "4D" in text or "3D" in text or "unbatched" in text:
            raise Mismatch(want, f"raised {err}", "a model takes a batch: add one dimension with "
                           "transform(image).unsqueeze(0), shape [1, 3, H, W].", "missing_batch_dim") from None
        if "Image" in text:
            raise Mismatch(want, f"raised {err}", "a model takes tensors: apply transform(image) first (resize, "
                           "convert, normalise as the model was trained).", "skipped_transform") from None
        raise
    if names != list(CLASS_NAMES) or not all(torch.equal(a, b) for a, b in zip(weights, model.parameters())):
        raise Mismatch(want, "a prediction that changed its inputs (the model's weights or the list of class names)",
                       "predicting only reads: leave the model's weights and class_names as they are.")
    return result, given.calls


def check_predict(answer) -> None:
    """Judge predict on three generated images with a small model left in train mode (as after training), whose
    calls record gradient tracking and mode, against the reference class and probability.

    Names: `forgot_eval`, `no_softmax`, `missing_batch_dim`, `skipped_transform`, `tracks_gradients`.
    """
    for seed in (0, 1, 2):
        model = copy.deepcopy(prototype())
        model.train()  # as it is right after training
        image = _image(seed)
        name, probability = _reference(model, image, _transform())
        calls = model[1].recorder.calls  # shared by every copy of the model, the answer's included
        calls.clear()
        want = f"({name!r}, {probability:.4f}): the class name and its softmax probability, in eval mode"
        result, transform_calls = _call_predict(answer, model, image, want)
        got_name, got_p = expect.sequence(result, 2, want, "return a pair: (class name, probability).")
        if isinstance(got_p, str) and not isinstance(got_name, str):
            raise Mismatch(want, f"({describe(got_name)}, {_shown(got_p)}): the pair in the other order",
                           "return (class name, probability): the name first.")
        if isinstance(got_p, torch.Tensor):
            raise Mismatch(want, f"a probability that is {describe(got_p)}", "return a Python number: "
                           "probability.item().")
        got_p = expect.number(got_p, want, "return the probability as a Python float.")
        if any(training for _, training in calls):
            raise Mismatch(want, f"({_shown(got_name)}, {got_p:.4f}) computed with the model in train mode: "
                           "Dropout drops features at random and BatchNorm uses (and updates) batch statistics",
                           "call model.eval() before predicting.", "forgot_eval")
        if not isinstance(got_name, str):
            raise Mismatch(want, f"a class given as {describe(got_name)}", "return the class name: class_names[index].")
        ok_p = math.isclose(got_p, probability, rel_tol=1e-4, abs_tol=1e-6)
        if str.__eq__(got_name, name) and ok_p:
            if any(grad for grad, _ in calls):
                raise Mismatch(want, "the right answer, but computed with gradient tracking on",
                               "wrap the forward pass in `with torch.no_grad():` (or torch.inference_mode()): "
                               "inference needs no graph.", "tracks_gradients")
            continue
        top_logit = _reference(model, image, _transform(), softmax=False)[1]
        if math.isclose(got_p, top_logit, rel_tol=1e-4):
            raise Mismatch(want, f"({_shown(got_name)}, {got_p:.4f}): the largest logit, not a probability",
                           "turn logits into probabilities with .softmax(dim=1) before taking the largest.",
                           "no_softmax")
        if str.__eq__(got_name, name) and math.isclose(got_p, 1 / (1 + math.exp(-top_logit)), rel_tol=1e-4):
            raise Mismatch(want, f"({_shown(got_name)}, {got_p:.4f}): the sigmoid of the largest logit, which is no "
                           "probability over the classes (the sigmoids of all classes do not sum to 1)",
                           "use .softmax(dim=1): one distribution over the classes, then take its largest value.",
                           "no_softmax")
        raw_name, raw_p = _reference(model, image, T.ToTensor())
        if transform_calls == 0 or (str.__eq__(got_name, raw_name)
                                    and math.isclose(got_p, raw_p, rel_tol=1e-4, abs_tol=1e-6)):
            how = ("what the model says about the raw, unresized and unnormalised image" if transform_calls
                   else "computed without ever calling the transform it was given")
            raise Mismatch(want, f"({_shown(got_name)}, {got_p:.4f}): {how}", "apply transform(image): the model must see images prepared "
                           "exactly as in training.", "skipped_transform")
        if not 0.0 <= got_p <= 1.0:
            raise Mismatch(want, f"({_shown(got_name)}, {got_p:.4f}): not a probability", "use softmax over the classes.")
        raise Mismatch(want, f"({_shown(got_name)}, {got_p:.4f})", "transform, add the batch dimension, model.eval(), "
                       "no_grad, softmax(dim=1), then the largest probability and its class name.")


def _reference_matrix(preds: torch.Tensor, targets: torch.Tensor, k: int) -> torch.Tensor:
    matrix = torch.zeros(k, k, dtype=torch.int64)
    for t, p in zip(targets.tolist(), preds.tolist()):
        matrix[t, p] += 1
    return matrix


def _cases():
    """(description, preds, targets, num_classes): every integer dtype, absent classes, many classes, one sample."""
    g = torch.Generator().manual_seed(0)
    targets = torch.randint(0, 4, (40,), generator=g)
    preds = torch.where(torch.rand(40, generator=g) < 0.6, targets, torch.randint(0, 4, (40,), generator=g))
    yield "40 samples of 6 classes, classes 4 and 5 never occurring", preds, targets, 6
    yield "the same as int32 tensors", preds.int(), targets.int(), 6
    yield "the same as uint8 tensors", preds.to(torch.uint8), targets.to(torch.uint8), 6
    many = torch.randint(0, 20, (60,), generator=g)
    yield "60 uint8 labels of 20 classes", many.roll(1).to(torch.uint8), many.to(torch.uint8), 20
    yield "a single sample (true 2, predicted 0) of 3 classes", torch.tensor([0]), torch.tensor([2]), 3


def _call_matrix(answer, preds, targets, k, want):
    if preds.dtype == torch.int64:
        return expect.on_copies(answer, preds, targets, k)  # an error here is reported with the learner's line
    try:
        return expect.on_copies(answer, preds, targets, k)
    except LearnerError as err:
        where = f" ({err.learner_line})" if err.learner_line else ""
        raise Mismatch(want, f"raised {err}{where}", f"your function works for int64 labels but not for "
                       f"{str(preds.dtype).replace('torch.', '')} ones: convert with .long() first (uint8 and bool "
                       f"tensors index as masks, and small integer types overflow).") from None


def check_confusion_matrix(answer) -> None:
    """Judge confusion_matrix on int64, int32 and uint8 labels, absent classes, 20 classes and a single sample.

    Names: `transposed`, `wrong_size`.
    """
    for description, preds, targets, k in _cases():
        expected = _reference_matrix(preds, targets, k)
        want = f"a [{k}, {k}] int64 matrix, row = true class, column = predicted class, for {description}"
        out = expect.tensor(_call_matrix(answer, preds, targets, k, want), want, "return a torch tensor.")
        if tuple(out.shape) != (k, k):
            sizes = int(max(preds.max(), targets.max())) + 1
            mistake = "wrong_size" if out.dim() == 2 and out.shape[0] == out.shape[1] < k else None
            raise Mismatch(want, f"shape {list(out.shape)}" + (f" (sized by the largest label seen, {sizes})"
                                                                 if mistake else ""),
                           "size the matrix by num_classes: classes can be absent from a batch of predictions.",
                           mistake)
        values = out.detach().double()
        if torch.equal(values, expected.double().T) and not torch.equal(values, expected.double()):
            raise Mismatch(want, "the transpose: rows are the predicted classes",
                           "count matrix[true, predicted]: the row is the true class.", "transposed")
        if not torch.equal(values, expected.double()) and torch.equal(values, expected.clamp(max=1).double()):
            raise Mismatch(want, "every cell that occurs counted once: a pair (true, predicted) seen 3 times holds 1, "
                           "because matrix[targets, preds] += 1 writes each repeated index once instead of adding up",
                           "accumulate repeated indices: matrix.index_put_((targets, preds), torch.ones_like(targets), "
                           "accumulate=True), torch.bincount, or a loop over the samples.")
        if not torch.equal(values, expected.double()):
            raise Mismatch(want, f"{out.tolist()}", f"expected {expected.tolist()}: add 1 at [targets[i], preds[i]] "
                           f"for every sample i.")
        if out.dtype != torch.int64:
            raise Mismatch(want, f"the right counts, as dtype {out.dtype}",
                           "create the matrix with dtype=torch.long (int64): counts are integers.")
