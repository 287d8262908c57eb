"""Lesson 04 answers for the checker contract (test_exercise_contract.py), plus checks specific to its exercises."""
from pathlib import Path

from torch.utils.data import DataLoader
from torchvision import datasets, transforms
from torchvision.transforms import v2

from course_utils import check_exercise
from course_utils.exercises import all_exercises


IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


def _pipeline(size, mean_std=None, augment=True, resize=None):
    steps = [transforms.RandomResizedCrop(size), transforms.RandomHorizontalFlip()] if augment else \
            [transforms.Resize(resize), transforms.CenterCrop(size)]
    steps.append(transforms.ToTensor())
    if mean_std:
        steps.append(transforms.Normalize(*mean_std))
    return transforms.Compose(steps)


def _reference(weights):
    return all_exercises()["build_transforms"].solution(weights)


def _skip_normalization(weights):
    v = weights.transforms()
    return _pipeline(v.crop_size[0]), _pipeline(v.crop_size[0], augment=False, resize=v.resize_size[0])


def _wrong_normalization(weights):
    v = weights.transforms()
    return (_pipeline(v.crop_size[0], IMAGENET),
            _pipeline(v.crop_size[0], IMAGENET, augment=False, resize=v.resize_size[0]))


def _augment_validation(weights):
    train_tf, _ = _reference(weights)
    return train_tf, train_tf


def _train_not_augmented(weights):
    return weights.transforms(), weights.transforms()


def _wrong_size(weights):
    v = weights.transforms()
    norm = (v.mean, v.std)
    return _pipeline(224, norm), _pipeline(224, norm, augment=False, resize=256)


TRANSFORM_MUTANTS = {
    "skip_normalization": _skip_normalization,
    "wrong_normalization": _wrong_normalization,
    "augment_validation": _augment_validation,
    "train_not_augmented": _train_not_augmented,
    "wrong_size": _wrong_size,
}


def _v2_transforms(weights):
    import torch
    v = weights.transforms()
    train_tf = v2.Compose([v2.ToImage(), v2.RandomResizedCrop(v.crop_size, scale=(0.5, 1.0), antialias=True),
                           v2.RandomHorizontalFlip(), v2.ColorJitter(0.1, 0.1), v2.ToDtype(torch.float32, scale=True),
                           v2.Normalize(v.mean, v.std)])
    return train_tf, v


def _explicit_val(weights):
    v = weights.transforms()
    val_tf = transforms.Compose([transforms.Resize(v.resize_size, antialias=True), transforms.CenterCrop(v.crop_size),
                                 transforms.ToTensor(), transforms.Normalize(v.mean, v.std)])
    train_tf = transforms.Compose([transforms.RandomRotation(10), transforms.Resize(v.resize_size),
                                   transforms.RandomCrop(v.crop_size), transforms.ToTensor(),
                                   transforms.Normalize(v.mean, v.std)])
    return train_tf, val_tf


def _loaders(root, train_tf, val_tf, batch_size, shuffle=True, swap=False, check=True):
    root = Path(root)
    train_set = datasets.ImageFolder(root / "train", transform=val_tf if swap else train_tf)
    val_set = datasets.ImageFolder(root / "val", transform=train_tf if swap else val_tf)
    if check and train_set.class_to_idx != val_set.class_to_idx:
        raise ValueError(f"classes differ: train {train_set.classes}, val {val_set.classes}")
    return DataLoader(train_set, batch_size, shuffle=shuffle), DataLoader(val_set, batch_size)


LOADER_MUTANTS = {
    "train_not_shuffled": lambda *args: _loaders(*args, shuffle=False),
    "transforms_swapped": lambda *args: _loaders(*args, swap=True),
    "class_to_idx_mismatch": lambda *args: _loaders(*args, check=False),
}


def _symmetric_difference_check(root, train_tf, val_tf, batch_size):
    train_set = datasets.ImageFolder(f"{root}/train", train_tf)
    val_set = datasets.ImageFolder(f"{root}/val", val_tf)
    differ = set(train_set.classes) ^ set(val_set.classes)
    if differ:
        raise ValueError(f"class folders differ between splits: {sorted(differ)}")
    return (DataLoader(train_set, batch_size=batch_size, shuffle=True, drop_last=False),
            DataLoader(val_set, batch_size=batch_size))


def test_make_loaders_error_must_name_the_classes():
    def vague(root, train_tf, val_tf, batch_size):
        loaders = _loaders(root, train_tf, val_tf, batch_size, check=False)
        if loaders[0].dataset.classes != loaders[1].dataset.classes:
            raise ValueError("splits differ")
        return loaders
    result = check_exercise("make_loaders", vague)
    assert result.status == "failed" and "naming" in result.message


ANSWERS = {
    "build_transforms": (TRANSFORM_MUTANTS, [_v2_transforms, _explicit_val]),
    "make_loaders": (LOADER_MUTANTS, [_loaders, _symmetric_difference_check]),
}


def test_malformed_outputs_are_failures_not_checker_errors():
    from course_utils import check_exercise
    import torch
    junk_loaders = lambda root, train_tf, val_tf, batch_size: ([(1, 2)], [(3, 4)])  # noqa: E731
    assert check_exercise("make_loaders", junk_loaders).status == "failed"
    empty_loaders = lambda root, train_tf, val_tf, batch_size: ([], [])  # noqa: E731
    assert "no batches" in check_exercise("make_loaders", empty_loaders).message
    integer_tf = lambda image: torch.zeros(3, 224, 224, dtype=torch.uint8)  # noqa: E731
    assert check_exercise("build_transforms", lambda weights: (integer_tf, integer_tf)).status == "failed"
