"""Lesson 04: the checker of build_transforms (val_tf equal to the preset, train_tf augmenting, weights untouched)."""
from __future__ import annotations

import copy
from functools import partial
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision import transforms
from torchvision.models import ResNet18_Weights

from ....checking import expect
from ....checking.describe import describe
from ....checking.sandbox import LearnerError, Mismatch, call_learner
from ....data.demo import demo_image
from ....models.pretrained import CourseWeights


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
    outputs = []
    for seed in range(8):  # enough draws that any random step with p = 0.5 shows (fixed seeds: deterministic)
        torch.manual_seed(seed)
        raw_out = call_learner(val_tf, image)
        out = expect.plain_tensor(raw_out)
        if out is None or not out.is_floating_point():
            raise Mismatch(want, describe(raw_out), "end the pipeline with ToTensor (float values) and Normalize.")
        outputs.append(out)
    first = outputs[0]
    if tuple(first.shape) != tuple(reference.shape):
        advice = (f"the pretrained weights expect {size}x{size} crops: read the size from "
                  "weights.transforms().crop_size instead of hard-coding it.")
        if first.dim() == 3 and size in tuple(first.shape[-2:]) and first.shape[-1] != first.shape[-2]:
            advice = (f"Resize with one number scales only the shorter side to it, so a non-square image stays "
                      f"non-square: follow it with CenterCrop({size}), as weights.transforms() does.")
        raise Mismatch(want, describe(first), advice, "wrong_size")
    if not all(expect.same(first, other) for other in outputs[1:]):
        raise Mismatch(want, "val_tf gave different tensors for the same image: it contains random augmentation",
                       "validation must be deterministic: use weights.transforms() as it is.", "augment_validation")
    if expect.close(first, reference, atol=1e-3):
        return
    mean = torch.tensor(preset.mean).view(3, 1, 1)
    std = torch.tensor(preset.std).view(3, 1, 1)
    raw = reference * std + mean
    _judge_scaled(first * std + mean, want)
    if expect.close(first, raw, atol=1e-3):
        raise Mismatch(want, "values in [0, 1]: the image was never normalised",
                       "add Normalize(mean, std) with the weights' own mean and std.", "skip_normalization")
    if _channel_fit(first, raw):
        raise Mismatch(want, "normalised, but with a different mean/std than the weights were trained with",
                       "take mean and std from weights.transforms().mean / .std, not from a blog post.",
                       "wrong_normalization")
    resize, crop = preset.resize_size[0], preset.crop_size[0]
    steps = f"weights.transforms() resizes the shorter side to {resize} pixels, then centre-crops {crop}x{crop}"
    for description, pipeline in _resize_variants(resize, crop):
        candidate = transforms.Compose([*pipeline, transforms.ToTensor(), transforms.Normalize(preset.mean, preset.std)])
        if expect.close(first, candidate(image), atol=1e-3):
            raise Mismatch(want, f"the right size and normalisation, but the resize step differs: yours {description}",
                           f"{steps}; use weights.transforms() itself as val_tf.")
    gap = (first - reference).abs().max().item()
    if gap < 0.05:
        raise Mismatch(want, f"almost the same values (largest difference {gap:.4f}): resizing a tensor instead of "
                       f"the PIL image, or another interpolation, changes a few pixels slightly",
                       "apply weights.transforms() itself to the PIL image, with no conversion before it.")
    raise Mismatch(want, "the same shape and normalisation, but different pixels: the resize or crop step differs",
                   f"{steps}; use weights.transforms() itself as val_tf.")


def _judge_scaled(unnormalised: torch.Tensor, want: str) -> None:
    """Pixel values never scaled to [0, 1] before Normalize (v2.ToDtype without scale=True, say)."""
    if unnormalised.max().item() > 2:
        raise Mismatch(want, f"pixel values up to {unnormalised.max().item():.0f} before normalising: they were "
                       f"converted to float but never scaled to [0, 1]",
                       "use ToTensor(), or v2.ToDtype(torch.float32, scale=True), before Normalize.")


def _resize_variants(resize: int, crop: int):
    """Resize steps people write instead of the preset's, each with what it does."""
    return (
        (f"stretches the image to a {resize}x{resize} square before cropping",
         [transforms.Resize((resize, resize), antialias=True), transforms.CenterCrop(crop)]),
        (f"resizes the shorter side to {crop} (the crop size) instead of {resize}",
         [transforms.Resize(crop, antialias=True), transforms.CenterCrop(crop)]),
        (f"squashes the whole image to {crop}x{crop} without cropping",
         [transforms.Resize((crop, crop), antialias=True)]),
        ("crops without resizing first", [transforms.CenterCrop(crop)]),
        ("resizes without antialiasing", [transforms.Resize(resize, antialias=False), transforms.CenterCrop(crop)]),
        ("resizes with nearest-neighbour interpolation",
         [transforms.Resize(resize, interpolation=transforms.InterpolationMode.NEAREST), transforms.CenterCrop(crop)]),
    )


def _judge_train(train_tf, preset, image, label: str) -> None:
    size = preset.crop_size[0]
    want = f"train_tf(image): a randomly augmented, normalised [3, {size}, {size}] tensor, for {label}"
    outputs = []
    for seed in range(6):
        torch.manual_seed(seed)
        raw = call_learner(train_tf, image)
        out = expect.plain_tensor(raw)
        if out is None or not out.is_floating_point():
            raise Mismatch(want, describe(raw), "end the pipeline with ToTensor (float values) and Normalize.")
        if tuple(out.shape) != (3, size, size):
            raise Mismatch(want, describe(out), f"crop to the weights' size, {size} (weights.transforms().crop_size).",
                           "wrong_size")
        outputs.append(out)
    if all(expect.same(outputs[0], o) for o in outputs[1:]):
        raise Mismatch(want, "the same tensor every time: no random augmentation",
                       "add random transforms such as RandomResizedCrop and RandomHorizontalFlip.", "train_not_augmented")
    colour = np.array([200, 120, 40], dtype=np.uint8)
    solid = Image.fromarray(np.broadcast_to(colour, (64, 80, 3)).copy())
    medians = []
    for seed in range(9):  # median over draws cancels random colour jitter
        torch.manual_seed(seed)
        raw = call_learner(train_tf, solid)
        out = expect.plain_tensor(raw)
        if out is None or out.dim() != 3 or not out.is_floating_point():
            raise Mismatch(want, f"for a plain-coloured image: {describe(raw)}",
                           "keep the same pipeline for every image: crop, flip, ToTensor, Normalize.")
        medians.append(out.flatten(1).median(dim=1).values)
    value = torch.stack(medians).median(dim=0).values
    expected = (torch.tensor(colour / 255, dtype=torch.float32) - torch.tensor(preset.mean)) / torch.tensor(preset.std)
    if expect.close(value, expected, atol=0.3):
        return
    _judge_scaled(value * torch.tensor(preset.std) + torch.tensor(preset.mean), want)
    if expect.close(value, torch.tensor(colour / 255, dtype=torch.float32), atol=0.1):
        raise Mismatch(want, "training tensors in [0, 1]: not normalised",
                       "end train_tf with Normalize(mean, std) using the weights' mean and std.", "skip_normalization")
    raise Mismatch(want, f"a solid colour came out as {[round(v, 2) for v in value.tolist()]}, expected "
                   f"{[round(v, 2) for v in expected.tolist()]}",
                   "normalise once, with exactly the weights' mean and std, keeping the channels in RGB order.",
                   "wrong_normalization")


def _weights_record(weights):
    """What an answer could change on a weights object (its meta, its preset and the preset's arguments)."""
    holder = getattr(weights, "value", weights)  # a torchvision enum member keeps them on .value
    partials = {key: dict(value.keywords) for key, value in vars(holder).items() if isinstance(value, partial)}
    return holder, copy.deepcopy(weights.meta), dict(vars(holder)), partials


def _restore_weights(weights, record) -> bool:
    """Put back whatever the answer changed; True if anything had changed."""
    holder, meta, attributes, partials = record
    now = vars(holder)
    changed = now.keys() != attributes.keys() or any(now[key] is not value for key, value in attributes.items())
    if changed:
        for key in [k for k in now if k not in attributes]:
            del now[key]
        for key, value in attributes.items():
            object.__setattr__(holder, key, value)
    if weights.meta != meta:
        changed = True
        weights.meta.clear()
        weights.meta.update(meta)
    for key, keywords in partials.items():  # a partial's keywords are a dict an answer can edit in place
        if attributes[key].keywords != keywords:
            changed = True
            attributes[key].keywords.clear()
            attributes[key].keywords.update(keywords)
    return changed


def check_build_transforms(answer) -> None:
    """Judge build_transforms for torchvision's ImageNet weights and a course-style weights object with unusual
    numbers (copied ImageNet constants show), on a non-square image.

    Names: `skip_normalization`, `wrong_normalization`, `augment_validation`, `train_not_augmented`, `wrong_size`,
    `modified_input`.
    """
    image = Image.fromarray(demo_image(64, 80))  # not square, so a missing crop shows in the shape
    for label, weights in _probe_weights():
        preset = weights.transforms()  # the expectation, before the answer runs
        record = _weights_record(weights)
        failure = None
        try:
            result = call_learner(answer, weights)
        except LearnerError as err:
            failure = err
        if _restore_weights(weights, record):
            raise Mismatch("the weights object left as it was", f"your function changed the meta or preset of {label}, "
                           "which everything else using these weights shares (the checker put it back)",
                           "read weights.transforms() and weights.meta; never assign to them.", "modified_input")
        if failure is not None:
            raise failure
        train_tf, val_tf = expect.sequence(result, 2, "a pair (train_tf, val_tf) of callables", "return train_tf, val_tf.")
        if not (callable(train_tf) and callable(val_tf)):
            raise Mismatch("a pair (train_tf, val_tf) of callables", describe(result), "return train_tf, val_tf.")
        _judge_val(val_tf, preset, image, label)
        _judge_train(train_tf, preset, image, label)
