"""A class with few images: per-class weights for the loss, and a measurement of plain, weighted-loss and
weighted-sampler training of a head on frozen features when one class is made rare."""
from __future__ import annotations

import random

import torch
import torch.nn.functional as F
from torch import nn

HOW = ("plain", "weighted loss", "weighted sampler")


def class_weights(targets, num_classes: int) -> torch.Tensor:
    """len(targets) / (num_classes * count) per class, 0 for a class with no sample: a balanced set gets ones."""
    counts = torch.bincount(torch.as_tensor(targets, dtype=torch.long), minlength=num_classes).double()
    weights = torch.where(counts > 0, counts.sum() / (num_classes * counts.clamp(min=1)), torch.zeros_like(counts))
    return weights.float()


def make_rare(samples: list, rare_class: int, keep: int, seed: int) -> list:
    """``samples`` with only ``keep`` of ``rare_class``'s (chosen by ``seed``)."""
    rare = [s for s in samples if s[1] == rare_class]
    kept = set(map(tuple, random.Random(seed).sample(rare, min(keep, len(rare)))))
    return [s for s in samples if s[1] != rare_class or tuple(s) in kept]


def train_head_on_features(x: torch.Tensor, y: torch.Tensor, num_classes: int, how: str, seed: int,
                           steps: int = 300, batch_size: int = 32, lr: float = 0.01) -> nn.Linear:
    """A linear head trained on mini-batches of features: drawn uniformly ("plain", "weighted loss" with
    class_weights in the loss) or drawn with probability inverse to the class's count ("weighted sampler")."""
    if how not in HOW:
        raise ValueError(f"how={how!r}: choose one of {', '.join(map(repr, HOW))}")
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    head = nn.Linear(x.shape[1], num_classes)
    optimizer = torch.optim.Adam(head.parameters(), lr=lr)
    weights = class_weights(y, num_classes)
    draw = weights[y] if how == HOW[2] else torch.ones(len(y))
    for _ in range(steps):
        batch = torch.multinomial(draw, batch_size, replacement=True, generator=generator)
        loss = F.cross_entropy(head(x[batch]), y[batch], weight=weights if how == HOW[1] else None)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return head


def recall_per_class(head: nn.Module, x: torch.Tensor, y: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Of each class's images, the share predicted as that class."""
    with torch.no_grad():
        predicted = head(x).argmax(1)
    return torch.stack([(predicted[y == k] == k).float().mean() for k in range(num_classes)])


def rare_class_study(train: tuple[torch.Tensor, torch.Tensor], val: tuple[torch.Tensor, torch.Tensor],
                     num_classes: int, keep: int, seeds=range(3), progress: bool = True) -> dict[str, torch.Tensor]:
    """Each class in turn cut down to ``keep`` training images (another choice of them per seed), a head trained
    each way of HOW: {way: [rare class, seed, class] validation recalls}; "all images" is the plain head on every
    training image, for reference."""
    from tqdm.auto import tqdm
    x, y = train
    results: dict[str, list] = {name: [] for name in ("all images", *HOW)}
    with tqdm(total=num_classes * len(seeds), desc="heads trained", disable=not progress) as bar:
        for rare in range(num_classes):
            rows: dict[str, list] = {name: [] for name in results}
            for seed in seeds:
                rows["all images"].append(recall_per_class(
                    train_head_on_features(x, y, num_classes, HOW[0], seed), *val, num_classes))
                index = torch.tensor([i for i, _ in make_rare([(i, int(c)) for i, c in enumerate(y)], rare, keep,
                                                              seed)])
                for how in HOW:
                    head = train_head_on_features(x[index], y[index], num_classes, how, seed)
                    rows[how].append(recall_per_class(head, *val, num_classes))
                bar.update()
            for name, recalls in rows.items():
                results[name].append(torch.stack(recalls))
    return {name: torch.stack(per_class) for name, per_class in results.items()}


def rare_and_others(recalls: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """From one way's [rare class, seed, class] recalls: (each class's recall when it was the rare one, the mean
    recall of the other classes meanwhile), both averaged over the seeds, one value per class."""
    count = recalls.shape[0]
    rare = when_rare(recalls).nanmean(1)
    others = torch.stack([torch.cat([recalls[k, :, :k], recalls[k, :, k + 1:]], 1).nanmean() for k in range(count)])
    return rare, others


def when_rare(recalls: torch.Tensor) -> torch.Tensor:
    """From one way's [rare class, seed, class] recalls: [class, seed], each class's recall when it was the rare one."""
    return torch.stack([recalls[k, :, k] for k in range(recalls.shape[0])])


def rare_gain(study: dict[str, torch.Tensor], better: str, than: str) -> tuple[float, float, int, int]:
    """How much way ``better`` lifted the rare class's recall over way ``than``, paired (the same rare class, seed
    and images): (mean gain, its standard error over the classes, heads where ``better`` was higher, heads). The
    error is taken over the classes' mean gains, since a class's 3 seeds share its validation images."""
    gains = when_rare(study[better]) - when_rare(study[than])  # [class, seed]
    per_class = gains.nanmean(1)
    error = (per_class.std() / len(per_class) ** 0.5).item() if len(per_class) > 1 else float("nan")
    return per_class.mean().item(), error, int((gains > 0).sum()), int(gains.isfinite().sum())
