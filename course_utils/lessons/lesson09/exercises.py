"""Lesson 09 exercises: one folder of class folders into stratified splits (split_dataset), the epoch to keep
(best_checkpoint) and loss weights for an imbalanced folder (class_weights)."""
from __future__ import annotations

import random

import torch
from torchvision import datasets

from ..declare import exercise
from .checks import check_best_checkpoint, check_class_weights, check_split_dataset, image_bytes


@exercise(
    task="split the images of root's class folders into the given splits, class by class, each file in exactly one "
         "split, with ImageFolder's class indices, the same lists for the same seed",
    check=check_split_dataset,
    prepare=image_bytes,
    hints=(
        "Split each class on its own (stratified), so every split keeps the classes' proportions; a random "
        "generator made from the seed makes the same shuffle every time.",
        "datasets.ImageFolder(root).samples lists (path, class index) for every image, classes numbered as "
        "ImageFolder does. Group the paths by class, shuffle each group with random.Random(seed), then cut it "
        "into consecutive slices: round(n * fraction) files for every split but the first, which takes the rest.",
        "rng = random.Random(seed); for each class: rng.shuffle(paths); sizes = [round(len(paths) * f) for f in "
        "list(fractions.values())[1:]]; slice paths[start:start + size] for each split in order, the first "
        "split's size being len(paths) - sum(sizes).",
    ),
)
def split_dataset(root, fractions, seed):
    """{split name: [(file path, class index), ...]}: every class split by itself, each file in one split."""
    by_class: dict[int, list[str]] = {}
    for path, label in datasets.ImageFolder(root).samples:   # sorted class folders, numbered from 0
        by_class.setdefault(label, []).append(path)
    names = list(fractions)
    rng = random.Random(seed)                                 # its own generator: the global one is left alone
    splits = {name: [] for name in names}
    for label, paths in by_class.items():
        rng.shuffle(paths)
        sizes = {name: round(len(paths) * fractions[name]) for name in names[1:]}
        sizes[names[0]] = len(paths) - sum(sizes.values())    # the first split takes the rest
        start = 0
        for name in names:
            splits[name] += [(path, label) for path in paths[start:start + sizes[name]]]
            start += sizes[name]
    return splits


@exercise(
    task="return the epoch number of the entry with the highest val_accuracy, the earliest of tied ones",
    check=check_best_checkpoint,
    hints=(
        "The checkpoint to keep is chosen on the validation set only: the test set is looked at once, at the end, "
        "and the training accuracy says nothing about new images.",
        "Walk through the history keeping the best entry so far; replace it only when an epoch is strictly better, "
        "so the earliest of tied epochs stays. Return the entry's own 'epoch' value, not its position in the list.",
        "best = history[0]; for entry in history[1:]: if entry['val_accuracy'] > best['val_accuracy']: best = entry; "
        "return best['epoch']",
    ),
)
def best_checkpoint(history):
    """The 'epoch' of the entry with the highest val_accuracy; the earliest one on ties."""
    best = history[0]
    for entry in history[1:]:
        if entry["val_accuracy"] > best["val_accuracy"]:     # strictly better: a tie keeps the earlier epoch
            best = entry
    return best["epoch"]


@exercise(
    task="return float32 weights of shape [num_classes], inversely proportional to each class's count in targets, "
         "0 for classes that never occur",
    check=check_class_weights,
    hints=(
        "A class with half as many samples gets twice the weight; a class that never occurs gets weight 0, since "
        "no sample of it is ever weighted.",
        "torch.bincount(torch.as_tensor(targets), minlength=num_classes) counts every class, absent ones as 0. "
        "The course's scale is len(targets) / (num_classes * count): all ones on a balanced set.",
        "counts = torch.bincount(torch.as_tensor(targets), minlength=num_classes).float(); weights = "
        "torch.zeros(num_classes); seen = counts > 0; weights[seen] = len(targets) / (num_classes * counts[seen])",
    ),
)
def class_weights(targets, num_classes):
    """Float32 [num_classes] weights for nn.CrossEntropyLoss(weight=...): len / (num_classes * count), 0 if absent."""
    counts = torch.bincount(torch.as_tensor(targets, dtype=torch.long), minlength=num_classes).float()
    weights = torch.zeros(num_classes)
    present = counts > 0                                      # 1 / 0 would be inf for a class that never occurs
    weights[present] = len(targets) / (num_classes * counts[present])
    return weights
