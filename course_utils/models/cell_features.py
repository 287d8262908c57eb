"""Features of the 2,624 ELPV solar cells through a frozen backbone, computed once per machine and cached:
ImageNet's EfficientNet-Lite0, the course's shapes ResNet-18, or a ResNet-18 with random weights (the control); and
Lite0's trunk outputs (everything below its last block), from which its features come and on which it fine-tunes."""
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
from .finetunable import BACKBONES
from .imagenet import FILE_SHA256, pretrained_efficientnet_lite0
from .pretrained import Preset, course_weights

SOURCES = ("imagenet", "shapes", "random")


def cell_backbone(source: str) -> tuple[nn.Module, Preset, str]:
    """(frozen feature extractor, its preset without the size, a description) for one source of weights."""
    if source == "imagenet":
        model, preset = lite0_for_cells()  # timm: pooled features instead of ImageNet's 1000 scores
        return model, preset, f"EfficientNet-Lite0, ImageNet-1k ({FILE_SHA256[:8]})"
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


def _cached(path, compute, what: str) -> tuple[torch.Tensor, str]:
    """(the tensor in ``path``, else ``compute()``'s, saved there; where it came from)."""
    if path.is_file():
        try:
            return torch.load(path, map_location="cpu", weights_only=True), f"{what} (cached)"
        except (OSError, RuntimeError, ValueError, pickle.UnpicklingError, EOFError) as exc:
            print(f"{path.name} is unreadable ({type(exc).__name__}); computing it again.")
    start = time.perf_counter()
    tensor, described = compute()
    atomic_save(tensor, path)
    return tensor, f"{described} ({time.perf_counter() - start:.0f} s to compute, now cached)"


def cell_features(source: str, size: int, progress: bool = True) -> tuple[torch.Tensor, str]:
    """([2624, D] features in labels.csv order, where they came from) for ``source`` at ``size`` px, the whole
    cell resized (nothing cropped); loaded from this machine's cache when they were computed before. ImageNet's
    come from its cached trunk (cell_trunk), so that fine-tuning its last block costs no second pass."""
    key = hashlib.sha256(f"{_identity(source)}|{size}".encode()).hexdigest()[:12]
    path = cache_dir() / "features" / f"elpv-{source}-{size}px-{key}.pt"
    if source == "imagenet":
        return _cached(path, lambda: _with_size(_body_of(cell_trunk(size, progress)[0]), size),
                       f"{source} features, {size} px")
    return _cached(path, lambda: _with_size(features_of_cells(source, size, progress=progress), size),
                   f"{source} features, {size} px")


def _with_size(result: tuple[torch.Tensor, str], size: int) -> tuple[torch.Tensor, str]:
    return result[0], f"{result[1]}, {size} px"


def _body_of(trunk: torch.Tensor) -> tuple[torch.Tensor, str]:
    """ImageNet Lite0's features from its trunk's outputs: the last block, the head convolution and the pooling."""
    model, _ = lite0_for_cells()
    order = torch.channels_last  # the order and batches of the trunk's pass: the features of one whole pass, bit for bit
    with torch.no_grad():
        model.to(memory_format=order)
        features = torch.cat([BACKBONES["efficientnet_lite0"].body(model, chunk.contiguous(memory_format=order))
                              for chunk in trunk.split(64)])
    return features, f"EfficientNet-Lite0, ImageNet-1k ({FILE_SHA256[:8]}), from its trunk"


def lite0_for_cells() -> tuple[nn.Module, Preset]:
    """ImageNet's EfficientNet-Lite0 without its classifier, in eval mode, and its preset (resized to any size)."""
    model, weights = pretrained_efficientnet_lite0()
    model.reset_classifier(0)
    return model.eval(), weights.transforms()


def cell_trunk(size: int, progress: bool = True) -> tuple[torch.Tensor, str]:
    """([2624, 192, size/32, size/32] outputs of ImageNet Lite0's trunk, everything below its last block, where they
    came from) for every cell resized to ``size`` px; cached on this machine like the features."""
    key = hashlib.sha256(f"{_identity('imagenet')}|trunk|{size}".encode()).hexdigest()[:12]
    path = cache_dir() / "features" / f"elpv-imagenet-trunk-{size}px-{key}.pt"

    def compute():
        model, preset = lite0_for_cells()
        preset = Preset(crop_size=size, resize_size=size, mean=preset.mean, std=preset.std,
                        interpolation=preset.interpolation)
        trunk = _Trunk(model)
        outputs = extract_features(trunk, DataLoader(SolarCells(transform=preset), batch_size=64), progress=progress,
                                   desc=f"ImageNet Lite0 trunk, {size} px", channels_last=True).tensors[0]
        return outputs, f"EfficientNet-Lite0's trunk, ImageNet-1k ({FILE_SHA256[:8]}), {size} px"

    return _cached(path, compute, f"ImageNet Lite0 trunk, {size} px")


class _Trunk(nn.Module):
    """Lite0's layers below its last block, as a module (for extract_features)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return BACKBONES["efficientnet_lite0"].trunk(self.model, images)


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
