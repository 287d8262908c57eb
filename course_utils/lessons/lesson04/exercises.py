"""Lesson 04 exercises: train/validation transforms from a weights object (build_transforms) and
ImageFolder loaders (make_loaders)."""
from __future__ import annotations

from pathlib import Path

from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from ..declare import exercise
from .checks import check_build_transforms, check_make_loaders


# ---------------------------------------------------------------- build_transforms

@exercise(
    task="build (train_tf, val_tf) for a weights object: val_tf equal to weights.transforms(), train_tf randomly "
         "augmented, both normalised with the weights' mean and std at the weights' crop size",
    check=check_build_transforms,
    hints=(
        "Everything you need is on weights.transforms(): crop_size, mean and std.",
        "val_tf = weights.transforms(). For training, randomise the crop and flip, then convert and normalise.",
        "transforms.Compose([RandomResizedCrop(size), RandomHorizontalFlip(), ToTensor(), Normalize(mean, std)]) "
        "with size = val_tf.crop_size[0], mean = val_tf.mean, std = val_tf.std.",
    ),
)
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


# ---------------------------------------------------------------- make_loaders

@exercise(
    task="build ImageFolder loaders for root/train (shuffled, train_tf) and root/val (in order, val_tf), "
         "refusing splits whose class folders differ",
    check=check_make_loaders,
    hints=(
        "One ImageFolder per split, each with its own transform; one DataLoader per dataset.",
        "Shuffle only the training loader. Compare the two datasets' .classes lists before returning.",
        "if train_set.classes != val_set.classes: raise ValueError(f'... {train_set.classes} ... {val_set.classes}')",
    ),
)
def make_loaders(root, train_tf, val_tf, batch_size):
    """ImageFolder loaders for root/train (shuffled) and root/val (in order), each with its own transform."""
    root = Path(root)
    train_set = datasets.ImageFolder(root / "train", transform=train_tf)
    val_set = datasets.ImageFolder(root / "val", transform=val_tf)
    if train_set.classes != val_set.classes:
        raise ValueError(f"train classes {train_set.classes} differ from val classes {val_set.classes}")
    return (DataLoader(train_set, batch_size=batch_size, shuffle=True),
            DataLoader(val_set, batch_size=batch_size, shuffle=False))
