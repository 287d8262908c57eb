"""Choosing the head's learning rate and schedule on cached features, in seconds: an exponential sweep of the rate
(the range test), and a cosine schedule against a constant rate over the same epochs and seeds, paired."""
from __future__ import annotations

import math
import time

import torch
from torch import nn
from torch.utils.data import TensorDataset

from ..models.heads import new_head
from .comparison import Comparison
from .finetune import Run
from .probe import shuffled_batches

SCHEDULES = ("cosine", "constant")


def schedule(optimizer: torch.optim.Optimizer, name: str, epochs: int):
    """The learning-rate scheduler named ``name`` (one of SCHEDULES), stepped once per epoch: cosine from the
    optimizer's rates towards 0 over ``epochs`` epochs, or constant."""
    if name not in SCHEDULES:
        raise ValueError(f"schedule={name!r}: choose one of {', '.join(map(repr, SCHEDULES))}")
    if name == "constant":
        return torch.optim.lr_scheduler.ConstantLR(optimizer, factor=1.0)
    return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(epochs, 1))


def lr_sweep(train: TensorDataset, num_classes: int, start: float = 1e-6, end: float = 1.0, steps: int = 100,
             batch_size: int = 32, seed: int = 0) -> tuple[list[float], list[float]]:
    """(rates, smoothed losses): a fresh head (Dropout 0.2 + Linear, AdamW) trained one batch per step while the rate
    grows exponentially from ``start`` to ``end``; stops early once the loss is 4 times its lowest (it diverged)."""
    x, y = train.tensors
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        head = new_head(x.shape[1], num_classes, dropout=0.2)
        optimizer = torch.optim.AdamW(head.parameters(), lr=start, weight_decay=1e-4)
        order = torch.Generator().manual_seed(seed)
        batches: list[torch.Tensor] = []
        rates, losses, average, lowest = [], [], 0.0, math.inf
        head.train()
        for step in range(steps):
            rate = start * (end / start) ** (step / (steps - 1))
            for group in optimizer.param_groups:
                group["lr"] = rate
            if not batches:
                batches = list(shuffled_batches(len(y), batch_size, order))
            batch = batches.pop(0)
            loss = nn.functional.cross_entropy(head(x[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            average = 0.9 * average + 0.1 * loss.item()
            smoothed = average / (1 - 0.9 ** (step + 1))  # the running average without its start-up bias
            rates.append(rate)
            losses.append(smoothed)
            lowest = min(lowest, smoothed)
            if not math.isfinite(smoothed) or smoothed > 4 * lowest:
                break
    return rates, losses


def plot_sweep(rates: list[float], losses: list[float], marks: dict[str, float], title: str = "") -> None:
    """The smoothed loss against the rate (logarithmic axis), with vertical lines at ``marks`` ({label: rate})."""
    import matplotlib.pyplot as plt
    from ..plots import show_figure
    figure, ax = plt.subplots(figsize=(6, 2.8), dpi=80)
    ax.plot(rates, losses, lw=1.5)
    for (label, rate), style in zip(marks.items(), ("--", ":", "-.")):
        ax.axvline(rate, color="grey", ls=style, lw=1, label=f"{label}: {rate:.0e}")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (grows every batch)")
    ax.set_ylabel("training loss (smoothed)")
    ax.set_ylim(top=min(max(losses), 3 * losses[0]))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    figure.tight_layout()
    show_figure(figure)


def schedule_study(train: TensorDataset, val: TensorDataset, num_classes: int, epochs: int, lr: float,
                   seeds=(0, 1, 2)) -> Comparison:
    """A head (Dropout 0.2 + Linear, AdamW at ``lr``) trained ``epochs`` epochs per seed with each schedule of
    SCHEDULES, stepped once per epoch as the recipe does: the same seed gives both the same start and the same
    batches, so their validation results pair up (Comparison.gap)."""
    x, y = train.tensors
    runs = []
    for seed in seeds:
        for name in SCHEDULES:
            start = time.perf_counter()
            with torch.random.fork_rng():
                torch.manual_seed(seed)
                head = new_head(x.shape[1], num_classes, dropout=0.2)
                optimizer = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=1e-4)
                scheduler = schedule(optimizer, name, epochs)
                order = torch.Generator().manual_seed(seed)
                curve, fitted = [], []
                for _ in range(epochs):
                    head.train()
                    hits = 0
                    for batch in shuffled_batches(len(y), 32, order):
                        outputs = head(x[batch])
                        optimizer.zero_grad()
                        nn.functional.cross_entropy(outputs, y[batch]).backward()
                        optimizer.step()
                        hits += (outputs.argmax(1) == y[batch]).sum().item()
                    fitted.append(hits / len(y))
                    scheduler.step()
                    head.eval()
                    with torch.no_grad():
                        correct = (head(val.tensors[0]).argmax(1) == val.tensors[1])
                    curve.append(correct.float().mean().item())
            runs.append(Run(name, seed, fitted, curve, correct.tolist(), time.perf_counter() - start, 0.0, 0.0))
    return Comparison(runs, epochs=epochs)
