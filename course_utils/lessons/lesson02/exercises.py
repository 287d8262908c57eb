"""Lesson 02 exercises: one optimisation step (train_step) and accuracy over a loader (evaluate)."""
from __future__ import annotations

import copy
import math

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from ...checking import expect
from ...checking.describe import describe
from ...checking.exercise import Exercise
from ...checking.sandbox import Mismatch, call_learner
from .. import lesson_of
from . import answers

LESSON = lesson_of(__name__)


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
    return [p.detach().clone() for p in nn.Module.parameters(model)]


def _sgd_run(model, batches, loss_fn, lr: float, clear: bool) -> tuple[list[list[torch.Tensor]], list[float]]:
    """Parameters after each SGD step on ``batches`` and the loss before each, clearing gradients or not."""
    clone = copy.deepcopy(model)
    optimizer = torch.optim.SGD(clone.parameters(), lr=lr)
    states, losses = [], []
    for inputs, targets in batches:
        if clear:
            optimizer.zero_grad()
        loss = loss_fn(clone(inputs), targets)
        loss.backward()
        optimizer.step()
        states.append(_params(clone))
        losses.append(loss.item())
    return states, losses


def _judge_loss(returned, expected: float, batch_size: int) -> None:
    want = "the loss before the update, as a Python float"
    if expect.plain_tensor(returned) is not None:
        raise Mismatch(want, describe(returned), "return loss.item(): a tensor keeps the whole computation graph alive "
                       "and cannot be formatted or compared like a number.", "returns_tensor")
    value = expect.number(returned, want, "return loss.item().")
    if math.isclose(value, expected, rel_tol=1e-5, abs_tol=1e-7):
        return
    if math.isclose(value * batch_size, expected, rel_tol=1e-5, abs_tol=1e-7):
        raise Mismatch(f"the loss before the update, {expected:.6f}", f"{value:.6f}, exactly the loss divided by the "
                       f"batch size ({batch_size})", "return loss.item() as it is: the loss functions already average "
                       "over the batch (reduction='mean').")
    raise Mismatch(f"the loss before the update, {expected:.6f}", f"{value:.6f}",
                   "return the loss you called backward() on, not one recomputed after step().")


def check_train_step(answer) -> str | None:
    lr = 0.1
    model = _small_regressor(seed=0)
    loss_fn = nn.MSELoss()
    generator = torch.Generator().manual_seed(1)
    batches = [(torch.randn(8, 3, generator=generator), torch.randn(8, 1, generator=generator)) for _ in range(2)]
    # Expectations first: two correct steps in a row, and two steps that never clear the gradients.
    correct, losses = _sgd_run(model, batches, loss_fn, lr, clear=True)
    accumulated, _ = _sgd_run(model, batches, loss_fn, lr, clear=False)
    before = _params(model)

    log: list[str] = []
    optimizer = _RecordingSGD(model.parameters(), lr, log)
    for p in model.parameters():
        p.register_hook(lambda grad: log.append("backward") if not log or log[-1] != "backward" else None)
    want = "one update: zero_grad, forward, loss, backward, step"
    cleared_after_step = False
    for call, (inputs, targets) in enumerate(batches):
        returned = expect.on_copies(answer, model, inputs, targets, loss_fn, optimizer)
        order = " -> ".join(log) or "nothing"
        if "backward" not in log:
            raise Mismatch(want, f"no gradients were computed (calls seen: {order})",
                           "call loss.backward() after computing the loss; it fills every parameter's .grad.",
                           "forgot_backward")
        if not any(event.startswith("step") for event in log):
            raise Mismatch(want, f"the parameters did not change (calls seen: {order})",
                           "call optimizer.step() after loss.backward(); backward only computes gradients.",
                           "forgot_step")
        after = _params(model)
        if call == 0 and expect.states_equal(after, before) and "step_without_grad" in log:
            raise Mismatch(want, f"the gradients were cleared after backward, so step had nothing to apply "
                           f"(calls seen: {order})", "clear gradients before the forward pass (or before "
                           "backward), never between backward and step.", "zero_grad_between_backward_and_step")
        if call == 1 and not expect.states_equal(after, correct[1]) and expect.states_equal(after, accumulated[1]):
            raise Mismatch(f"{want}, twice in a row", "the second update used the new gradients plus those left over "
                           "from the first step", "call optimizer.zero_grad() in every step (at its start is "
                           "safest): PyTorch adds new gradients to existing ones.", "forgot_zero_grad")
        if not expect.states_equal(after, correct[call]):
            raise Mismatch(want, f"the parameters changed differently from one SGD step (calls seen: {order})",
                           "use the optimizer and loss_fn you are given, and call step exactly once.")
        _judge_loss(returned, losses[call], len(inputs))
        if call == 0:
            cleared_after_step = all(p.grad is None or not p.grad.any() for p in nn.Module.parameters(model))
        log.clear()
    if cleared_after_step:
        return ("you clear the gradients after optimizer.step(). That is correct in a loop; clearing at the start "
                "of each step is more robust, since it also drops gradients left by anything that ran before.")
    return None


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
        expected = _accuracies(logits, targets, 4)  # before the answer runs
        model = _logit_model(num_classes)
        seen: list[tuple[bool, bool]] = []
        model.register_forward_pre_hook(lambda module, args: seen.append((module.training, torch.is_grad_enabled())))
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
        if 1 < value <= 100:
            close = math.isclose(value / 100, expected["correct"], abs_tol=1e-6)
            raise Mismatch(f"accuracy {expected['correct']:.4f}, a fraction in [0, 1]",
                           f"{value:g}, which looks like a percentage" + (" (the right one)" if close else ""),
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
        broken=answers.TRAIN_STEP_BROKEN,
        alternatives=answers.TRAIN_STEP_ALTERNATIVES,
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
        broken=answers.EVALUATE_BROKEN,
        alternatives=answers.EVALUATE_ALTERNATIVES,
    ),
)
