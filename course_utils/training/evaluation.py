"""Evaluating a trained classifier class by class: predictions, confusion matrix, per-class and top-k accuracy."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
from torch import nn

from ..models.features import extract_features
from ..plots import show_figure


@dataclass(frozen=True)
class Predictions:
    """Logits, predicted classes and true classes for every sample of a loader, in the loader's order."""

    logits: torch.Tensor
    preds: torch.Tensor
    targets: torch.Tensor

    @property
    def accuracy(self) -> float:
        return (self.preds == self.targets).sum().item() / len(self.targets)


def predict_loader(model: nn.Module, loader, device=None, progress: bool = False) -> Predictions:
    """Run the model in eval mode without gradients over ``loader``; the model's own modes are given back.
    ``progress``: a bar over the batches."""
    logits, targets = extract_features(model, loader, device=device or next(model.parameters()).device,
                                       progress=progress, desc="predicting", leave=True).tensors
    return Predictions(logits, logits.argmax(1), targets)


def confusion_matrix(preds: torch.Tensor, targets: torch.Tensor, num_classes: int) -> torch.Tensor:
    """[K, K] int64 counts: row = true class, column = predicted class."""
    index = targets.long() * num_classes + preds.long()
    return torch.bincount(index, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def per_class_accuracy(matrix: torch.Tensor) -> torch.Tensor:
    """Recall of each class: the diagonal over the row sums (NaN for a class with no samples)."""
    return matrix.diag().double() / matrix.sum(1).double()


def top_k_accuracy(logits: torch.Tensor, targets: torch.Tensor, k: int) -> float:
    """Fraction of samples whose true class is among the k largest logits."""
    if not 1 <= k <= logits.shape[1]:
        raise ValueError(f"k={k}: choose 1 <= k <= {logits.shape[1]} (the number of classes)")
    return (logits.topk(k, dim=1).indices == targets[:, None]).any(1).sum().item() / len(targets)


def plot_confusion_matrix(matrix: torch.Tensor, class_names: Sequence[str], title: str = "") -> None:
    """The matrix as a heat map with class names on both axes and the count in every cell."""
    import matplotlib.pyplot as plt

    k = len(class_names)
    figure, ax = plt.subplots(figsize=(1.0 + 0.7 * k, 0.8 + 0.6 * k), dpi=80)
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(k), class_names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(k), class_names, fontsize=8)
    ax.set(xlabel="predicted class", ylabel="true class")
    limit = matrix.max().item() / 2
    for row in range(k):
        for column in range(k):
            value = int(matrix[row, column])
            ax.text(column, row, value, ha="center", va="center", fontsize=8,
                    color="white" if value > limit else "black")
    if title:
        ax.set_title(title, fontsize=10)
    figure.tight_layout()
    show_figure(figure)


def plot_msp(groups: dict[str, torch.Tensor], title: str = "") -> None:
    """Histograms of the maximum softmax probability (one value per input) of several groups of inputs, each
    as a share of its group, on the same bins from 0 to 1."""
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(6.5, 2.6), dpi=80)
    bins = torch.linspace(0, 1, 21).tolist()
    for (label, values), colour in zip(groups.items(), ("tab:blue", "tab:orange", "tab:green")):
        values = values.detach().cpu().float()
        ax.hist(values.tolist(), bins=bins, weights=[1 / len(values)] * len(values), alpha=0.6, color=colour,
                label=f"{label} (n = {len(values)})")
    ax.set_xlabel("maximum softmax probability (the predicted class's)", fontsize=9)
    ax.set_ylabel("share of the group", fontsize=9)
    ax.tick_params(labelsize=9)
    ax.legend(fontsize=9, loc="upper left")
    if title:
        ax.set_title(title, fontsize=10)
    figure.tight_layout()
    show_figure(figure)
