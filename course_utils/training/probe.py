"""A classifier head on cached features, seeded, and the scores an inspection task needs: accuracy, balanced
accuracy (the mean of the classes' recalls) and the recall and precision of the class that matters."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from .evaluation import confusion_matrix, per_class_accuracy


def fit_head(features: torch.Tensor, targets: torch.Tensor, num_classes: int, seed: int, epochs: int = 30,
             lr: float = 1e-2, class_weights: torch.Tensor | None = None, batch_size: int = 64,
             weight_decay: float = 1e-4) -> nn.Module:
    """A linear head (features standardised by the training set's mean and SD) trained with AdamW
    (``weight_decay``) and cross-entropy (``class_weights`` per class, if given), shuffled by a generator seeded
    with ``seed``."""
    with torch.random.fork_rng():  # seeded without changing the caller's random stream
        torch.manual_seed(seed)
        mean, std = features.mean(0), features.std(0).clamp_min(1e-6)
        head = nn.Sequential(_Standardise(mean, std), nn.Linear(features.shape[1], num_classes))
        optimizer = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=weight_decay)
        loss_fn = nn.CrossEntropyLoss(weight=class_weights)
        order = torch.Generator().manual_seed(seed)
        head.train()
        for _ in range(epochs):
            for batch in shuffled_batches(len(targets), batch_size, order):
                optimizer.zero_grad()
                loss_fn(head(features[batch]), targets[batch]).backward()
                optimizer.step()
    return head.eval()


def shuffled_batches(n: int, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, ...]:
    """One epoch's index batches, the ones DataLoader(TensorDataset(...), batch_size, shuffle=True,
    generator=generator) yields, drawn from ``generator`` as it draws them (a seed for its workers, the epoch's
    permutation, then RandomSampler's permutation for a remainder of 0 samples), without its per-sample fetching
    and collating: the same batches, several times faster on small features (a test compares the two)."""
    torch.empty((), dtype=torch.int64).random_(generator=generator)
    order = torch.randperm(n, generator=generator)
    torch.randperm(n, generator=generator)
    return order.split(batch_size)


class _Standardise(nn.Module):
    def __init__(self, mean: torch.Tensor, std: torch.Tensor):
        super().__init__()
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


def probabilities(head: nn.Module, features: torch.Tensor) -> torch.Tensor:
    """Softmax probabilities [N, K] of a head, without gradients."""
    with torch.no_grad():
        return head(features).softmax(1)


@dataclass(frozen=True)
class Scores:
    """One classifier on one set of samples; ``positive`` is the class whose recall matters (e.g. defective)."""

    accuracy: float
    balanced_accuracy: float
    recall: float
    precision: float

    def row(self) -> str:
        return (f"accuracy {self.accuracy:.3f}  balanced {self.balanced_accuracy:.3f}  "
                f"recall {self.recall:.3f}  precision {self.precision:.3f}")


def scores(preds: torch.Tensor, targets: torch.Tensor, num_classes: int, positive: int = 1) -> Scores:
    """Accuracy, balanced accuracy (mean recall over the classes present), and the positive class's recall and
    precision (NaN when nothing was predicted positive)."""
    if len(targets) == 0 or len(preds) != len(targets):
        raise ValueError(f"{len(preds)} predictions for {len(targets)} targets: give one prediction per sample")
    matrix = confusion_matrix(preds, targets, num_classes)
    recalls = per_class_accuracy(matrix)
    present = matrix.sum(1) > 0
    predicted = matrix[:, positive].sum().item()
    precision = matrix[positive, positive].item() / predicted if predicted else float("nan")
    return Scores(accuracy=matrix.diag().sum().item() / matrix.sum().item(),
                  balanced_accuracy=recalls[present].mean().item(), recall=recalls[positive].item(),
                  precision=precision)


def positive_at(probability: torch.Tensor, threshold: float) -> torch.Tensor:
    """1 where the positive class's probability reaches ``threshold``, else 0."""
    return (probability >= threshold).long()


def threshold_for_recall(scores: torch.Tensor, targets: torch.Tensor, recall: float) -> float:
    """The largest threshold t, one of ``scores``, such that calling every sample with a score >= t positive finds
    at least ``recall`` of the positive samples (``targets`` 1); ties at t count as positive. The k-th largest
    score of a positive sample, k = ceil(recall x positives)."""
    if not isinstance(recall, (int, float)) or not 0 < recall <= 1:
        raise ValueError(f"recall={recall!r}: give a share of the positives in (0, 1], e.g. 0.9")
    positive = scores[targets == 1]
    if len(positive) == 0:
        raise ValueError("no positive sample (target 1) among the targets: a recall needs at least one")
    needed = max(1, math.ceil(recall * len(positive) - 1e-9))  # 0.28 x 25 is 7.000000000000001 in floating point
    return positive.sort(descending=True).values[needed - 1].item()
