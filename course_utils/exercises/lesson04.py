"""Lesson 04 exercises: train/validation transforms from a weights object (build_transforms) and
ImageFolder loaders (make_loaders)."""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader
from torchvision import datasets, transforms
from torchvision.models import ResNet18_Weights
from torchvision.transforms import functional as TF

from ..checking.describe import describe
from ..checking.sandbox import LearnerError, Mismatch, call_learner
from ..images import demo_image
from ..pretrained import CourseWeights
from . import Exercise

LESSON = "04_data_and_transforms"


# ---------------------------------------------------------------- build_transforms

def build_transforms(weights):
    """(train_tf, val_tf) for ``weights``: val_tf is weights.transforms(); train_tf augments, same size and normalisation."""
    val_tf = weights.transforms()
    size = val_tf.crop_size[0]
    train_tf = transforms.Compose([
        transforms.RandomResizedCrop(size, scale=(0.6, 1.0), antialias=True),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(val_tf.mean, val_tf.std),
    ])
    return train_tf, val_tf


def _probe_weights():
    """torchvision's ImageNet weights, and a course-style weights object with unusual numbers,
    so that constants copied from ImageNet are caught."""
    course = CourseWeights(Path("checker-probe.pt"), {"crop_size": 56, "resize_size": 64, "mean": (0.3, 0.4, 0.5),
                                                      "std": (0.2, 0.25, 0.3), "source_task": "checker probe"})
    return (("torchvision's ResNet18_Weights.DEFAULT", ResNet18_Weights.DEFAULT), ("the course's weights", course))


def _channel_fit(out: torch.Tensor, raw: torch.Tensor) -> bool:
    """True if each channel of ``out`` is an exact affine function of ``raw``: normalised with other constants."""
    for o, r in zip(out, raw):
        design = torch.stack([r.flatten(), torch.ones(r.numel())], dim=1).double()
        solution = torch.linalg.lstsq(design, o.flatten().double().unsqueeze(1)).solution
        if (design @ solution).squeeze(1).sub(o.flatten().double()).abs().max() > 1e-3:
            return False
    return True


def _judge_val(val_tf, preset, image, label: str) -> None:
    reference = preset(image)
    size = reference.shape[-1]
    want = f"val_tf(image) equal to weights.transforms()(image): a [3, {size}, {size}] tensor, for {label}"
    torch.manual_seed(1)
    first = call_learner(val_tf, image)
    torch.manual_seed(2)
    second = call_learner(val_tf, image)
    if not isinstance(first, torch.Tensor) or not isinstance(second, torch.Tensor) or not first.is_floating_point():
        raise Mismatch(want, describe(first), "end the pipeline with ToTensor (float values) and Normalize.")
    if tuple(first.shape) != tuple(reference.shape):
        raise Mismatch(want, describe(first), f"the pretrained weights expect {size}x{size} crops: read the size "
                       "from weights.transforms().crop_size instead of hard-coding it.", "wrong_size")
    if not torch.equal(first, second):
        raise Mismatch(want, "val_tf gave different tensors for the same image: it contains random augmentation",
                       "validation must be deterministic: use weights.transforms() as it is.", "augment_validation")
    if torch.allclose(first, reference, atol=1e-3):
        return
    mean = torch.tensor(preset.mean).view(3, 1, 1)
    std = torch.tensor(preset.std).view(3, 1, 1)
    raw = reference * std + mean
    if torch.allclose(first, raw, atol=1e-3):
        raise Mismatch(want, "values in [0, 1]: the image was never normalised",
                       "add Normalize(mean, std) with the weights' own mean and std.", "skip_normalization")
    if _channel_fit(first, raw):
        raise Mismatch(want, "normalised, but with a different mean/std than the weights were trained with",
                       "take mean and std from weights.transforms().mean / .std, not from a blog post.",
                       "wrong_normalization")
    raise Mismatch(want, "the same shape but different values", "use weights.transforms() itself as val_tf.")


def _judge_train(train_tf, preset, image, label: str) -> None:
    size = preset.crop_size[0]
    want = f"train_tf(image): a randomly augmented, normalised [3, {size}, {size}] tensor, for {label}"
    outputs = []
    for seed in range(6):
        torch.manual_seed(seed)
        out = call_learner(train_tf, image)
        if not isinstance(out, torch.Tensor) or not out.is_floating_point():
            raise Mismatch(want, describe(out), "end the pipeline with ToTensor (float values) and Normalize.")
        if tuple(out.shape) != (3, size, size):
            raise Mismatch(want, describe(out), f"crop to the weights' size, {size} (weights.transforms().crop_size).",
                           "wrong_size")
        outputs.append(out)
    if all(torch.equal(outputs[0], o) for o in outputs[1:]):
        raise Mismatch(want, "the same tensor every time: no random augmentation",
                       "add random transforms such as RandomResizedCrop and RandomHorizontalFlip.", "train_not_augmented")
    colour = np.array([200, 120, 40], dtype=np.uint8)
    solid = Image.fromarray(np.broadcast_to(colour, (64, 80, 3)).copy())
    medians = []
    for seed in range(9):  # median over draws cancels random colour jitter
        torch.manual_seed(seed)
        out = call_learner(train_tf, solid)
        if not isinstance(out, torch.Tensor) or out.dim() != 3 or not out.is_floating_point():
            raise Mismatch(want, f"for a plain-coloured image: {describe(out)}",
                           "keep the same pipeline for every image: crop, flip, ToTensor, Normalize.")
        medians.append(out.flatten(1).median(dim=1).values)
    value = torch.stack(medians).median(dim=0).values
    expected = (torch.tensor(colour / 255, dtype=torch.float32) - torch.tensor(preset.mean)) / torch.tensor(preset.std)
    if torch.allclose(value, expected, atol=0.3):
        return
    if torch.allclose(value, torch.tensor(colour / 255, dtype=torch.float32), atol=0.1):
        raise Mismatch(want, "training tensors in [0, 1]: not normalised",
                       "end train_tf with Normalize(mean, std) using the weights' mean and std.", "skip_normalization")
    raise Mismatch(want, f"a solid colour came out as {[round(v, 2) for v in value.tolist()]}, expected "
                   f"{[round(v, 2) for v in expected.tolist()]}",
                   "normalise training images with exactly the weights' mean and std.", "wrong_normalization")


def check_build_transforms(answer) -> None:
    image = Image.fromarray(demo_image(64, 80))  # not square, so a missing crop shows in the shape
    for label, weights in _probe_weights():
        result = call_learner(answer, weights)
        if not (isinstance(result, (tuple, list)) and len(result) == 2 and all(callable(t) for t in result)):
            raise Mismatch("a pair (train_tf, val_tf) of callables", describe(result),
                           "return train_tf, val_tf.")
        train_tf, val_tf = result
        preset = weights.transforms()
        _judge_val(val_tf, preset, image, label)
        _judge_train(train_tf, preset, image, label)


# ---------------------------------------------------------------- make_loaders

def make_loaders(root, train_tf, val_tf, batch_size):
    """ImageFolder loaders for root/train (shuffled) and root/val (in order), each with its own transform."""
    root = Path(root)
    train_set = datasets.ImageFolder(root / "train", transform=train_tf)
    val_set = datasets.ImageFolder(root / "val", transform=val_tf)
    if train_set.classes != val_set.classes:
        raise ValueError(f"train classes {train_set.classes} differ from val classes {val_set.classes}")
    return (DataLoader(train_set, batch_size=batch_size, shuffle=True),
            DataLoader(val_set, batch_size=batch_size, shuffle=False))


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
        if not (isinstance(batch, (list, tuple)) and len(batch) == 2 and all(isinstance(t, torch.Tensor) for t in batch)
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
        result = call_learner(answer, root, _Tag(1.0), _Tag(2.0), 4)
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            raise Mismatch("a pair (train_loader, val_loader)", describe(result), "return train_loader, val_loader.")
        train_loader, val_loader = result
        in_order_train, in_order_val = _folder_order(root / "train"), _folder_order(root / "val")

        torch.manual_seed(0)
        first = _read(train_loader, "train")
        torch.manual_seed(1)
        second = _read(train_loader, "train")
        val = _read(val_loader, "val")
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
                if isinstance(err.exc, ValueError):
                    if missing not in str(err.exc):
                        raise Mismatch(f"a ValueError naming the classes that differ ({missing!r})",
                                       f"ValueError: {err.exc}", "include both class lists in the message.") from None
                    continue
                raise
            raise Mismatch(f"a ValueError when {name} ({missing!r})", "loaders were returned without complaint: "
                           "ImageFolder numbers classes alphabetically per folder, so the labels silently shift",
                           "compare train_set.classes with val_set.classes and raise ValueError naming them.",
                           "class_to_idx_mismatch")


EXERCISES = (
    Exercise(
        name="build_transforms",
        lesson=LESSON,
        task="build (train_tf, val_tf) for a weights object: val_tf equal to weights.transforms(), train_tf randomly "
             "augmented, both normalised with the weights' mean and std at the weights' crop size",
        check=check_build_transforms,
        solution=build_transforms,
        hints=(
            "Everything you need is on weights.transforms(): crop_size, mean and std.",
            "val_tf = weights.transforms(). For training, randomise the crop and flip, then convert and normalise.",
            "transforms.Compose([RandomResizedCrop(size), RandomHorizontalFlip(), ToTensor(), Normalize(mean, std)]) "
            "with size = val_tf.crop_size[0], mean = val_tf.mean, std = val_tf.std.",
        ),
        mistakes=("skip_normalization", "wrong_normalization", "augment_validation", "train_not_augmented", "wrong_size"),
    ),
    Exercise(
        name="make_loaders",
        lesson=LESSON,
        task="build ImageFolder loaders for root/train (shuffled, train_tf) and root/val (in order, val_tf), "
             "refusing splits whose class folders differ",
        check=check_make_loaders,
        solution=make_loaders,
        hints=(
            "One ImageFolder per split, each with its own transform; one DataLoader per dataset.",
            "Shuffle only the training loader. Compare the two datasets' .classes lists before returning.",
            "if train_set.classes != val_set.classes: raise ValueError(f'... {train_set.classes} ... {val_set.classes}')",
        ),
        mistakes=("train_not_shuffled", "transforms_swapped", "class_to_idx_mismatch"),
    ),
)
