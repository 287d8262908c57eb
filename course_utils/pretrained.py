"""Pretrained ResNet-18, offline first: torchvision's ImageNet weights when available, else the course backbone.

COURSE_WEIGHTS chooses: "auto" (default: ImageNet if cached or downloadable within seconds, else
course), "imagenet" (fail clearly if unavailable) or "course" (never touches the network).
The course backbone is torchvision's resnet18 pretrained by `build_course_backbone` on a generated
source task of 16 shapes; it is built on first use (about 2 minutes on 2 CPU cores) and cached.
"""
from __future__ import annotations

import os
import pickle
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import ResNet18_Weights, resnet18
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as TF
from tqdm.auto import tqdm

from .data import SOURCE_TASK, TaskSpec, cache_dir, task_arrays

WEIGHTS_ENV = "COURSE_WEIGHTS"
MODES = ("auto", "imagenet", "course")
BACKBONE_VERSION = 1
DOWNLOAD_TIMEOUT = 5.0  # seconds allowed to reach the download server before falling back


class Preset(nn.Module):
    """Resize, centre-crop, scale to [0, 1] and normalise: the evaluation preprocessing of a weights object.

    Mirrors torchvision's ImageClassification preset (same attributes), for the course backbone.
    """

    def __init__(self, crop_size: int, resize_size: int, mean: tuple[float, ...], std: tuple[float, ...]):
        super().__init__()
        self.crop_size, self.resize_size = [crop_size], [resize_size]
        self.mean, self.std = list(mean), list(std)
        self.interpolation = InterpolationMode.BILINEAR
        self.antialias = True

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

    def transforms(self) -> Preset:
        return Preset(self.meta["crop_size"], self.meta["resize_size"], self.meta["mean"], self.meta["std"])

    def get_state_dict(self, progress: bool = True, check_hash: bool = False) -> dict:
        return torch.load(self.path, map_location="cpu", weights_only=True)["state_dict"]

    def __repr__(self) -> str:
        return f"CourseWeights(resnet18 on {self.meta['source_task']}, {self.path.name})"


# ------------------------------------------------------------------ the course backbone

def _source_tensors(spec: TaskSpec, split: str, progress: bool) -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = task_arrays(spec, split, progress=progress)
    return images.permute(0, 3, 1, 2).contiguous(), labels


def build_course_backbone(path: Path, spec: TaskSpec = SOURCE_TASK, epochs: int = 8, batch_size: int = 64,
                          progress: bool = True) -> Path:
    """Pretrain torchvision's resnet18 on the generated source task ``spec`` (16 shapes) and save it at ``path``.

    Deterministic from the seeds below (bit-identical on the same CPU type and library versions).
    Regenerate with `python -m course_utils.pretrained --rebuild`.
    """
    start = time.perf_counter()
    torch.manual_seed(0)
    train_x, train_y = _source_tensors(spec, "train", progress)
    val_x, val_y = _source_tensors(spec, "val", progress)
    resize, crop = spec.size, spec.size * 7 // 8
    as_float = train_x.float() / 255
    mean = tuple(round(v, 4) for v in as_float.mean(dim=(0, 2, 3)).tolist())
    std = tuple(round(v, 4) for v in as_float.std(dim=(0, 2, 3)).tolist())
    mean_t, std_t = torch.tensor(mean).view(1, 3, 1, 1), torch.tensor(std).view(1, 3, 1, 1)

    def prepare(batch: torch.Tensor, train: bool, generator: torch.Generator | None = None) -> torch.Tensor:
        if train:  # random crop and flip: the same augmentation a learner applies later
            i, j = torch.randint(0, resize - crop + 1, (2,), generator=generator).tolist()
            batch = batch[:, :, i:i + crop, j:j + crop]
            if torch.rand(1, generator=generator).item() < 0.5:
                batch = batch.flip(3)
        else:
            offset = (resize - crop) // 2
            batch = batch[:, :, offset:offset + crop, offset:offset + crop]
        return (batch.float() / 255 - mean_t) / std_t

    model = resnet18(num_classes=len(spec.classes))
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.05)
    steps_per_epoch = len(train_x) // batch_size
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=epochs * steps_per_epoch,
                                                    pct_start=0.25)
    generator = torch.Generator().manual_seed(0)
    bar = tqdm(total=epochs * steps_per_epoch, desc="Pretraining the course backbone", disable=not progress)
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(train_x), generator=generator)
        for step in range(steps_per_epoch):
            index = order[step * batch_size:(step + 1) * batch_size]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(prepare(train_x[index], True, generator)), train_y[index], label_smoothing=0.1)
            loss.backward()
            optimizer.step()
            scheduler.step()
            bar.update()
            bar.set_postfix(loss=f"{loss.item():.3f}")
    bar.close()
    model.eval()
    with torch.no_grad():
        predictions = torch.cat([model(prepare(val_x[i:i + 256], False)).argmax(1) for i in range(0, len(val_x), 256)])
    accuracy = (predictions == val_y).float().mean().item()
    meta = {
        "categories": list(spec.classes),
        "source_task": f"{spec.name} ({len(spec.classes)} generated shape classes, "
                       f"{len(train_x)} training images)",
        "source_val_accuracy": round(accuracy, 4),
        "num_params": sum(p.numel() for p in model.parameters()),
        "resize_size": resize, "crop_size": crop, "mean": mean, "std": std,
        "recipe": "course_utils.pretrained.build_course_backbone", "epochs": epochs, "version": BACKBONE_VERSION,
        "build_seconds": round(time.perf_counter() - start, 1),
        "provenance": "trained by the course's own code on generated data; no ImageNet involved",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".partial")
    torch.save({"state_dict": model.state_dict(), "meta": meta}, temporary)
    temporary.replace(path)
    return path


def backbone_path() -> Path:
    return cache_dir() / f"course_resnet18_v{BACKBONE_VERSION}.pt"


def _read_meta(path: Path) -> dict:
    # mmap leaves the 45 MB of weights on disk: only get_state_dict reads them
    return torch.load(path, map_location="cpu", weights_only=True, mmap=True)["meta"]


def course_weights(progress: bool = True) -> CourseWeights:
    """The course backbone's weights, built on first use and cached under COURSE_CACHE."""
    path = backbone_path()
    try:
        meta = _read_meta(path) if path.exists() else None
    except (RuntimeError, KeyError, EOFError, ValueError, pickle.UnpicklingError) as exc:  # damaged: rebuild
        print(f"The cached course backbone at {path} is unreadable ({exc}); rebuilding it.")
        meta = None
    if meta is None:
        if progress:
            print("Building the course backbone once (about 2 minutes on a laptop CPU); it is cached afterwards.")
        build_course_backbone(path, progress=progress)
        meta = _read_meta(path)
    return CourseWeights(path, meta)


# ------------------------------------------------------------------ ImageNet weights

def _imagenet_url() -> str:
    return ResNet18_Weights.DEFAULT.url


def imagenet_cache_file() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(_imagenet_url()).path).name


def _download_imagenet(timeout: float) -> str | None:
    """Try to fetch the ImageNet checkpoint within ``timeout`` seconds; return None or why it failed."""
    url, target = _imagenet_url(), imagenet_cache_file()
    outcome: dict[str, str | None] = {"error": "timed out"}

    def attempt():
        previous = socket.getdefaulttimeout()
        socket.setdefaulttimeout(timeout)  # applies to the connection and every read
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            torch.hub.download_url_to_file(url, str(target), progress=False)
            outcome["error"] = None
        except Exception as exc:  # any network or file error means: fall back
            outcome["error"] = f"{type(exc).__name__}: {exc}"
        finally:
            socket.setdefaulttimeout(previous)

    # A thread bounds the wait even where the timeout cannot reach (a stalled DNS lookup).
    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout + 1)
    return outcome["error"]


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
    if isinstance(weights, CourseWeights):
        return (f"course backbone: torchvision resnet18 pretrained on {weights.meta['source_task']}, "
                f"source validation accuracy {weights.meta['source_val_accuracy']:.3f}")
    return f"ImageNet: torchvision {type(weights).__name__}.{weights.name}"


def pretrained_resnet18(mode: str | None = None, progress: bool = True) -> tuple[nn.Module, object]:
    """A pretrained torchvision resnet18 and its weights object (use weights.transforms() for preprocessing)."""
    weights = resolve_weights(mode, progress)
    if isinstance(weights, CourseWeights):
        model = resnet18(num_classes=len(weights.meta["categories"]))
        model.load_state_dict(weights.get_state_dict())
    else:
        model = resnet18(weights=weights)
    return model, weights


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Build (or rebuild) the cached course backbone.")
    parser.add_argument("--rebuild", action="store_true", help="delete the cached backbone first")
    args = parser.parse_args()
    if args.rebuild:
        backbone_path().unlink(missing_ok=True)
    weights = course_weights()
    print(describe_weights(weights), f"(built in {weights.meta['build_seconds']} s)", weights.path)
