"""Lesson 04 answers the checkers know: one wrong answer per named mistake, and correct answers written other ways."""
from pathlib import Path

import torch
from torch.utils.data import DataLoader
from torchvision import datasets, transforms
from torchvision.transforms import v2

from ..declare import alternative, wrong_answer


# ---------------------------------------------------------------- build_transforms: wrong answers

@wrong_answer("build_transforms")
def skip_normalization(weights):
    """No Normalize step: the model sees unnormalised pixels"""
    preset = weights.transforms()
    size = preset.crop_size[0]
    train_tf = transforms.Compose([transforms.RandomResizedCrop(size), transforms.RandomHorizontalFlip(),
                                   transforms.ToTensor()])
    val_tf = transforms.Compose([transforms.Resize(preset.resize_size[0]), transforms.CenterCrop(size),
                                 transforms.ToTensor()])
    return train_tf, val_tf


@wrong_answer("build_transforms")
def wrong_normalization(weights):
    """ImageNet mean and std copied in, not the weights' own"""
    preset = weights.transforms()
    size = preset.crop_size[0]
    imagenet = transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))   # copied from a blog post
    train_tf = transforms.Compose([transforms.RandomResizedCrop(size), transforms.RandomHorizontalFlip(),
                                   transforms.ToTensor(), imagenet])
    val_tf = transforms.Compose([transforms.Resize(preset.resize_size[0]), transforms.CenterCrop(size),
                                 transforms.ToTensor(), imagenet])
    return train_tf, val_tf


@wrong_answer("build_transforms")
def augment_validation(weights):
    """Validation images randomly cropped and flipped too"""
    preset = weights.transforms()
    train_tf = transforms.Compose([transforms.RandomResizedCrop(preset.crop_size[0]), transforms.RandomHorizontalFlip(),
                                   transforms.ToTensor(), transforms.Normalize(preset.mean, preset.std)])
    return train_tf, train_tf


@wrong_answer("build_transforms")
def train_not_augmented(weights):
    """Training images never augmented: both use the preset"""
    return weights.transforms(), weights.transforms()


@wrong_answer("build_transforms")
def wrong_size(weights):
    """Sizes 224 and 256 typed in, not read from the weights' preset"""
    preset = weights.transforms()
    normalize = transforms.Normalize(preset.mean, preset.std)
    train_tf = transforms.Compose([transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(),
                                   transforms.ToTensor(), normalize])
    val_tf = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(), normalize])
    return train_tf, val_tf


@wrong_answer("build_transforms", "modified_input")
def transforms_modified_input(weights):
    """Shared weights object's mean overwritten in weights.meta"""
    weights.meta["mean"] = [0.5, 0.5, 0.5]      # "simplifies" the shared weights object
    preset = weights.transforms()
    train_tf = transforms.Compose([transforms.RandomResizedCrop(preset.crop_size[0]), transforms.ToTensor(),
                                   transforms.Normalize(preset.mean, preset.std)])
    return train_tf, preset


# ---------------------------------------------------------------- build_transforms: correct answers in other styles

@alternative("build_transforms")
def transforms_v2(weights):
    preset = weights.transforms()
    train_tf = v2.Compose([v2.ToImage(), v2.RandomResizedCrop(preset.crop_size, scale=(0.5, 1.0), antialias=True),
                           v2.RandomHorizontalFlip(), v2.ColorJitter(0.1, 0.1), v2.ToDtype(torch.float32, scale=True),
                           v2.Normalize(preset.mean, preset.std)])
    return train_tf, preset


@alternative("build_transforms")
def transforms_explicit(weights):
    preset = weights.transforms()
    val_tf = transforms.Compose([transforms.Resize(preset.resize_size, antialias=True),
                                 transforms.CenterCrop(preset.crop_size), transforms.ToTensor(),
                                 transforms.Normalize(preset.mean, preset.std)])
    train_tf = transforms.Compose([transforms.RandomRotation(10), transforms.Resize(preset.resize_size),
                                   transforms.RandomCrop(preset.crop_size), transforms.ToTensor(),
                                   transforms.Normalize(preset.mean, preset.std)])
    return train_tf, val_tf


# ---------------------------------------------------------------- make_loaders: wrong answers

@wrong_answer("make_loaders")
def train_not_shuffled(root, train_tf, val_tf, batch_size):
    """Training loader not shuffled"""
    train_set = datasets.ImageFolder(Path(root) / "train", transform=train_tf)
    val_set = datasets.ImageFolder(Path(root) / "val", transform=val_tf)
    if train_set.classes != val_set.classes:
        raise ValueError(f"classes differ: train {train_set.classes}, val {val_set.classes}")
    return DataLoader(train_set, batch_size), DataLoader(val_set, batch_size)


@wrong_answer("make_loaders")
def transforms_swapped(root, train_tf, val_tf, batch_size):
    """Train and validation transforms swapped"""
    train_set = datasets.ImageFolder(Path(root) / "train", transform=val_tf)
    val_set = datasets.ImageFolder(Path(root) / "val", transform=train_tf)
    if train_set.classes != val_set.classes:
        raise ValueError(f"classes differ: train {train_set.classes}, val {val_set.classes}")
    return DataLoader(train_set, batch_size, shuffle=True), DataLoader(val_set, batch_size)


@wrong_answer("make_loaders")
def class_to_idx_mismatch(root, train_tf, val_tf, batch_size):
    """Class folders never compared between train and val"""
    train_set = datasets.ImageFolder(Path(root) / "train", transform=train_tf)
    val_set = datasets.ImageFolder(Path(root) / "val", transform=val_tf)
    return DataLoader(train_set, batch_size, shuffle=True), DataLoader(val_set, batch_size)


@wrong_answer("make_loaders", "modified_input")
def loaders_modified_input(root, train_tf, val_tf, batch_size):
    """An image file deleted from the caller's dataset folder"""
    for stray in sorted(Path(root).rglob("*.png"))[:1]:
        stray.unlink()                              # "cleans up" an image it does not like
    train_set = datasets.ImageFolder(Path(root) / "train", transform=train_tf)
    val_set = datasets.ImageFolder(Path(root) / "val", transform=val_tf)
    if train_set.classes != val_set.classes:
        raise ValueError(f"classes differ: train {train_set.classes}, val {val_set.classes}")
    return DataLoader(train_set, batch_size, shuffle=True), DataLoader(val_set, batch_size)


# ---------------------------------------------------------------- make_loaders: correct answers in other styles

@alternative("make_loaders")
def loaders_class_to_idx(root, train_tf, val_tf, batch_size):
    train_set = datasets.ImageFolder(Path(root) / "train", transform=train_tf)
    val_set = datasets.ImageFolder(Path(root) / "val", transform=val_tf)
    if train_set.class_to_idx != val_set.class_to_idx:
        raise ValueError(f"classes differ: train {train_set.classes}, val {val_set.classes}")
    return DataLoader(train_set, batch_size, shuffle=True), DataLoader(val_set, batch_size)


@alternative("make_loaders")
def loaders_symmetric_difference(root, train_tf, val_tf, batch_size):
    train_set = datasets.ImageFolder(f"{root}/train", train_tf)
    val_set = datasets.ImageFolder(f"{root}/val", val_tf)
    differ = set(train_set.classes) ^ set(val_set.classes)
    if differ:
        raise ValueError(f"class folders differ between splits: {sorted(differ)}")
    return (DataLoader(train_set, batch_size=batch_size, shuffle=True, drop_last=False),
            DataLoader(val_set, batch_size=batch_size))
