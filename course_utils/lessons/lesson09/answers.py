"""Lesson 09 answers the checkers know: one wrong answer per named mistake, and correct answers written other ways."""
import os
import random
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from torchvision import datasets
from torchvision.datasets.folder import IMG_EXTENSIONS

from ..declare import alternative, wrong_answer


# ---------------------------------------------------------------- split_dataset

@wrong_answer("split_dataset")
def not_stratified(root, fractions, seed):
    """All files shuffled together, then cut: classes split by chance"""
    samples = datasets.ImageFolder(root).samples
    random.Random(seed).shuffle(samples)                 # every class in one list: no class is split by itself
    names = list(fractions)
    sizes = [round(len(samples) * fractions[name]) for name in names[1:]]
    sizes.insert(0, len(samples) - sum(sizes))
    splits, start = {}, 0
    for name, size in zip(names, sizes):
        splits[name] = samples[start:start + size]
        start += size
    return splits


@wrong_answer("split_dataset")
def overlapping_splits(root, fractions, seed):
    """Last split drawn again from all of a class's files"""
    dataset = datasets.ImageFolder(root)
    rng = random.Random(seed)
    names = list(fractions)
    splits = {name: [] for name in names}
    for label in range(len(dataset.classes)):
        paths = [path for path, y in dataset.samples if y == label]
        rng.shuffle(paths)
        start = 0
        for name in names[:-1]:
            size = round(len(paths) * fractions[name])
            splits[name] += [(path, label) for path in paths[start:start + size]]
            start += size
        splits[names[-1]] += [(path, label) for path in rng.sample(paths, len(paths) - start)]   # from all files
    return splits


@wrong_answer("split_dataset")
def not_deterministic(root, fractions, seed):
    """Files shuffled by the global RNG, never seeded"""
    groups = {}
    for path, label in datasets.ImageFolder(root).samples:
        groups.setdefault(label, []).append(path)
    names = list(fractions)
    splits = {name: [] for name in names}
    for label, paths in groups.items():
        random.shuffle(paths)                            # the global generator: the seed is never used
        n = len(paths)
        for name in reversed(names[1:]):
            splits[name] += [(paths.pop(), label) for _ in range(round(n * fractions[name]))]
        splits[names[0]] += [(path, label) for path in paths]
    return splits


@wrong_answer("split_dataset")
def ignores_seed(root, fractions, seed):
    """A seed of its own, 42: every seed gives the same splits"""
    rng = random.Random(42)                              # not the seed it was given
    root = Path(root)
    classes = sorted(folder.name for folder in root.iterdir() if folder.is_dir())
    splits = {name: [] for name in fractions}
    for label, name in enumerate(classes):
        files = sorted(str(f) for f in (root / name).iterdir() if f.suffix.lower() in IMG_EXTENSIONS)
        rng.shuffle(files)
        edges = [0]
        for fraction in fractions.values():
            edges.append(edges[-1] + fraction)
        for split, low, high in zip(fractions, edges, edges[1:]):
            splits[split] += [(f, label) for f in files[round(low * len(files)):round(high * len(files))]]
    return splits


@wrong_answer("split_dataset")
def wrong_class_index(root, fractions, seed):
    """Classes numbered from 1 instead of 0"""
    root = Path(root)
    classes = sorted(folder.name for folder in root.iterdir() if folder.is_dir())
    rng = random.Random(seed)
    names = list(fractions)
    splits = {name: [] for name in names}
    for label, name in enumerate(classes, start=1):      # ImageFolder counts from 0
        files = sorted(str(f) for f in (root / name).iterdir() if f.suffix.lower() in IMG_EXTENSIONS)
        rng.shuffle(files)
        taken = {name: round(len(files) * fractions[name]) for name in names[1:]}
        taken[names[0]] = len(files) - sum(taken.values())
        for split in names:
            splits[split] += [(f, label) for f in files[:taken[split]]]
            files = files[taken[split]:]
    return splits


@alternative("split_dataset")
def split_with_pathlib_and_numpy(root, fractions, seed):
    root = Path(root)
    classes = sorted(d.name for d in root.iterdir() if d.is_dir())
    rng = np.random.default_rng(seed)
    cumulative = np.cumsum(list(fractions.values()))[:-1]
    splits = {name: [] for name in fractions}
    for label, name in enumerate(classes):
        files = sorted(p for p in (root / name).rglob("*") if p.is_file() and p.suffix.lower() in IMG_EXTENSIONS)
        shuffled = np.array(files, dtype=object)[rng.permutation(len(files))]
        for split, part in zip(fractions, np.split(shuffled, np.round(cumulative * len(files)).astype(int))):
            splits[split].extend((path, np.int64(label)) for path in part)   # Path objects, NumPy ints
    return splits


@alternative("split_dataset")
def split_with_os_walk_and_torch(root, fractions, seed):
    classes = sorted(entry.name for entry in os.scandir(root) if entry.is_dir())
    generator = torch.Generator().manual_seed(seed)
    splits = {name: [] for name in fractions}
    for label, name in enumerate(classes):
        files = [os.path.join(folder, f) for folder, _, found in os.walk(os.path.join(root, name))
                 for f in sorted(found) if f.lower().endswith(IMG_EXTENSIONS)]
        order = torch.randperm(len(files), generator=generator).tolist()
        low = total = 0.0
        for split, fraction in fractions.items():
            total += fraction
            high = min(int(total * len(files) + 1e-9), len(files))   # cumulative cuts, rounded down
            splits[split] += [(files[i], label) for i in order[int(low):high]]
            low = high
    return splits


@alternative("split_dataset")
def split_with_the_global_seed(root, fractions, seed):
    dataset = datasets.ImageFolder(root)
    random.seed(seed)                                    # the check puts the global generator back afterwards
    splits = {name: [] for name in fractions}
    for label in range(len(dataset.classes)):
        rest = random.sample([p for p, y in dataset.samples if y == label], k=dataset.targets.count(label))
        total = len(rest)
        for name in list(fractions)[:0:-1]:              # the last splits first; the first takes what is left
            take = round(total * fractions[name])
            splits[name] += [(p, label) for p in rest[:take]]
            rest = rest[take:]
        splits[next(iter(fractions))] += [(p, label) for p in rest]
    return splits


# ---------------------------------------------------------------- best_checkpoint

@wrong_answer("best_checkpoint")
def kept_last_epoch(history):
    """The last epoch kept, whatever its validation accuracy"""
    return history[-1]["epoch"]


@wrong_answer("best_checkpoint")
def selected_on_test(history):
    """Epoch chosen by its test accuracy"""
    return max(history, key=lambda entry: entry["test_accuracy"])["epoch"]


@wrong_answer("best_checkpoint")
def selected_on_train(history):
    """Epoch chosen by its training accuracy"""
    return max(history, key=lambda entry: entry["train_accuracy"])["epoch"]


@wrong_answer("best_checkpoint")
def returned_index(history):
    """Position in the list returned instead of the epoch number"""
    accuracies = [entry["val_accuracy"] for entry in history]
    return accuracies.index(max(accuracies))             # counts from 0, whatever the epochs are


@wrong_answer("best_checkpoint")
def latest_on_tie(history):
    """Ties go to the latest epoch (>= instead of >)"""
    best = history[0]
    for entry in history:
        if entry["val_accuracy"] >= best["val_accuracy"]:
            best = entry
    return best["epoch"]


@alternative("best_checkpoint")
def best_with_max(history):
    return max(history, key=lambda entry: entry["val_accuracy"])["epoch"]


@alternative("best_checkpoint")
def best_with_numpy(history):
    epochs = np.array([entry["epoch"] for entry in history])
    return epochs[np.argmax([entry["val_accuracy"] for entry in history])]   # a NumPy int


@alternative("best_checkpoint")
def best_by_sorting(history):
    ranked = sorted(history, key=lambda entry: (-entry["val_accuracy"], entry["epoch"]))
    return ranked[0]["epoch"]


# ---------------------------------------------------------------- class_weights

@wrong_answer("class_weights")
def not_inverted(targets, num_classes):
    """Weights proportional to the class counts"""
    counts = torch.bincount(torch.as_tensor(targets), minlength=num_classes).float()
    return counts / len(targets)                         # the most frequent class weighs most


@wrong_answer("class_weights")
def sized_from_labels(targets, num_classes):
    """One weight per label seen, not per class"""
    counts = torch.bincount(torch.as_tensor(targets)).float()   # as long as the largest label + 1
    weights = torch.zeros(len(counts))
    weights[counts > 0] = len(targets) / (num_classes * counts[counts > 0])
    return weights


@wrong_answer("class_weights")
def infinite_for_absent_class(targets, num_classes):
    """Division by a zero count: inf for an absent class"""
    counts = torch.bincount(torch.as_tensor(targets), minlength=num_classes).float()
    return len(targets) / (num_classes * counts)         # 1 / 0 = inf


@alternative("class_weights")
def weights_with_numpy(targets, num_classes):
    counts = np.bincount(np.asarray(targets, dtype=np.int64), minlength=num_classes)
    weights = np.divide(1.0, counts, out=np.zeros(num_classes), where=counts > 0)   # another scale: 1 / count
    return torch.from_numpy(weights).float()


@alternative("class_weights")
def weights_with_a_counter(targets, num_classes):
    seen = Counter(int(label) for label in targets)
    total = sum(seen.values())
    return torch.tensor([total / (num_classes * seen[c]) if seen[c] else 0.0 for c in range(num_classes)],
                        dtype=torch.float32)


@alternative("class_weights")
def weights_with_nan_to_num(targets, num_classes):
    counts = torch.zeros(num_classes).scatter_add_(0, torch.as_tensor(targets).long(),
                                                   torch.ones(len(targets)))
    inverse = torch.nan_to_num(1 / counts, posinf=0.0)
    return inverse / inverse.sum()                       # normalised to sum to 1: the same weighted mean loss
