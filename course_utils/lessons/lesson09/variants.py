"""Lesson 09: more ways of committing each named mistake (NumPy and torch generators, os.listdir and pathlib, slices
and samples, sorting and argmax, unique and bincount); the tests check that the checker names each one's id."""
import glob
import os
import random
from pathlib import Path

import numpy as np
import torch
from torchvision import datasets
from torchvision.datasets.folder import IMG_EXTENSIONS

from ..declare import same_mistake


def _images(folder):
    """The images of one class folder, by name (a helper a learner might write)."""
    return sorted(str(p) for p in Path(folder).iterdir() if p.suffix.lower() in IMG_EXTENSIONS)


# ---------------------------------------------------------------- split_dataset

@same_mistake("split_dataset", "not_stratified")
def shuffled_with_numpy_then_cut(root, fractions, seed):
    samples = datasets.ImageFolder(root).samples
    order = np.random.default_rng(seed).permutation(len(samples))
    edges = (np.cumsum(list(fractions.values()))[:-1] * len(samples)).astype(int)
    return {name: [samples[i] for i in part] for name, part in zip(fractions, np.split(order, edges))}


@same_mistake("split_dataset", "not_stratified")
def shuffled_with_torch_then_cut(root, fractions, seed):
    classes = sorted(d.name for d in Path(root).iterdir() if d.is_dir())
    files = [(path, label) for label, name in enumerate(classes) for path in _images(Path(root) / name)]
    order = torch.randperm(len(files), generator=torch.Generator().manual_seed(seed)).tolist()
    splits, start = {}, 0
    for name, fraction in fractions.items():
        size = round(fraction * len(files))
        splits[name] = [files[i] for i in order[start:start + size]]
        start += size
    splits[next(iter(fractions))] += [files[i] for i in order[start:]]
    return splits


@same_mistake("split_dataset", "overlapping_splits")
def slices_share_their_boundary(root, fractions, seed):
    dataset = datasets.ImageFolder(root)
    rng = random.Random(seed)
    splits = {name: [] for name in fractions}
    for label, _ in enumerate(dataset.classes):
        paths = [p for p, y in dataset.samples if y == label]
        rng.shuffle(paths)
        start = 0
        for name, fraction in fractions.items():
            end = start + round(fraction * len(paths))
            splits[name] += [(p, label) for p in paths[start:end + 1]]   # one past the end: the next split's first
            start = end
    return splits


@same_mistake("split_dataset", "overlapping_splits")
def val_and_test_drawn_separately(root, fractions, seed):
    first, *others = fractions
    rng = random.Random(seed)
    splits = {name: [] for name in fractions}
    for label, name in enumerate(sorted(d.name for d in Path(root).iterdir() if d.is_dir())):
        files = _images(Path(root) / name)
        rng.shuffle(files)
        kept = len(files) - sum(round(len(files) * fractions[other]) for other in others)
        splits[first] += [(f, label) for f in files[:kept]]
        for other in others:                             # each drawn from the rest on its own
            splits[other] += [(f, label) for f in rng.sample(files[kept:], round(len(files) * fractions[other]))]
    return splits


@same_mistake("split_dataset", "not_deterministic")
def numpy_global_permutation(root, fractions, seed):
    dataset = datasets.ImageFolder(root)
    targets = np.array(dataset.targets)
    splits = {name: [] for name in fractions}
    for label in np.unique(targets):
        members = np.random.permutation(np.flatnonzero(targets == label))   # NumPy's global generator
        edges = np.round(np.cumsum(list(fractions.values()))[:-1] * len(members)).astype(int)
        for name, part in zip(fractions, np.split(members, edges)):
            splits[name] += [dataset.samples[i] for i in part]
    return splits


@same_mistake("split_dataset", "not_deterministic")
def torch_randperm_without_generator(root, fractions, seed):
    splits = {name: [] for name in fractions}
    classes = sorted(e.name for e in os.scandir(root) if e.is_dir())
    for label, name in enumerate(classes):
        files = _images(os.path.join(root, name))
        order = torch.randperm(len(files)).tolist()     # the global torch generator, never seeded
        cuts = [0]
        for fraction in fractions.values():
            cuts.append(min(len(files), cuts[-1] + round(fraction * len(files))))
        cuts[-1] = len(files)
        for split, low, high in zip(fractions, cuts, cuts[1:]):
            splits[split] += [(files[i], label) for i in order[low:high]]
    return splits


@same_mistake("split_dataset", "ignores_seed")
def never_shuffled(root, fractions, seed):
    samples = datasets.ImageFolder(root).samples         # sorted by class, then by file name
    splits = {name: [] for name in fractions}
    for label in sorted({y for _, y in samples}):
        paths = [p for p, y in samples if y == label]
        counts = [round(len(paths) * f) for f in fractions.values()]
        counts[0] += len(paths) - sum(counts)
        for name, end, count in zip(fractions, np.cumsum(counts), counts):
            splits[name] += [(p, label) for p in paths[end - count:end]]
    return splits


@same_mistake("split_dataset", "ignores_seed")
def numpy_generator_with_a_fixed_seed(root, fractions, seed):
    dataset = datasets.ImageFolder(root)
    rng = np.random.default_rng(0)                       # the same every call
    groups = {}
    for index, label in enumerate(dataset.targets):
        groups.setdefault(label, []).append(index)
    splits = {name: [] for name in fractions}
    for label, indices in groups.items():
        indices = rng.permutation(indices)
        edges = np.round(np.cumsum(list(fractions.values()))[:-1] * len(indices)).astype(int)
        for name, part in zip(fractions, np.split(indices, edges)):
            splits[name].extend(dataset.samples[i] for i in part)
    return splits


@same_mistake("split_dataset", "wrong_class_index")
def stray_file_counted_as_class(root, fractions, seed):
    rng = random.Random(seed)
    splits = {name: [] for name in fractions}
    for label, entry in enumerate(sorted(os.listdir(root))):   # a README.md beside the classes takes index 0
        if not os.path.isdir(os.path.join(root, entry)):
            continue
        files = sorted(f for f in glob.glob(os.path.join(root, entry, "**", "*"), recursive=True)
                       if f.lower().endswith(IMG_EXTENSIONS))
        rng.shuffle(files)
        edges = np.round(np.cumsum(list(fractions.values()))[:-1] * len(files)).astype(int)
        for name, part in zip(fractions, np.split(np.array(files), edges)):
            splits[name] += [(str(f), label) for f in part]
    return splits


@same_mistake("split_dataset", "wrong_class_index")
def classes_in_reverse_order(root, fractions, seed):
    classes = sorted((d.name for d in Path(root).iterdir() if d.is_dir()), reverse=True)
    generator = torch.Generator().manual_seed(seed)
    splits = {name: [] for name in fractions}
    for label, name in enumerate(classes):
        files = _images(Path(root) / name)
        shuffled = [files[i] for i in torch.randperm(len(files), generator=generator)]
        edges = np.round(np.cumsum([0, *fractions.values()]) * len(files)).astype(int)
        for split, low, high in zip(fractions, edges, edges[1:]):
            splits[split] += [(f, label) for f in shuffled[low:high]]
    return splits


# ---------------------------------------------------------------- best_checkpoint

@same_mistake("best_checkpoint", "kept_last_epoch")
def number_of_epochs(history):
    return len(history)


@same_mistake("best_checkpoint", "kept_last_epoch")
def largest_epoch(history):
    return max(entry["epoch"] for entry in history)


@same_mistake("best_checkpoint", "selected_on_test")
def argmax_of_test(history):
    scores = np.array([entry["test_accuracy"] for entry in history])
    return history[int(scores.argmax())]["epoch"]


@same_mistake("best_checkpoint", "selected_on_test")
def sorted_by_test(history):
    return sorted(history, key=lambda entry: entry["test_accuracy"], reverse=True)[0]["epoch"]


@same_mistake("best_checkpoint", "selected_on_train")
def loop_over_train(history):
    best_epoch, best = None, -1.0
    for entry in history:
        if entry["train_accuracy"] > best:
            best_epoch, best = entry["epoch"], entry["train_accuracy"]
    return best_epoch


@same_mistake("best_checkpoint", "selected_on_train")
def argmax_of_train(history):
    return history[int(np.argmax([entry["train_accuracy"] for entry in history]))]["epoch"]


@same_mistake("best_checkpoint", "returned_index")
def numpy_argmax(history):
    return np.argmax([entry["val_accuracy"] for entry in history])


@same_mistake("best_checkpoint", "returned_index")
def position_counted_from_one(history):
    accuracies = [entry["val_accuracy"] for entry in history]
    return accuracies.index(max(accuracies)) + 1         # right only when the history begins at epoch 1


@same_mistake("best_checkpoint", "latest_on_tie")
def last_after_sorting(history):
    return sorted(history, key=lambda entry: entry["val_accuracy"])[-1]["epoch"]


@same_mistake("best_checkpoint", "latest_on_tie")
def max_of_the_reversed_history(history):
    return max(reversed(history), key=lambda entry: entry["val_accuracy"])["epoch"]


# ---------------------------------------------------------------- class_weights

@same_mistake("class_weights", "not_inverted")
def class_frequencies(targets, num_classes):
    counts = torch.bincount(torch.as_tensor(targets), minlength=num_classes).float()
    return counts / counts.sum()


@same_mistake("class_weights", "not_inverted")
def counts_over_the_largest(targets, num_classes):
    counts = np.bincount(np.asarray(targets), minlength=num_classes)
    return torch.tensor(counts / counts.max(), dtype=torch.float32)


@same_mistake("class_weights", "sized_from_labels")
def weights_of_unique_labels(targets, num_classes):
    _, counts = torch.unique(torch.as_tensor(targets), return_counts=True)
    return (len(targets) / (num_classes * counts)).float()


@same_mistake("class_weights", "sized_from_labels")
def classes_counted_from_the_labels(targets, num_classes):
    labels = torch.as_tensor(targets)
    k = int(labels.max()) + 1                            # the classes seen, not num_classes
    counts = torch.bincount(labels, minlength=k).float()
    return torch.where(counts > 0, len(labels) / (k * counts), torch.zeros(k))


@same_mistake("class_weights", "infinite_for_absent_class")
def one_over_counts(targets, num_classes):
    return 1.0 / torch.bincount(torch.as_tensor(targets), minlength=num_classes).float()


@same_mistake("class_weights", "infinite_for_absent_class")
def normalised_inverse(targets, num_classes):
    inverse = 1 / torch.bincount(torch.as_tensor(targets), minlength=num_classes)
    return inverse / inverse.sum()                       # inf / inf: nan for absent classes
