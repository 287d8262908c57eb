"""Features of the 2,624 ELPV solar cells through a frozen backbone, computed once per machine and cached:
ImageNet's EfficientNet-Lite0, the course's shapes ResNet-18, or a ResNet-18 with random weights (the control)."""
from __future__ import annotations

import hashlib
import pickle
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, Subset
from torchvision.models import resnet18
from torchvision.transforms import InterpolationMode

from ..data.elpv import SolarCells, installed_version
from ..data.generated import cache_dir
from .backbone import atomic_save
from .features import extract_features
from .imagenet import FILE_SHA256, pretrained_efficientnet_lite0
from .pretrained import Preset, course_weights

SOURCES = ("imagenet", "shapes", "random")


def cell_backbone(source: str) -> tuple[nn.Module, Preset, str]:
    """(frozen feature extractor, its preset without the size, a description) for one source of weights."""
    if source == "imagenet":
        model, weights = pretrained_efficientnet_lite0()
        model.reset_classifier(0)  # timm: pooled features instead of ImageNet's 1000 scores
        return model.eval(), weights.transforms(), f"EfficientNet-Lite0, ImageNet-1k ({FILE_SHA256[:8]})"
    if source not in SOURCES:
        raise ValueError(f"source={source!r}: choose one of {', '.join(map(repr, SOURCES))}")
    if source == "shapes":
        weights = course_weights(progress=False)
        model = resnet18(num_classes=len(weights.meta["categories"]))
        model.load_state_dict(weights.get_state_dict())
        preset, what = weights.transforms(), "ResNet-18 pretrained on the course's 16 shapes"
    else:
        torch.manual_seed(0)
        model = resnet18(num_classes=1000)
        preset = Preset(crop_size=224, resize_size=256, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225),
                        interpolation=InterpolationMode.BILINEAR)
        what = "ResNet-18 with random weights (seed 0): the control"
    model.fc = nn.Identity()
    return model.eval(), preset, what


def _identity(source: str) -> str:
    """What the features depend on, besides the size: the weights (by hash), torch's version, the images' package."""
    if source not in SOURCES:
        raise ValueError(f"source={source!r}: choose one of {', '.join(map(repr, SOURCES))}")
    if source == "shapes":
        shapes = course_weights(progress=False)
        stat = shapes.path.stat()
        weights = f"{shapes.path}|{stat.st_size}|{stat.st_mtime_ns}"  # verified when loaded; another file, new key
    else:
        weights = FILE_SHA256 if source == "imagenet" else "resnet18-seed0"
    return f"{source}|{weights}|{torch.__version__}|{installed_version()}"


def cell_features(source: str, size: int, progress: bool = True) -> tuple[torch.Tensor, str]:
    """([2624, D] features in labels.csv order, where they came from) for ``source`` at ``size`` px, the whole
    cell resized (nothing cropped); loaded from this machine's cache when they were computed before."""
    key = hashlib.sha256(f"{_identity(source)}|{size}".encode()).hexdigest()[:12]
    path = cache_dir() / "features" / f"elpv-{source}-{size}px-{key}.pt"
    if path.is_file():
        try:
            return torch.load(path, map_location="cpu", weights_only=True), f"{source} features, {size} px (cached)"
        except (OSError, RuntimeError, ValueError, pickle.UnpicklingError, EOFError) as exc:
            print(f"{path.name} is unreadable ({type(exc).__name__}); computing the features again.")
    start = time.perf_counter()
    features, what = features_of_cells(source, size, progress=progress)
    atomic_save(features, path)
    return features, f"{what}, {size} px ({time.perf_counter() - start:.0f} s to compute, now cached)"


def features_of_cells(source: str, size: int, indices=None, progress: bool = False) -> tuple[torch.Tensor, str]:
    """([N, D] features of the cells at ``indices`` (all when None), where they came from), computed now and not
    cached: the whole cell resized to ``size`` px through ``source``'s frozen backbone."""
    with torch.random.fork_rng():  # the random control's seed and the loader's draws leave the caller's stream alone
        model, preset, what = cell_backbone(source)
        preset = Preset(crop_size=size, resize_size=size, mean=preset.mean, std=preset.std,
                        interpolation=preset.interpolation)
        cells = SolarCells(transform=preset)
        if indices is not None:
            cells = Subset(cells, list(indices))
        loader = DataLoader(cells, batch_size=64)
        features = extract_features(model, loader, progress=progress, desc=f"{source} features, {size} px",
                                    channels_last=True).tensors[0]
    return features, what


def cell_classifier(source: str, size: int, head: nn.Module) -> tuple[nn.Module, Preset]:
    """(the frozen backbone followed by ``head``, in eval mode; the preset that makes a cell its input at ``size``
    px): the whole network a head trained on cached features belongs to, e.g. for Grad-CAM."""
    with torch.random.fork_rng():
        backbone, preset, _ = cell_backbone(source)
    preset = Preset(crop_size=size, resize_size=size, mean=preset.mean, std=preset.std,
                    interpolation=preset.interpolation)
    return nn.Sequential(backbone, head).eval(), preset
