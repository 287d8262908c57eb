"""Lesson 02 exercises: one optimisation step (train_step) and accuracy over a loader (evaluate)."""
from __future__ import annotations

import torch

from ..declare import exercise
from .checks import check_evaluate, check_train_step


# ---------------------------------------------------------------- train_step

@exercise(
    task="run one optimisation step and return the loss before the update as a Python float",
    check=check_train_step,
    hints=(
        "Five calls in a fixed order: clear old gradients, forward, loss, backward, update.",
        "optimizer.zero_grad(); loss = loss_fn(model(inputs), targets); loss.backward(); optimizer.step()",
        "Return loss.item(), a plain float, not the loss tensor.",
    ),
)
def train_step(model, inputs, targets, loss_fn, optimizer) -> float:
    """One optimisation step; returns the loss measured before the update, as a Python float."""
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return loss.item()


# ---------------------------------------------------------------- evaluate

@exercise(
    task="return the accuracy over every sample of the loader, in eval mode and without tracking gradients",
    check=check_evaluate,
    hints=(
        "Two switches before the loop: eval mode for Dropout/BatchNorm, and no gradient tracking.",
        "model.eval() and `with torch.no_grad():`. Predictions are outputs.argmax(dim=1).",
        "Keep running totals: correct += (predictions == targets).sum().item(); total += targets.numel(); "
        "return correct / total at the end.",
    ),
)
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
