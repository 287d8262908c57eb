"""Preflight checks of the data side: normalisation against the weights' preset, a random validation transform,
class folders that differ between the loaders, files shared by training and validation."""
from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image

from ..models.backbone import sha256_of
from ..checking.state import preserved_global_state
from .base import NotChecked, Problem, _dataset, _transform


def _grey(level: int) -> Image.Image:
    return Image.new("RGB", (80, 80), (level, level, level))


def _channel_means(transform, level: int) -> torch.Tensor:
    with preserved_global_state():
        out = transform(_grey(level)).float()
    return out.flatten(1).mean(1) if out.ndim == 3 else out.flatten().mean().reshape(1)


def check_normalisation(model, train_loader, val_loader, optimizer, weights) -> str:
    """skip_normalization / wrong_normalization: two grey images come out as the weights' preset makes them."""
    transform = _transform(val_loader)
    levels = (64, 192)
    seen = [_channel_means(transform, level) for level in levels]
    if all(torch.allclose(c, torch.full_like(c, level / 255), atol=0.02) for c, level in zip(seen, levels)):
        raise Problem("grey images (0.25 and 0.75) come out unchanged: no normalisation")
    if weights is None:
        return "inputs are normalised (pass weights= to compare with their preset)"
    preset = weights.transforms()
    for channels, level in zip(seen, levels):
        expected = torch.tensor([(level / 255 - m) / s for m, s in zip(preset.mean, preset.std)])
        if channels.shape != expected.shape or not torch.allclose(channels, expected, atol=0.05):
            raise Problem(f"a grey image ({level / 255:.2f}) becomes {[round(v, 2) for v in channels.tolist()]}, the "
                          f"weights' preset gives {[round(v, 2) for v in expected.tolist()]}: another mean/std",
                          "wrong_normalization")
    return "the validation transform normalises as the weights' preset does"


def _sample_image(loader) -> Image.Image:
    dataset = _dataset(loader)
    samples = getattr(dataset, "samples", None)
    if samples:
        return dataset.loader(samples[0][0])
    noise = torch.Generator().manual_seed(0)
    pixels = (torch.rand(96, 96, 3, generator=noise) * 255).to(torch.uint8).numpy()
    return Image.fromarray(pixels)


def check_random_validation(model, train_loader, val_loader, optimizer, weights) -> str:
    """augment_validation: the validation transform gives the same tensor twice."""
    transform, image = _transform(val_loader), _sample_image(val_loader)
    with preserved_global_state():
        outputs = []
        for seed in (1, 2, 3):
            torch.manual_seed(seed)
            outputs.append(transform(image))
    if not all(torch.equal(outputs[0], o) for o in outputs[1:]):
        raise Problem("the same image gave different validation tensors: a random transform in validation")
    return "deterministic"


def check_class_folders(model, train_loader, val_loader, optimizer, weights) -> str:
    """class_to_idx_mismatch: both loaders number the same classes the same way."""
    a, b = (getattr(_dataset(loader), "class_to_idx", None) for loader in (train_loader, val_loader))
    if a is None or b is None:
        raise NotChecked("not checked: the datasets have no class_to_idx (an ImageFolder has)")
    if a != b:
        only = sorted(set(a) ^ set(b))
        raise Problem("the two splits number their classes differently" +
                             (f" (in one split only: {', '.join(only)})" if only else " (same names, other order)"))
    return f"the same {len(a)} classes, numbered alike"


def _files(loader) -> list[str]:
    samples = getattr(_dataset(loader), "samples", None)
    if not samples:
        raise NotChecked("not checked: the datasets have no file list (.samples)")
    return [str(path) for path, _ in samples]


def check_shared_files(model, train_loader, val_loader, optimizer, weights, limit: int = 20000) -> str:
    """overlapping_splits: no file, and no identical image content, in both training and validation."""
    train, val = _files(train_loader), _files(val_loader)
    same_path = set(map(lambda p: str(Path(p).resolve()), train)) & set(map(lambda p: str(Path(p).resolve()), val))
    if same_path:
        raise Problem(f"{len(same_path)} files are in both splits (e.g. {sorted(same_path)[0]})")
    if len(train) + len(val) > limit:
        return f"no file in both splits (contents not compared: over {limit} files)"
    shared = {sha256_of(Path(p)) for p in train} & {sha256_of(Path(p)) for p in val}
    if shared:
        raise Problem(f"{len(shared)} images have identical copies in training and validation")
    return f"no file and no identical image in both ({len(train)} + {len(val)} files compared)"
