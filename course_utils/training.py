"""Training helpers in pipeline order: pick the device once, train one epoch, evaluate, fit with history."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache

import torch
from torch import nn
from tqdm.auto import tqdm

from .plots import show_figure


@lru_cache(maxsize=None)
def get_device() -> torch.device:
    """CUDA when available, else CPU; decided once per process so every helper agrees."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@dataclass(frozen=True)
class Metrics:
    loss: float
    accuracy: float

    def __str__(self) -> str:
        return f"loss {self.loss:.4f}, accuracy {self.accuracy:.3f}"


def _run_epoch(model, loader, loss_fn, optimizer, device, progress, desc) -> Metrics:
    training = optimizer is not None
    model.train(training)
    total_loss, correct, seen = 0.0, 0, 0
    with torch.set_grad_enabled(training):
        for inputs, targets in tqdm(loader, desc=desc, disable=not progress, leave=False):
            inputs, targets = inputs.to(device), targets.to(device)
            outputs = model(inputs)
            loss = loss_fn(outputs, targets)
            if training:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            total_loss += loss.item() * len(targets)
            correct += (outputs.argmax(dim=1) == targets).sum().item()
            seen += len(targets)
    if seen == 0:
        raise ValueError("the loader yielded no samples: check the dataset folder and batch size")
    return Metrics(total_loss / seen, correct / seen)


def train_one_epoch(model: nn.Module, train_loader, loss_fn, optimizer, device=None, progress: bool = True) -> Metrics:
    """One pass over ``train_loader`` in train mode; returns the mean loss and accuracy seen while training."""
    return _run_epoch(model, train_loader, loss_fn, optimizer, device or get_device(), progress, "train")


def evaluate(model: nn.Module, loader, loss_fn=None, device=None, progress: bool = False) -> Metrics:
    """Loss and accuracy over every sample of ``loader``, in eval mode without gradients."""
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    return _run_epoch(model, loader, loss_fn, None, device or get_device(), progress, "evaluate")


@dataclass
class History:
    """Per-epoch metrics returned by ``fit``, as data; ``plot()`` draws the curves."""

    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    @property
    def best_val_accuracy(self) -> float:
        return max(self.val_accuracy)

    def plot(self, title: str = ""):
        import matplotlib.pyplot as plt

        epochs = range(1, len(self.train_loss) + 1)
        figure, (left, right) = plt.subplots(1, 2, figsize=(8, 2.8), dpi=80)
        left.plot(epochs, self.train_loss, label="train")
        left.plot(epochs, self.val_loss, label="validation")
        left.set(xlabel="epoch", ylabel="loss")
        right.plot(epochs, self.train_accuracy, label="train")
        right.plot(epochs, self.val_accuracy, label="validation")
        right.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02))
        left.legend(fontsize=8)
        if title:
            figure.suptitle(title, fontsize=10)
        figure.tight_layout()
        show_figure(figure)


def fit(model: nn.Module, train_loader, val_loader, optimizer, epochs: int, loss_fn=None, device=None,
        progress: bool = True) -> History:
    """Train for ``epochs`` epochs, evaluating on ``val_loader`` after each; returns the History."""
    device = device or get_device()
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    model.to(device)
    history = History()
    bar = tqdm(range(epochs), desc="epochs", disable=not progress)
    for _ in bar:  # one bar for the whole run, its metrics updated after every epoch
        start = time.perf_counter()
        train = _run_epoch(model, train_loader, loss_fn, optimizer, device, False, "train")
        val = _run_epoch(model, val_loader, loss_fn, None, device, False, "evaluate")
        history.train_loss.append(train.loss)
        history.train_accuracy.append(train.accuracy)
        history.val_loss.append(val.loss)
        history.val_accuracy.append(val.accuracy)
        history.seconds.append(time.perf_counter() - start)
        bar.set_postfix(train_acc=f"{train.accuracy:.2f}", val_acc=f"{val.accuracy:.2f}")
    return history
