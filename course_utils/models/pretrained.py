"""Pretrained ResNet-18, offline first: torchvision's ImageNet weights when available, else the course backbone.

COURSE_WEIGHTS chooses: "auto" (default: ImageNet if cached or downloadable within seconds, else
course), "imagenet" (fail clearly if unavailable) or "course" (never touches the network).
The course backbone is torchvision's resnet18 pretrained by the course's own code on a generated source
task of 16 shapes (course_utils.models.backbone). It ships with the course and is verified by SHA-256 when
loaded; only if that file is missing or damaged is it built on this machine (resumable) and cached.
"""
from __future__ import annotations

import json
import os
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import urlparse

import torch
from torch import nn
from torchvision.models import ResNet18_Weights, resnet18
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as TF

from .backbone import BACKBONE_VERSION, MANIFEST, SHIPPED, build_course_backbone, sha256_of, write_manifest
from ..data.generated import cache_dir

WEIGHTS_ENV = "COURSE_WEIGHTS"
MODES = ("auto", "imagenet", "course")
DOWNLOAD_TIMEOUT = 5.0  # seconds allowed to reach the download server before falling back


class Preset(nn.Module):
    """Resize, centre-crop, scale to [0, 1] and normalise: the evaluation preprocessing of a weights object.

    Mirrors torchvision's ImageClassification preset (same attributes), for the course backbone.
    """

    def __init__(self, crop_size: int, resize_size: int, mean: tuple[float, ...], std: tuple[float, ...],
                 interpolation: InterpolationMode = InterpolationMode.BILINEAR, antialias: bool = True):
        super().__init__()
        self.crop_size, self.resize_size = [crop_size], [resize_size]
        self.mean, self.std = list(mean), list(std)
        self.interpolation = interpolation
        self.antialias = antialias

    def forward(self, image) -> torch.Tensor:
        image = TF.resize(image, self.resize_size, interpolation=self.interpolation, antialias=self.antialias)
        image = TF.center_crop(image, self.crop_size)
        if not isinstance(image, torch.Tensor):
            image = TF.pil_to_tensor(image)
        image = TF.convert_image_dtype(image, torch.float)
        return TF.normalize(image, mean=self.mean, std=self.std)

    def __repr__(self) -> str:
        return (f"Preset(crop_size={self.crop_size} resize_size={self.resize_size} mean={self.mean} "
                f"std={self.std} interpolation={self.interpolation})")


@dataclass(frozen=True)
class CourseWeights:
    """The course backbone's weights, with the interface of a torchvision weights enum member."""

    path: Path
    meta: dict = field(compare=False)

    def transforms(self, **overrides) -> Preset:
        """The evaluation preset; keyword arguments override its settings, as torchvision's presets allow."""
        settings = {"crop_size": self.meta["crop_size"], "resize_size": self.meta["resize_size"],
                    "mean": self.meta["mean"], "std": self.meta["std"]}
        return Preset(**{**settings, **overrides})

    def get_state_dict(self, progress: bool = True, check_hash: bool = False) -> dict:
        """The weights as float32 tensors (they are stored in half precision)."""
        state = torch.load(self.path, map_location="cpu", weights_only=True)["state_dict"]
        return {k: v.float() if v.is_floating_point() else v for k, v in state.items()}

    def __repr__(self) -> str:
        return f"CourseWeights(resnet18 on {self.meta['source_task']}, {self.path.name})"


# ------------------------------------------------------------------ the course backbone

_verified: dict[tuple[str, int, int], str | None] = {}


def backbone_problem(path: Path, manifest: Path) -> str | None:
    """None if ``path`` is the file ``manifest`` describes (SHA-256 checked once per process), else what is wrong."""
    if not path.is_file():
        return "missing"
    if not manifest.is_file():
        return "without its manifest"
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _verified:
        try:
            expected = json.loads(manifest.read_text())["sha256"]
        except (ValueError, KeyError) as exc:
            _verified[key] = f"listed in an unreadable manifest ({exc})"
        else:
            _verified[key] = None if sha256_of(path) == expected else "damaged (its SHA-256 does not match)"
    return _verified[key]


def built_backbone_path() -> Path:
    """Where a backbone built on this machine is kept when the shipped one is unusable."""
    return cache_dir() / f"course_resnet18_v{BACKBONE_VERSION}.pt"


def course_weights(progress: bool = True) -> CourseWeights:
    """The course backbone: the verified file that ships with the course, else one built here (resumable)."""
    problem = backbone_problem(SHIPPED, MANIFEST)
    if problem is None:
        return CourseWeights(SHIPPED, json.loads(MANIFEST.read_text())["meta"])
    built = built_backbone_path()
    sidecar = built.with_suffix(".json")
    if backbone_problem(built, sidecar) is None:
        return CourseWeights(built, json.loads(sidecar.read_text())["meta"])
    print(f"The course backbone shipped with the course is {problem} ({SHIPPED}); building it on this machine "
          f"instead. It is saved after every epoch: interrupt and rerun to continue where it stopped.")
    build_course_backbone(built, progress=progress)
    return CourseWeights(built, write_manifest(built, sidecar)["meta"])


# ------------------------------------------------------------------ ImageNet weights

def _imagenet_url() -> str:
    return ResNet18_Weights.DEFAULT.url


def imagenet_cache_file() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(_imagenet_url()).path).name


def within_timeout(work: Callable[[], object], timeout: float) -> tuple[object | None, str | None]:
    """(what ``work()`` returned, None), or (None, why it failed): the network gets ``timeout`` seconds for every
    connection and read, and a thread bounds the whole wait even where that cannot reach (a stalled DNS lookup)."""
    outcome: dict = {"value": None, "error": None}

    def attempt():
        previous = socket.getdefaulttimeout()
        socket.setdefaulttimeout(timeout)  # applies to the connection and every read
        try:
            outcome["value"], outcome["error"] = work(), None
        except Exception as exc:  # noqa: BLE001  (any network or file error means: fall back)
            outcome["error"] = f"{type(exc).__name__}: {exc}"
        finally:
            socket.setdefaulttimeout(previous)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout + 1)
    if worker.is_alive():  # still waiting: whatever it sets from now on is not read
        return None, f"timed out after {timeout:g} s"
    return outcome["value"], outcome["error"]


def _download_imagenet(timeout: float) -> str | None:
    """Try to fetch the ImageNet checkpoint within ``timeout`` seconds; return None or why it failed."""
    url, target = _imagenet_url(), imagenet_cache_file()

    def fetch():
        target.parent.mkdir(parents=True, exist_ok=True)
        torch.hub.download_url_to_file(url, str(target), progress=False)

    return within_timeout(fetch, timeout)[1]


def weights_mode(mode: str | None = None) -> str:
    mode = (mode or os.environ.get(WEIGHTS_ENV) or "auto").strip().lower()
    if mode not in MODES:
        raise ValueError(f"{WEIGHTS_ENV}={mode!r} is not a weights mode; choose one of {', '.join(MODES)}.")
    return mode


def resolve_weights(mode: str | None = None, progress: bool = True):
    """The weights object to use: ResNet18_Weights.DEFAULT or CourseWeights, by ``mode`` / $COURSE_WEIGHTS."""
    mode = weights_mode(mode)
    if mode == "course":
        return course_weights(progress)
    if imagenet_cache_file().is_file():
        return ResNet18_Weights.DEFAULT
    error = _download_imagenet(DOWNLOAD_TIMEOUT)
    if error is None:
        return ResNet18_Weights.DEFAULT
    if mode == "imagenet":
        raise RuntimeError(f"{WEIGHTS_ENV}=imagenet, but the ImageNet weights are not in {imagenet_cache_file()} "
                           f"and could not be downloaded ({error}). Copy the file there, or use "
                           f"{WEIGHTS_ENV}=course for the offline course backbone.")
    print(f"ImageNet weights unavailable ({error}); using the course backbone instead.")
    return course_weights(progress)


def describe_weights(weights) -> str:
    """One line naming any weights the course hands out: the course backbone, torchvision's ImageNet weights, or
    an object that describes itself (EfficientNet-Lite0's ImageNetWeights)."""
    if isinstance(weights, CourseWeights):
        return (f"course backbone: torchvision resnet18 pretrained on {weights.meta['source_task']}, "
                f"source validation accuracy {weights.meta['source_val_accuracy']:.3f}")
    describe = getattr(weights, "describe", None)
    if callable(describe):
        return describe()
    return f"ImageNet: torchvision {type(weights).__name__}.{getattr(weights, 'name', weights)}"


def pretrained_resnet18(mode: str | None = None, progress: bool = True) -> tuple[nn.Module, object]:
    """A pretrained torchvision resnet18 and its weights object (use weights.transforms() for preprocessing)."""
    weights = resolve_weights(mode, progress)
    if isinstance(weights, CourseWeights):
        model = resnet18(num_classes=len(weights.meta["categories"]))
        model.load_state_dict(weights.get_state_dict())
    else:
        model = resnet18(weights=weights)
    return model, weights




def training_transforms(weights, device: torch.device, images_px: int = 64):
    """(preset, note) for lessons that train many runs: the weights' own preset, except that on a CPU a preset
    larger than the images themselves (ImageNet's 224 px for 64-px images) is scaled down to the images' size,
    which adds no detail and is about 10 times cheaper but can cost accuracy (ImageNet features are tuned to their
    object scale: lesson 07 measured 0.929 at 224 px against 0.805 at 64 px); ``note`` says what changed, or None."""
    crop = _first(getattr(weights.transforms(), "crop_size", images_px))
    if device.type != "cpu" or crop <= images_px:
        return weights.transforms(), None
    return (weights.transforms(crop_size=images_px, resize_size=images_px),
            f"on this CPU, inputs are {images_px} px (the images' own size) instead of the weights' {crop} px: "
            f"upscaling adds no detail and would make every run about {round((crop / images_px) ** 2)}x slower, but "
            f"ImageNet features are tuned to objects at {crop} px, so the smaller input can cost accuracy (lesson "
            f"07 measured it for EfficientNet-Lite0's frozen features on the course's shapes: 0.929 at 224 px, "
            f"0.805 at 64 px; measure it on your images)")


def _first(size) -> int:
    return int(size[0] if isinstance(size, (list, tuple)) else size)
