"""Lesson 04: the checker of make_loaders (ImageFolder per split, shuffling, own transforms, class check)."""
from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision import datasets
from torchvision.transforms import functional as TF

from ....checking import expect
from ....checking.describe import describe
from ....checking.sandbox import LearnerError, Mismatch, call_learner


class _Tag:
    """A transform that returns [mean pixel value, marker]: which image it saw, and which split's transform ran."""

    def __init__(self, marker: float):
        self.marker = marker

    def __call__(self, image) -> torch.Tensor:
        return torch.tensor([_grey_level(image), self.marker])


def _grey_level(image) -> float:
    """Each probe image is one uniform grey, unique to it: its identity."""
    return TF.pil_to_tensor(image).float().mean().item()


def _folder_order(folder: Path) -> list[float]:
    dataset = datasets.ImageFolder(folder)
    return [_grey_level(dataset.loader(path)) for path, _ in dataset.samples]


def _fingerprint(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _write_folder(root: Path, layout: dict[str, tuple[str, ...]], per_class: int = 4) -> None:
    value = 10
    for split, classes in layout.items():
        for name in classes:
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(per_class):
                Image.fromarray(np.full((6, 6, 3), value, dtype=np.uint8)).save(folder / f"{i}.png")
                value += 3  # every image has its own grey level: its identity


MAX_BATCHES = 50  # far more than the probe folders hold: a loader that never ends is stopped here


def _batches(loader, label: str) -> list:
    """The loader's batches, read in a Python loop (so the time limit can stop it) and bounded in number."""
    def read() -> list:
        batches = []
        for batch in loader:
            batches.append(batch)
            if len(batches) > MAX_BATCHES:
                break
        return batches
    batches = call_learner(read)
    if len(batches) > MAX_BATCHES:
        raise Mismatch(f"the {label} loader to end after one pass over its images", f"more than {MAX_BATCHES} "
                       "batches from a dozen images", "iterate over a DataLoader built on ImageFolder(root / split).")
    return batches


def _read(loader, label: str):
    batches = _batches(loader, label)
    if not batches:
        raise Mismatch(f"the {label} loader to yield batches", "no batches at all",
                       "build the loader on ImageFolder(root / split) with a batch_size of at least 1.")
    values, markers, sizes = [], [], []
    for batch in batches:
        if type(batch) in (list, tuple) and len(batch) == 2:
            batch = tuple(expect.plain_tensor(t) for t in batch)
        if not (type(batch) in (list, tuple) and len(batch) == 2 and all(t is not None for t in batch)
                and batch[0].dim() == 2 and batch[0].shape[1] == 2 and batch[1].dim() == 1):
            raise Mismatch(f"the {label} loader to yield (inputs, labels) batches made by the given transforms",
                           describe(batch), "wrap ImageFolder(root / split, transform=...) in a DataLoader.")
        inputs, labels = batch
        values += inputs[:, 0].tolist()
        markers += inputs[:, 1].tolist()
        sizes.append(len(labels))
    return values, markers, sizes


BATCH_SIZE = 5  # 12 images per split: batches of 5, 5 and 2, so a dropped or unbatched remainder shows


def _judge_batches(read, count: int, label: str) -> None:
    sizes = read[2]
    expected = [BATCH_SIZE] * (count // BATCH_SIZE) + ([count % BATCH_SIZE] if count % BATCH_SIZE else [])
    if sizes != expected:
        raise Mismatch(f"{label} batches of {expected} for {count} images with batch_size={BATCH_SIZE}",
                       f"batches of {sizes}", "pass batch_size to each DataLoader and keep drop_last=False (the "
                       "default), so every image is used.")


# Class folders that differ between the splits, and the class the learner's error message must name.
BAD_LAYOUTS = (
    ("val lacks a class", ("ant", "bee", "cat"), ("ant", "cat"), "bee"),
    ("val has an extra class", ("ant", "bee", "cat"), ("ant", "bee", "cat", "dog"), "dog"),
    ("val has a class of another name (the same number of classes)", ("ant", "bee", "cat"), ("ant", "bee", "cow"),
     "cow"),
)


def _judge_refusals(answer, tmp: Path) -> None:
    for name, train_classes, val_classes, missing in BAD_LAYOUTS:
        bad = tmp / f"bad{len(name)}"
        _write_folder(bad, {"train": train_classes, "val": val_classes}, per_class=2)
        try:
            call_learner(answer, bad, _Tag(1.0), _Tag(2.0), BATCH_SIZE)
        except LearnerError as err:
            if err.original_type is not None and issubclass(err.original_type, ValueError):
                if missing not in err.text:
                    raise Mismatch(f"a ValueError naming the classes that differ ({missing!r})",
                                   f"ValueError: {err.text}", "include both class lists in the message.") from None
                continue
            raise Mismatch(f"a ValueError when {name} ({missing!r})", f"{err.kind}: {err.text}",
                           "raise ValueError(...) naming both class lists: an assert disappears under python -O, "
                           "and other exception types say something else went wrong.") from None
        raise Mismatch(f"a ValueError when {name} ({missing!r})", "loaders were returned without complaint: "
                       "ImageFolder numbers classes alphabetically per folder, so the labels silently shift",
                       "compare train_set.classes with val_set.classes (the names, not only how many) and raise "
                       "ValueError naming them.", "class_to_idx_mismatch")


def check_make_loaders(answer) -> None:
    """Judge make_loaders on a temporary ImageFolder with train/ and val/ of the same 3 classes, then on splits whose
    class folders differ (which must be refused); the files must be left as they were.

    Names: `train_not_shuffled`, `transforms_swapped`, `class_to_idx_mismatch`, `modified_input`.
    """
    classes = ("ant", "bee", "cat")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "good"
        _write_folder(root, {"train": classes, "val": classes})
        in_order_train, in_order_val = _folder_order(root / "train"), _folder_order(root / "val")
        files = _fingerprint(root)
        result = call_learner(answer, root, _Tag(1.0), _Tag(2.0), BATCH_SIZE)
        train_loader, val_loader = expect.sequence(result, 2, "a pair (train_loader, val_loader)",
                                                   "return train_loader, val_loader.")

        torch.manual_seed(0)
        first = _read(train_loader, "train")
        torch.manual_seed(1)
        second = _read(train_loader, "train")
        val = _read(val_loader, "val")
        if _fingerprint(root) != files:
            raise Mismatch("the image folders left as they were", "files under root changed while your function ran",
                           "only read the dataset: never delete, move or rewrite the learner's images.",
                           "modified_input")
        want = "train_loader using train_tf and shuffling; val_loader using val_tf in folder order"
        if set(first[1]) == {2.0} and set(val[1]) == {1.0}:
            raise Mismatch(want, "the training data went through val_tf and the validation data through train_tf",
                           "give ImageFolder(root/'train') the train_tf, and ImageFolder(root/'val') the val_tf.",
                           "transforms_swapped")
        if set(first[1]) != {1.0} or set(val[1]) != {2.0}:
            raise Mismatch(want, "a split did not use its own transform", "pass transform=train_tf / transform=val_tf.")
        if sorted(first[0]) != sorted(in_order_train) or sorted(val[0]) != sorted(in_order_val):
            raise Mismatch(want, "loaders that do not cover exactly root/train and root/val, each image once",
                           "build ImageFolder(root / 'train') and ImageFolder(root / 'val'), and keep drop_last=False.")
        _judge_batches(first, len(in_order_train), "train")
        _judge_batches(val, len(in_order_val), "val")
        if first[0] == in_order_train and second[0] == in_order_train:
            raise Mismatch(want, "the training order is the same every epoch (folder order: all ants, then all bees...)",
                           "shuffle=True for the training loader, so batches mix classes.", "train_not_shuffled")
        if first[0] == second[0]:
            raise Mismatch(want, "a mixed order, but the same one in every epoch (shuffled once, before the loader)",
                           "let the loader reshuffle every epoch: DataLoader(train_set, batch_size, shuffle=True).",
                           "train_not_shuffled")
        if val[0] != in_order_val:
            raise Mismatch(want, "validation batches in a random order", "use shuffle=False for validation.")
        _judge_refusals(answer, Path(tmp))
