"""Lesson 04 checks beyond the contract: error messages that name the classes, the resize step, junk outputs."""
import torch
from torchvision import transforms
from torchvision.models import ResNet18_Weights

from course_utils import check_exercise
from course_utils.lessons.lesson04.answers import class_to_idx_mismatch, transforms_explicit


def test_make_loaders_error_must_name_the_classes():
    def vague(root, train_tf, val_tf, batch_size):
        loaders = class_to_idx_mismatch(root, train_tf, val_tf, batch_size)
        if loaders[0].dataset.classes != loaders[1].dataset.classes:
            raise ValueError("splits differ")
        return loaders
    result = check_exercise("make_loaders", vague)
    assert result.status == "failed" and "naming" in result.message


def test_a_different_resize_step_is_named_as_such():
    def square_resize(weights):
        train_tf, _ = transforms_explicit(weights)
        preset = weights.transforms()
        size = preset.resize_size[0]
        return train_tf, transforms.Compose([transforms.Resize((size, size)), transforms.CenterCrop(preset.crop_size),
                                             transforms.ToTensor(), transforms.Normalize(preset.mean, preset.std)])
    result = check_exercise("build_transforms", square_resize)
    assert result.status == "failed" and "resize step differs" in result.message and "stretches" in result.message


def test_changing_the_global_weights_fails_and_is_undone():
    before = (dict(ResNet18_Weights.DEFAULT.meta), ResNet18_Weights.DEFAULT.transforms)

    def meddles(weights):
        weights.meta["categories"] = ["cat"]
        weights.value.transforms = lambda: None
        return transforms_explicit(weights)
    result = check_exercise("build_transforms", meddles)
    assert result.mistake == "modified_input"
    assert (dict(ResNet18_Weights.DEFAULT.meta), ResNet18_Weights.DEFAULT.transforms) == before


def test_malformed_outputs_are_failures_not_checker_errors():
    junk_loaders = lambda root, train_tf, val_tf, batch_size: ([(1, 2)], [(3, 4)])  # noqa: E731
    assert check_exercise("make_loaders", junk_loaders).status == "failed"
    empty_loaders = lambda root, train_tf, val_tf, batch_size: ([], [])  # noqa: E731
    assert "no batches" in check_exercise("make_loaders", empty_loaders).message
    integer_tf = lambda image: torch.zeros(3, 224, 224, dtype=torch.uint8)  # noqa: E731
    assert check_exercise("build_transforms", lambda weights: (integer_tf, integer_tf)).status == "failed"


def test_random_steps_in_validation_are_caught_whatever_their_probability():
    def flips(weights):
        train_tf, _ = transforms_explicit(weights)
        return train_tf, transforms.Compose([transforms.RandomHorizontalFlip(), weights.transforms()])

    def erases(weights):
        train_tf, _ = transforms_explicit(weights)
        return train_tf, transforms.Compose([weights.transforms(), transforms.RandomErasing(p=0.5)])
    assert check_exercise("build_transforms", flips).mistake == "augment_validation"
    assert check_exercise("build_transforms", erases).mistake == "augment_validation"


def test_preset_keywords_and_missing_steps():
    def keyword_preset(weights):
        preset = weights.transforms(antialias=True)       # as torchvision's documentation writes it
        return transforms_explicit(weights)[0], preset

    def no_crop(weights):
        preset = weights.transforms()
        return transforms_explicit(weights)[0], transforms.Compose([
            transforms.Resize(preset.crop_size[0]), transforms.ToTensor(), transforms.Normalize(preset.mean, preset.std)])

    def unscaled(weights):
        from torchvision.transforms import v2
        preset = weights.transforms()
        return transforms_explicit(weights)[0], v2.Compose([
            v2.PILToTensor(), v2.Resize(preset.resize_size), v2.CenterCrop(preset.crop_size), v2.ToDtype(torch.float32),
            v2.Normalize(preset.mean, preset.std)])
    assert check_exercise("build_transforms", keyword_preset).passed
    result = check_exercise("build_transforms", no_crop)
    assert result.mistake == "wrong_size" and "CenterCrop" in result.message
    assert "never scaled to [0, 1]" in check_exercise("build_transforms", unscaled).message


def test_preset_arguments_changed_in_place_are_restored():
    keywords = dict(ResNet18_Weights.DEFAULT.transforms.keywords)

    def edits_the_preset(weights):
        weights.value.transforms.keywords["crop_size"] = 100
        return transforms_explicit(weights)
    assert check_exercise("build_transforms", edits_the_preset).mistake == "modified_input"
    assert ResNet18_Weights.DEFAULT.transforms.keywords == keywords


def _splits(root, train_tf, val_tf):
    from torchvision import datasets
    return datasets.ImageFolder(f"{root}/train", train_tf), datasets.ImageFolder(f"{root}/val", val_tf)


def test_class_checks_compare_names_and_use_value_errors():
    from torch.utils.data import DataLoader

    def counts_only(root, train_tf, val_tf, batch_size):
        train_set, val_set = _splits(root, train_tf, val_tf)
        if len(train_set.classes) != len(val_set.classes):
            raise ValueError(f"{train_set.classes} vs {val_set.classes}")
        return DataLoader(train_set, batch_size, shuffle=True), DataLoader(val_set, batch_size)

    def asserts(root, train_tf, val_tf, batch_size):
        train_set, val_set = _splits(root, train_tf, val_tf)
        assert train_set.classes == val_set.classes, f"{train_set.classes} vs {val_set.classes}"
        return DataLoader(train_set, batch_size, shuffle=True), DataLoader(val_set, batch_size)
    assert check_exercise("make_loaders", counts_only).mistake == "class_to_idx_mismatch"
    assert "ValueError" in check_exercise("make_loaders", asserts).message


def test_loader_settings_that_lose_or_fix_data_are_caught():
    import random
    from torch.utils.data import DataLoader

    def checked(root, train_tf, val_tf):
        train_set, val_set = _splits(root, train_tf, val_tf)
        if train_set.classes != val_set.classes:
            raise ValueError(f"{train_set.classes} vs {val_set.classes}")
        return train_set, val_set

    def drops_last(root, train_tf, val_tf, batch_size):
        train_set, val_set = checked(root, train_tf, val_tf)
        return DataLoader(train_set, batch_size, shuffle=True), DataLoader(val_set, batch_size, drop_last=True)

    def val_unbatched(root, train_tf, val_tf, batch_size):
        train_set, val_set = checked(root, train_tf, val_tf)
        return DataLoader(train_set, batch_size, shuffle=True), DataLoader(val_set)

    def shuffled_once(root, train_tf, val_tf, batch_size):
        train_set, val_set = checked(root, train_tf, val_tf)
        random.Random(0).shuffle(train_set.samples)
        return DataLoader(train_set, batch_size), DataLoader(val_set, batch_size)
    assert check_exercise("make_loaders", drops_last).status == "failed"
    assert "batches of" in check_exercise("make_loaders", val_unbatched).message
    assert check_exercise("make_loaders", shuffled_once).mistake == "train_not_shuffled"
