"""Lesson 02 exercises: one optimisation step (train_step) and accuracy over a loader (evaluate)."""
from __future__ import annotations

import copy
import math
from numbers import Real

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from ..checking.describe import describe
from ..checking.sandbox import Mismatch, call_learner
from . import Exercise

LESSON = "02_train_step"


# ---------------------------------------------------------------- train_step

def train_step(model, inputs, targets, loss_fn, optimizer) -> float:
    """One optimisation step; returns the loss measured before the update, as a Python float."""
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return loss.item()


class _RecordingSGD(torch.optim.SGD):
    """Plain SGD that logs each zero_grad/step call and whether step found any gradient."""

    def __init__(self, params, lr: float, log: list[str]):
        super().__init__(params, lr=lr)
        self.log = log

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.log.append("zero_grad")
        super().zero_grad(set_to_none)

    def step(self, closure=None):
        params = [p for group in self.param_groups for p in group["params"]]
        has_grad = any(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in params)
        self.log.append("step" if has_grad else "step_without_grad")
        return super().step(closure)


def _small_regressor(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))


def _params(model: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def _same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(torch.allclose(x, y, rtol=1e-5, atol=1e-7) for x, y in zip(a, b))


def _sgd_outcomes(model, inputs, targets, loss_fn, lr):
    """Parameters after a correct step, after a step that kept stale gradients, and the loss before it."""
    results = {}
    for name, zero_first in (("correct", True), ("accumulated", False)):
        clone = copy.deepcopy(model)
        for original, copied in zip(model.parameters(), clone.parameters()):  # deepcopy drops .grad
            copied.grad = None if original.grad is None else original.grad.clone()
        optimizer = torch.optim.SGD(clone.parameters(), lr=lr)
        if zero_first:
            optimizer.zero_grad()
        loss = loss_fn(clone(inputs), targets)
        loss.backward()
        optimizer.step()
        results[name] = _params(clone)
        results["loss"] = loss.item()
    return results


def check_train_step(answer) -> None:
    lr = 0.1
    model = _small_regressor(seed=0)
    loss_fn = nn.MSELoss()
    generator = torch.Generator().manual_seed(1)
    # Gradients left over from a previous batch, as in the middle of a real training loop.
    loss_fn(model(torch.randn(8, 3, generator=generator)), torch.randn(8, 1, generator=generator)).backward()
    inputs, targets = torch.randn(8, 3, generator=generator), torch.randn(8, 1, generator=generator)
    expected = _sgd_outcomes(model, inputs, targets, loss_fn, lr)
    before = _params(model)

    log: list[str] = []
    optimizer = _RecordingSGD(model.parameters(), lr, log)
    for p in model.parameters():
        p.register_hook(lambda grad: log.append("backward") if not log or log[-1] != "backward" else None)
    returned = call_learner(answer, model, inputs, targets, loss_fn, optimizer)
    after = _params(model)

    want = "one update: zero_grad, forward, loss, backward, step"
    order = " -> ".join(log) or "nothing"
    if "backward" not in log:
        raise Mismatch(want, f"no gradients were computed (calls seen: {order})",
                       "call loss.backward() after computing the loss; it fills every parameter's .grad.",
                       "forgot_backward")
    if not any(event.startswith("step") for event in log):
        raise Mismatch(want, f"the parameters did not change (calls seen: {order})",
                       "call optimizer.step() after loss.backward(); backward only computes gradients.",
                       "forgot_step")
    if not _same(after, expected["correct"]):
        if _same(after, before) and "step_without_grad" in log:
            raise Mismatch(want, f"the gradients were cleared after backward, so step had nothing to apply "
                           f"(calls seen: {order})",
                           "clear gradients before the forward pass (or before backward), never between "
                           "backward and step.", "zero_grad_between_backward_and_step")
        if _same(after, expected["accumulated"]):
            raise Mismatch(want, "the update used the new gradients plus those left over from the previous batch",
                           "call optimizer.zero_grad() at the start of each step: PyTorch adds new gradients to "
                           "existing ones.", "forgot_zero_grad")
        raise Mismatch(want, f"the parameters changed differently from one SGD step (calls seen: {order})",
                       "use the optimizer and loss_fn you are given, and call step exactly once.")

    if isinstance(returned, torch.Tensor):
        raise Mismatch("the loss as a Python float", describe(returned),
                       "return loss.item(): a tensor keeps the whole computation graph alive and cannot be "
                       "formatted or compared like a number.", "returns_tensor")
    if not isinstance(returned, Real) or isinstance(returned, bool):
        raise Mismatch("the loss as a Python float", describe(returned), "return loss.item().")
    if not math.isclose(float(returned), expected["loss"], rel_tol=1e-5, abs_tol=1e-7):
        raise Mismatch(f"the loss before the update, {expected['loss']:.6f}", f"{float(returned):.6f}",
                       "return the loss you called backward() on, not one recomputed after step().")


# ---------------------------------------------------------------- evaluate

def evaluate(model, loader) -> float:
    """Accuracy of ``model`` over every sample in ``loader``, in eval mode without gradients."""
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for inputs, targets in loader:
            predictions = model(inputs).argmax(dim=1)
            correct += (predictions == targets).sum().item()
            total += targets.numel()
    return correct / total


def _logit_model(num_classes: int) -> nn.Module:
    """In eval mode it returns its input (the logits we chose) up to a positive factor, so argmax is unchanged;
    in train mode BatchNorm and Dropout change them."""
    linear = nn.Linear(num_classes, num_classes)
    with torch.no_grad():
        linear.weight.copy_(torch.eye(num_classes))
        linear.bias.zero_()
    model = nn.Sequential(linear, nn.BatchNorm1d(num_classes), nn.Dropout(0.5))
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
    num_classes = 4
    probes = (
        # Full batches as wide as the class count: argmax over the wrong dimension still runs.
        _probe(12, 4, num_classes, seed=5, hits_per_batch=[3, 1, 2]),
        # A short last batch: averaging per-batch accuracies gives a different number.
        _probe(10, 4, num_classes, seed=6, hits_per_batch=[4, 1, 1]),
    )
    for logits, targets in probes:
        model = _logit_model(num_classes)
        seen: list[tuple[bool, bool]] = []
        model.register_forward_pre_hook(lambda module, args: seen.append((module.training, torch.is_grad_enabled())))
        returned = call_learner(answer, model, _loader(logits, targets, 4))
        want = "the fraction of correctly classified samples, computed in eval mode without gradients"
        if not seen:
            raise Mismatch(want, "the model was never called", "loop over the loader and call model(inputs).")
        if any(training for training, _ in seen):
            raise Mismatch(want, "the model ran in training mode, so Dropout dropped activations and BatchNorm "
                           "used (and updated) batch statistics",
                           "call model.eval() before the loop.", "forgot_eval")
        if any(grad for _, grad in seen):
            raise Mismatch(want, "gradients were tracked during evaluation, wasting memory and time",
                           "wrap the loop in `with torch.no_grad():` (or torch.inference_mode()).", "tracks_gradients")
        if isinstance(returned, torch.Tensor) or not isinstance(returned, Real) or isinstance(returned, bool):
            raise Mismatch("a Python float between 0 and 1", describe(returned),
                           "return correct / total as a float (use .item() on tensor counts).")
        value = float(returned)
        expected = _accuracies(logits, targets, 4)
        if math.isclose(value, expected["correct"], abs_tol=1e-6):
            continue
        if math.isclose(value, expected["argmax_dim0"], abs_tol=1e-6):
            raise Mismatch(f"accuracy {expected['correct']:.4f}", f"{value:.4f}: argmax was taken over the batch "
                           "dimension, giving for each class the sample that scores it highest",
                           "take argmax over the class dimension: outputs.argmax(dim=1).", "argmax_wrong_dim")
        if math.isclose(value, expected["mean_of_batches"], abs_tol=1e-6):
            raise Mismatch(f"accuracy {expected['correct']:.4f} over all {len(targets)} samples",
                           f"{value:.4f}, the mean of per-batch accuracies: the short last batch counts as much "
                           "as a full one", "add up correct predictions and samples over all batches, divide once "
                           "at the end.", "mean_of_batch_accuracies")
        if 1 < value <= 100 and math.isclose(value / 100, expected["correct"], abs_tol=1e-6):
            raise Mismatch(f"accuracy {expected['correct']:.4f}", f"{value:g}, a percentage",
                           "return a fraction in [0, 1]; multiply by 100 only when printing.")
        raise Mismatch(f"accuracy {expected['correct']:.4f} on {len(targets)} samples", f"{value:.4f}",
                       "count correct predictions (outputs.argmax(dim=1) == targets) and divide by the number of samples.")


EXERCISES = (
    Exercise(
        name="train_step",
        lesson=LESSON,
        task="run one optimisation step and return the loss before the update as a Python float",
        check=check_train_step,
        solution=train_step,
        hints=(
            "Five calls in a fixed order: clear old gradients, forward, loss, backward, update.",
            "optimizer.zero_grad(); loss = loss_fn(model(inputs), targets); loss.backward(); optimizer.step()",
            "Return loss.item(), a plain float, not the loss tensor.",
        ),
        mistakes=("forgot_zero_grad", "forgot_backward", "forgot_step", "zero_grad_between_backward_and_step",
                  "returns_tensor"),
    ),
    Exercise(
        name="evaluate",
        lesson=LESSON,
        task="return the accuracy over every sample of the loader, in eval mode and without tracking gradients",
        check=check_evaluate,
        solution=evaluate,
        hints=(
            "Two switches before the loop: eval mode for Dropout/BatchNorm, and no gradient tracking.",
            "model.eval() and `with torch.no_grad():`. Predictions are outputs.argmax(dim=1).",
            "Keep running totals: correct += (predictions == targets).sum().item(); total += targets.numel(); "
            "return correct / total at the end.",
        ),
        mistakes=("forgot_eval", "tracks_gradients", "mean_of_batch_accuracies", "argmax_wrong_dim"),
    ),
)
