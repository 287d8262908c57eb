"""Lesson 02: the checker of evaluate (eval mode, no gradients, every sample counted once)."""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from ....checking import expect
from ....checking.sandbox import Mismatch, call_learner


class _Recorder(nn.Module):
    """Wraps the model under test and notes, in forward itself (so model.forward(x) counts too), whether any
    layer was in training mode and whether gradients were tracked."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner
        self.seen: list[tuple[bool, bool]] = []

    def forward(self, x):
        self.seen.append((any(m.training for m in self.modules()), torch.is_grad_enabled()))
        return self.inner(x)


def _logit_model(num_classes: int) -> _Recorder:
    """In eval mode it returns its input (the logits we chose) up to a positive factor, so argmax is unchanged;
    in train mode BatchNorm and Dropout change them."""
    linear = nn.Linear(num_classes, num_classes)
    with torch.no_grad():
        linear.weight.copy_(torch.eye(num_classes))
        linear.bias.zero_()
    model = _Recorder(nn.Sequential(linear, nn.BatchNorm1d(num_classes), nn.Dropout(0.5)))
    model.train()  # as it would be straight after training
    return model


def _loader(logits: torch.Tensor, targets: torch.Tensor, batch_size: int) -> DataLoader:
    return DataLoader(TensorDataset(logits, targets), batch_size=batch_size, shuffle=False)


def _accuracies(logits: torch.Tensor, targets: torch.Tensor, batch_size: int) -> dict[str, float]:
    """The correct accuracy and what each known wrong recipe would return."""
    batches = list(zip(logits.split(batch_size), targets.split(batch_size)))
    hits = [(x.argmax(1) == y).float() for x, y in batches]
    wrong_dim = [(x.argmax(0) == y).float() for x, y in batches if x.shape[0] == x.shape[1]]
    return {
        "correct": torch.cat(hits).mean().item(),
        "per_batch_count": torch.cat(hits).sum().item() / len(batches),
        "mean_of_batches": sum(h.mean().item() for h in hits) / len(hits),
        "argmax_dim0": torch.cat(wrong_dim).mean().item() if len(wrong_dim) == len(batches) else math.nan,
    }


def _probe(num_samples: int, batch_size: int, num_classes: int, seed: int, hits_per_batch: list[int]):
    """Logits and targets where batch i has exactly hits_per_batch[i] correct predictions."""
    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(num_samples, num_classes, generator=generator)
    predicted = logits.argmax(1)
    targets = predicted.clone()
    for i, start in enumerate(range(0, num_samples, batch_size)):
        stop = min(start + batch_size, num_samples)
        for j in range(start + hits_per_batch[i], stop):  # make the rest wrong
            targets[j] = (predicted[j] + 1) % num_classes
    return logits, targets


def check_evaluate(answer) -> None:
    """Judge evaluate on a model that returns fixed logits, recording its mode and gradient tracking: full batches as
    wide as the class count, and a short last batch.

    Names: `forgot_eval`, `tracks_gradients`, `mean_of_batch_accuracies`, `argmax_wrong_dim`, `modified_input`.
    """
    num_classes = 4
    probes = (
        # Full batches as wide as the class count: argmax over the wrong dimension still runs.
        _probe(12, 4, num_classes, seed=5, hits_per_batch=[3, 1, 2]),
        # A short last batch: averaging per-batch accuracies gives a different number.
        _probe(10, 4, num_classes, seed=6, hits_per_batch=[4, 1, 1]),
    )
    for logits, targets in probes:
        expected = _accuracies(logits, targets, 4)  # before the answer runs
        model = _logit_model(num_classes)
        seen = model.seen
        given = (logits.clone(), targets.clone())
        returned = call_learner(answer, model, _loader(*given, 4))
        want = "the fraction of correctly classified samples, computed in eval mode without gradients"
        if not (expect.same(given[0], logits) and expect.same(given[1], targets)):
            raise Mismatch(want, "the loader's data changed while your function ran",
                           "only read the batches: do not modify inputs or targets in place.", "modified_input")
        if not seen:
            raise Mismatch(want, "the model was never called", "loop over the loader and call model(inputs).")
        if any(training for training, _ in seen):
            raise Mismatch(want, "the model ran in training mode, so Dropout dropped activations and BatchNorm "
                           "used (and updated) batch statistics",
                           "call model.eval() before the loop.", "forgot_eval")
        if any(grad for _, grad in seen):
            raise Mismatch(want, "gradients were tracked during evaluation, wasting memory and time",
                           "wrap the loop in `with torch.no_grad():` (or torch.inference_mode()).", "tracks_gradients")
        value = expect.number(returned, "a Python float between 0 and 1",
                              "return correct / total as a float (use .item() on tensor counts).")
        tolerance = 5e-4  # an accuracy rounded to 4 places is still the right accuracy
        if math.isclose(value, expected["correct"], abs_tol=tolerance):
            continue
        if math.isclose(value, expected["argmax_dim0"], abs_tol=tolerance):
            raise Mismatch(f"accuracy {expected['correct']:.4f}", f"{value:.4f}: argmax was not taken over the class "
                           "dimension", "take argmax over the class dimension: outputs.argmax(dim=1).",
                           "argmax_wrong_dim")
        if math.isclose(value, expected["per_batch_count"], abs_tol=tolerance):
            raise Mismatch(f"accuracy {expected['correct']:.4f}", f"{value:g}: the number of correct predictions "
                           "divided by the number of batches", "divide by the number of samples (len(loader.dataset),"
                           " or add up targets.size(0)), not by len(loader), which counts batches.")
        if math.isclose(value, expected["mean_of_batches"], abs_tol=tolerance):
            raise Mismatch(f"accuracy {expected['correct']:.4f} over all {len(targets)} samples",
                           f"{value:.4f}, the mean of per-batch accuracies: the short last batch counts as much "
                           "as a full one", "add up correct predictions and samples over all batches, divide once "
                           "at the end.", "mean_of_batch_accuracies")
        if 1 < value <= 100 and math.isclose(value / 100, expected["correct"], abs_tol=tolerance):
            raise Mismatch(f"accuracy {expected['correct']:.4f}, a fraction in [0, 1]",
                           f"{value:g}, the right accuracy as a percentage",
                           "return a fraction in [0, 1]; multiply by 100 only when printing.")
        if value > 1:
            raise Mismatch(f"accuracy {expected['correct']:.4f}, a fraction in [0, 1]", f"{value:g}, more than 1",
                           "count each sample once: compare predictions of shape [batch] with targets of shape "
                           "[batch] (a keepdim=True argmax broadcasts into a matrix), and divide by the number "
                           "of samples.")
        raise Mismatch(f"accuracy {expected['correct']:.4f} on {len(targets)} samples", f"{value:.4f}",
                       "count correct predictions (outputs.argmax(dim=1) == targets) and divide by the number of samples.")
