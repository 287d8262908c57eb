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
