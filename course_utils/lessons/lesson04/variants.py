"""Lesson 04: more ways of committing each named mistake (other idioms: transforms v2, lists of transforms,
hand-written datasets, samplers); the tests check that the checker names each one's id."""
from pathlib import Path

import torch
from torch.utils.data import DataLoader, RandomSampler, SequentialSampler
from torchvision import datasets, transforms
from torchvision.transforms import v2

from ..declare import same_mistake


def _sets(root, train_tf, val_tf):
    return datasets.ImageFolder(Path(root) / "train", train_tf), datasets.ImageFolder(Path(root) / "val", val_tf)


def _same_classes(train_set, val_set):
    if train_set.classes != val_set.classes:
        raise ValueError(f"classes differ: train {train_set.classes}, val {val_set.classes}")


# ---------------------------------------------------------------- build_transforms

@same_mistake("build_transforms", "skip_normalization")
def no_normalize_in_v2(weights):
    preset = weights.transforms()
    to_float = v2.ToDtype(torch.float32, scale=True)
    train_tf = v2.Compose([v2.ToImage(), v2.RandomResizedCrop(preset.crop_size, antialias=True),
                           v2.RandomHorizontalFlip(), to_float])
    val_tf = v2.Compose([v2.ToImage(), v2.Resize(preset.resize_size, antialias=True), v2.CenterCrop(preset.crop_size),
                         to_float])
    return train_tf, val_tf


@same_mistake("build_transforms", "skip_normalization")
def normalize_left_out_of_a_list(weights):
    preset = weights.transforms()
    common = [transforms.ToTensor()]                       # Normalize "is done by the model"
    train_tf = transforms.Compose([transforms.RandomResizedCrop(preset.crop_size[0]), *common])
    val_tf = transforms.Compose([transforms.Resize(preset.resize_size[0]), transforms.CenterCrop(preset.crop_size[0]),
                                 *common])
    return train_tf, val_tf


@same_mistake("build_transforms", "wrong_normalization")
def half_and_half_normalization(weights):
    preset = weights.transforms()
    normalize = transforms.Normalize([0.5, 0.5, 0.5], [0.5, 0.5, 0.5])
    train_tf = transforms.Compose([transforms.RandomResizedCrop(preset.crop_size[0]), transforms.ToTensor(), normalize])
    val_tf = transforms.Compose([transforms.Resize(preset.resize_size[0]), transforms.CenterCrop(preset.crop_size[0]),
                                 transforms.ToTensor(), normalize])
    return train_tf, val_tf


@same_mistake("build_transforms", "wrong_normalization")
def mean_and_std_swapped(weights):
    preset = weights.transforms()
    normalize = v2.Normalize(preset.std, preset.mean)
    train_tf = v2.Compose([v2.ToImage(), v2.RandomResizedCrop(preset.crop_size, antialias=True),
                           v2.ToDtype(torch.float32, scale=True), normalize])
    val_tf = v2.Compose([v2.ToImage(), v2.Resize(preset.resize_size, antialias=True), v2.CenterCrop(preset.crop_size),
                         v2.ToDtype(torch.float32, scale=True), normalize])
    return train_tf, val_tf


@same_mistake("build_transforms", "augment_validation")
def flip_in_both(weights):
    preset = weights.transforms()
    normalize = transforms.Normalize(preset.mean, preset.std)
    flip = transforms.RandomHorizontalFlip()
    train_tf = transforms.Compose([transforms.RandomResizedCrop(preset.crop_size[0]), flip, transforms.ToTensor(),
                                   normalize])
    val_tf = transforms.Compose([transforms.Resize(preset.resize_size[0]), transforms.CenterCrop(preset.crop_size[0]),
                                 flip, transforms.ToTensor(), normalize])
    return train_tf, val_tf


@same_mistake("build_transforms", "augment_validation")
def random_crop_for_validation_in_v2(weights):
    preset = weights.transforms()
    tail = [v2.ToDtype(torch.float32, scale=True), v2.Normalize(preset.mean, preset.std)]
    train_tf = v2.Compose([v2.ToImage(), v2.RandomResizedCrop(preset.crop_size, antialias=True), *tail])
    val_tf = v2.Compose([v2.ToImage(), v2.Resize(preset.resize_size, antialias=True), v2.RandomCrop(preset.crop_size),
                         *tail])
    return train_tf, val_tf


@same_mistake("build_transforms", "train_not_augmented")
def deterministic_train_pipeline(weights):
    preset = weights.transforms()
    pipeline = transforms.Compose([transforms.Resize(preset.resize_size[0]), transforms.CenterCrop(preset.crop_size[0]),
                                   transforms.ToTensor(), transforms.Normalize(preset.mean, preset.std)])
    return pipeline, pipeline


@same_mistake("build_transforms", "train_not_augmented")
def augmentation_with_probability_zero(weights):
    preset = weights.transforms()
    train_tf = transforms.Compose([transforms.RandomHorizontalFlip(p=0.0), preset])
    return train_tf, preset


@same_mistake("build_transforms", "wrong_size")
def size_typed_as_128(weights):
    preset = weights.transforms()
    tail = [transforms.ToTensor(), transforms.Normalize(preset.mean, preset.std)]
    train_tf = transforms.Compose([transforms.RandomResizedCrop(128), transforms.RandomHorizontalFlip(), *tail])
    val_tf = transforms.Compose([transforms.Resize(146), transforms.CenterCrop(128), *tail])
    return train_tf, val_tf


@same_mistake("build_transforms", "wrong_size")
def size_from_the_resize_step(weights):
    preset = weights.transforms()
    size = preset.resize_size[0]                     # the resize size, not the crop the network sees
    tail = [v2.ToDtype(torch.float32, scale=True), v2.Normalize(preset.mean, preset.std)]
    train_tf = v2.Compose([v2.ToImage(), v2.RandomResizedCrop(size, antialias=True), *tail])
    val_tf = v2.Compose([v2.ToImage(), v2.Resize(size, antialias=True), v2.CenterCrop(size), *tail])
    return train_tf, val_tf


@same_mistake("build_transforms", "modified_input")
def changed_the_std_in_place(weights):
    weights.meta["std"] = [1.0, 1.0, 1.0]
    preset = weights.transforms()
    return transforms.Compose([transforms.RandomHorizontalFlip(), preset]), preset


@same_mistake("build_transforms", "modified_input")
def deleted_a_meta_entry(weights):
    preset = weights.transforms()
    weights.meta.pop("categories", None)             # "tidies" the shared weights object
    weights.meta["tidied"] = True
    return transforms.Compose([transforms.RandomHorizontalFlip(), preset]), preset


# ---------------------------------------------------------------- make_loaders

@same_mistake("make_loaders", "train_not_shuffled")
def sequential_sampler_for_training(root, train_tf, val_tf, batch_size):
    train_set, val_set = _sets(root, train_tf, val_tf)
    _same_classes(train_set, val_set)
    return (DataLoader(train_set, batch_size, sampler=SequentialSampler(train_set)),
            DataLoader(val_set, batch_size, shuffle=False))


@same_mistake("make_loaders", "train_not_shuffled")
def shuffled_the_wrong_loader(root, train_tf, val_tf, batch_size):
    train_set, val_set = _sets(root, train_tf, val_tf)
    _same_classes(train_set, val_set)
    return DataLoader(train_set, batch_size=batch_size), DataLoader(val_set, batch_size=batch_size, shuffle=True)


@same_mistake("make_loaders", "transforms_swapped")
def swapped_by_assignment(root, train_tf, val_tf, batch_size):
    train_set, val_set = _sets(root, train_tf, val_tf)
    _same_classes(train_set, val_set)
    train_set.transform, val_set.transform = val_tf, train_tf
    return DataLoader(train_set, batch_size, shuffle=True), DataLoader(val_set, batch_size)


@same_mistake("make_loaders", "transforms_swapped")
def swapped_in_a_loop(root, train_tf, val_tf, batch_size):
    found = {}
    for split, transform in (("train", val_tf), ("val", train_tf)):
        found[split] = datasets.ImageFolder(str(Path(root, split)), transform=transform)
    _same_classes(found["train"], found["val"])
    return (DataLoader(found["train"], batch_size, sampler=RandomSampler(found["train"])),
            DataLoader(found["val"], batch_size))


@same_mistake("make_loaders", "class_to_idx_mismatch")
def compared_only_the_counts(root, train_tf, val_tf, batch_size):
    train_set, val_set = _sets(root, train_tf, val_tf)
    if len(train_set.classes) == 0 or len(val_set.classes) == 0:
        raise ValueError("no classes found")
    return DataLoader(train_set, batch_size, shuffle=True), DataLoader(val_set, batch_size)


@same_mistake("make_loaders", "class_to_idx_mismatch")
def warned_instead_of_raising(root, train_tf, val_tf, batch_size):
    train_set, val_set = _sets(root, train_tf, val_tf)
    if train_set.classes != val_set.classes:
        print("warning: the class folders differ")   # and goes on with mismatched labels
    return DataLoader(train_set, batch_size, shuffle=True), DataLoader(val_set, batch_size)


@same_mistake("make_loaders", "modified_input")
def wrote_a_file_into_the_dataset(root, train_tf, val_tf, batch_size):
    (Path(root) / "classes.txt").write_text("written by make_loaders\n")
    train_set, val_set = _sets(root, train_tf, val_tf)
    _same_classes(train_set, val_set)
    return DataLoader(train_set, batch_size, shuffle=True), DataLoader(val_set, batch_size)


@same_mistake("make_loaders", "modified_input")
def renamed_a_class_folder(root, train_tf, val_tf, batch_size):
    first = sorted(p for p in (Path(root) / "val").iterdir() if p.is_dir())[0]
    first.rename(first.with_name(first.name.lower() + "_"))   # "normalises" a folder name
    train_set, val_set = _sets(root, train_tf, val_tf)
    return DataLoader(train_set, batch_size, shuffle=True), DataLoader(val_set, batch_size)
