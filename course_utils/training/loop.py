"""Training helpers in pipeline order: pick the device once, train one epoch, evaluate, fit with history."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache

import torch
from torch import nn
from tqdm.auto import tqdm

from ..plots import show_figure


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


def frozen_batchnorm_layers(model: nn.Module) -> list[nn.Module]:
    """Every BatchNorm layer of ``model`` that has parameters and none of them trainable."""
    layers = []
    for module in model.modules():
        params = list(module.parameters(recurse=False))
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and params and not any(p.requires_grad for p in params):
            layers.append(module)
    return layers


def frozen_batchnorm_to_eval(model: nn.Module) -> int:
    """Put every BatchNorm layer whose parameters are all frozen into eval mode; return how many.

    model.train() switches BatchNorm to batch statistics and makes it update its running mean and
    variance, even when none of its parameters trains: a "frozen" backbone would still drift.
    """
    layers = frozen_batchnorm_layers(model)
    for module in layers:
        module.eval()
    return len(layers)


@dataclass(frozen=True)
class Placement:
    """How batches run on the device: mixed precision (autocast to ``amp``: bfloat16 on a CPU, float16 on CUDA, with
    a gradient scaler), channels-last memory for 4-D inputs, and BatchNorm's statistics frozen everywhere."""

    amp: torch.dtype | None = None
    channels_last: bool = False
    all_batchnorm_eval: bool = False

    @staticmethod
    def for_device(device: torch.device, amp: bool = False, channels_last: bool | None = None,
                   all_batchnorm_eval: bool = False) -> "Placement":
        """The choices for ``device``: amp on request, channels-last on CUDA unless told otherwise."""
        dtype = (torch.float16 if device.type == "cuda" else torch.bfloat16) if amp else None
        return Placement(dtype, device.type == "cuda" if channels_last is None else channels_last, all_batchnorm_eval)


PLAIN = Placement()


def _run_epoch(model, loader, loss_fn, optimizer, device, progress, desc, frozen_bn: str = "eval",
               placement: Placement = PLAIN) -> Metrics:
    training = optimizer is not None
    model.train(training)
    if training and frozen_bn == "eval":
        frozen_batchnorm_to_eval(model)
    if training and placement.all_batchnorm_eval:
        for module in model.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.eval()
    scaler = torch.amp.GradScaler(device.type, enabled=training and placement.amp == torch.float16)
    total_loss, correct, seen = 0.0, 0, 0
    with torch.set_grad_enabled(training):
        for inputs, targets in tqdm(loader, desc=desc, disable=not progress, leave=False):
            inputs, targets = inputs.to(device), targets.to(device)
            if placement.channels_last and inputs.dim() == 4:
                inputs = inputs.contiguous(memory_format=torch.channels_last)
            with torch.autocast(device.type, dtype=placement.amp or torch.float32, enabled=placement.amp is not None):
                outputs = model(inputs)
                loss = loss_fn(outputs if placement.amp is None else outputs.float(), targets)
            if training:
                optimizer.zero_grad()
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
            total_loss += loss.item() * len(targets)
            correct += (outputs.argmax(dim=1) == targets).sum().item()
            seen += len(targets)
    if seen == 0:
        raise ValueError("the loader yielded no samples: check the dataset folder and batch size")
    return Metrics(total_loss / seen, correct / seen)


FROZEN_BN_CHOICES = ("eval", "train")


def _check_frozen_bn(frozen_bn: str) -> str:
    if frozen_bn not in FROZEN_BN_CHOICES:
        raise ValueError(f"frozen_bn={frozen_bn!r}; choose one of {', '.join(map(repr, FROZEN_BN_CHOICES))}")
    return frozen_bn


def train_one_epoch(model: nn.Module, train_loader, loss_fn, optimizer, device=None, progress: bool = True,
                    frozen_bn: str = "eval", placement: Placement = PLAIN) -> Metrics:
    """One pass over ``train_loader`` in train mode; returns the mean loss and accuracy seen while training.

    frozen_bn="eval" (default) keeps BatchNorm layers whose parameters are all frozen in eval mode, so
    their running statistics stay as pretrained; "train" lets model.train() update them. ``placement``: mixed
    precision, channels-last, every BatchNorm's statistics frozen (Placement).
    """
    return _run_epoch(model, train_loader, loss_fn, optimizer, torch.device(device or get_device()), progress,
                      "train", _check_frozen_bn(frozen_bn), placement)


def evaluate(model: nn.Module, loader, loss_fn=None, device=None, progress: bool = False,
             placement: Placement = PLAIN) -> Metrics:
    """Loss and accuracy over every sample of ``loader``, in eval mode without gradients."""
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    return _run_epoch(model, loader, loss_fn, None, torch.device(device or get_device()), progress, "evaluate",
                      placement=placement)


@dataclass
class History:
    """Per-epoch metrics returned by ``fit``, as data; ``plot()`` draws the curves."""

    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    frozen_bn_in_eval: int = 0  # BatchNorm layers fit kept in eval mode because all their parameters are frozen

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
        progress: bool = True, frozen_bn: str = "eval") -> History:
    """Train for ``epochs`` epochs, evaluating on ``val_loader`` after each; returns the History.

    frozen_bn="eval" (default) keeps fully frozen BatchNorm layers in eval mode while training (the
    History and the progress bar say how many); "train" leaves them to model.train().
    """
    device = device or get_device()
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    model.to(device)
    history = History()
    if _check_frozen_bn(frozen_bn) == "eval":
        model.train()
        history.frozen_bn_in_eval = frozen_batchnorm_to_eval(model)
    bar = tqdm(range(epochs), desc="epochs", disable=not progress)
    for _ in bar:  # one bar for the whole run, its metrics updated after every epoch
        start = time.perf_counter()
        train = _run_epoch(model, train_loader, loss_fn, optimizer, device, False, "train", frozen_bn)
        val = _run_epoch(model, val_loader, loss_fn, None, device, False, "evaluate")
        history.train_loss.append(train.loss)
        history.train_accuracy.append(train.accuracy)
        history.val_loss.append(val.loss)
        history.val_accuracy.append(val.accuracy)
        history.seconds.append(time.perf_counter() - start)
        postfix = {"train_acc": f"{train.accuracy:.2f}", "val_acc": f"{val.accuracy:.2f}"}
        if history.frozen_bn_in_eval:
            postfix["frozen_bn_eval"] = history.frozen_bn_in_eval
        bar.set_postfix(postfix)
    return history
