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

from ...checking import expect
from ...checking.describe import describe
from ...checking.sandbox import LearnerError, Mismatch, call_learner


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


def _read(loader, label: str):
    batches = call_learner(lambda: list(loader))
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


def check_make_loaders(answer) -> None:
    classes = ("ant", "bee", "cat")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "good"
        _write_folder(root, {"train": classes, "val": classes})
        in_order_train, in_order_val = _folder_order(root / "train"), _folder_order(root / "val")
        files = _fingerprint(root)
        result = call_learner(answer, root, _Tag(1.0), _Tag(2.0), 4)
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
        if first[2][0] != 4:
            raise Mismatch("batches of batch_size=4", f"a first batch of {first[2][0]}", "pass batch_size to DataLoader.")
        if sorted(first[0]) != sorted(in_order_train) or sorted(val[0]) != sorted(in_order_val):
            raise Mismatch(want, "loaders that do not cover exactly root/train and root/val",
                           "build ImageFolder(root / 'train') and ImageFolder(root / 'val').")
        if first[0] == in_order_train and second[0] == in_order_train:
            raise Mismatch(want, "the training order is the same every epoch (folder order: all ants, then all bees...)",
                           "shuffle=True for the training loader, so batches mix classes.", "train_not_shuffled")
        if val[0] != in_order_val:
            raise Mismatch(want, "validation batches in a random order", "use shuffle=False for validation.")

        for name, layout, missing in (("val lacks a class", {"train": classes, "val": ("ant", "cat")}, "bee"),
                                      ("val has an extra class", {"train": classes, "val": classes + ("dog",)}, "dog")):
            bad = Path(tmp) / name.replace(" ", "_")
            _write_folder(bad, layout, per_class=2)
            try:
                call_learner(answer, bad, _Tag(1.0), _Tag(2.0), 4)
            except LearnerError as err:
                if err.original_type is not None and issubclass(err.original_type, ValueError):
                    if missing not in err.text:
                        raise Mismatch(f"a ValueError naming the classes that differ ({missing!r})",
                                       f"ValueError: {err.text}", "include both class lists in the message.") from None
                    continue
                raise
            raise Mismatch(f"a ValueError when {name} ({missing!r})", "loaders were returned without complaint: "
                           "ImageFolder numbers classes alphabetically per folder, so the labels silently shift",
                           "compare train_set.classes with val_set.classes and raise ValueError naming them.",
                           "class_to_idx_mismatch")
