"""The course's generated ImageFolder dataset: deterministic from a seed, verified, rebuilt when incomplete.

Set COURSE_DATA to the root of your own ImageFolder (with train/<class>/ and val/<class>/) to use
it instead in every notebook. Generated data and the course backbone live under COURSE_CACHE
(default ~/.cache/pytorch-cnn-course; `make lab` and `make test` use .course-cache/ in the repo).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm.auto import tqdm

from .shapes import SOURCE_CLASSES, TARGET_CLASSES, render

DATASET_VERSION = 1
MANIFEST = "manifest.json"
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


@dataclass(frozen=True)
class TaskSpec:
    """What to draw: which shapes, how many per class and split, and how much nuisance."""

    name: str
    classes: tuple[str, ...]
    per_class: dict[str, int]  # split -> images per class
    size: int = 64
    clutter: tuple[int, int] = (0, 3)
    scale: tuple[float, float] = (0.55, 0.8)
    seed: int = 0


# The target task: 5 shapes the backbone never saw, only 20 training images per class.
TARGET_TASK = TaskSpec("shapes5", TARGET_CLASSES, {"train": 20, "val": 50})
# The source task: 16 other shapes, many images, used only to pretrain the course backbone.
SOURCE_TASK = TaskSpec("shapes16-source", SOURCE_CLASSES, {"train": 300, "val": 50}, seed=1)


def cache_dir() -> Path:
    path = Path(os.environ.get("COURSE_CACHE") or Path.home() / ".cache" / "pytorch-cnn-course")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _image_rng(spec: TaskSpec, split: str, class_index: int, index: int) -> np.random.Generator:
    # One generator per image: any image can be redrawn alone, and order never matters.
    split_id = sorted(spec.per_class).index(split)
    return np.random.default_rng([spec.seed, split_id, class_index, index])


def draw(spec: TaskSpec, split: str, class_index: int, index: int) -> np.ndarray:
    rng = _image_rng(spec, split, class_index, index)
    return render(spec.classes[class_index], spec.size, rng, clutter=spec.clutter, scale=spec.scale)


def _jobs(spec: TaskSpec, split: str, per_class: int | None = None) -> list[tuple[int, int]]:
    """(class index, image index) pairs of a split, class by class."""
    count = spec.per_class[split] if per_class is None else min(per_class, spec.per_class[split])
    return [(c, i) for c in range(len(spec.classes)) for i in range(count)]


def task_arrays(spec: TaskSpec, split: str, progress: bool = True,
                per_class: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """A split in memory (its first ``per_class`` images per class, default all): uint8 [N, H, W, 3], int64 [N]."""
    jobs = _jobs(spec, split, per_class)
    images = np.stack([draw(spec, split, c, i) for c, i in tqdm(jobs, desc=f"Drawing {spec.name} {split}",
                                                                 disable=not progress, leave=False)])
    return torch.from_numpy(images), torch.tensor([c for c, _ in jobs])


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _differences(folder: Path, files: dict[str, str]) -> str | None:
    """None if ``folder`` holds exactly ``files`` (relative path -> SHA-256), else what differs."""
    on_disk = {p.relative_to(folder).as_posix() for p in Path(folder).rglob("*") if p.suffix in IMAGE_EXTENSIONS}
    if on_disk != set(files):
        return f"{len(set(files) - on_disk)} files missing, {len(on_disk - set(files))} unexpected"
    for name, digest in files.items():
        if _sha256(Path(folder) / name) != digest:
            return f"{name} is corrupted"
    return None


def _manifest(root: Path) -> dict:
    return json.loads((Path(root) / MANIFEST).read_text())


def verify_dataset(root: Path) -> str | None:
    """None if ``root`` holds exactly the files its manifest lists, with matching hashes; else the problem."""
    manifest_path = Path(root) / MANIFEST
    if not manifest_path.is_file():
        return "no manifest (generation did not finish)"
    try:
        manifest = _manifest(root)
        files = manifest["files"]
    except (ValueError, KeyError) as exc:
        return f"unreadable manifest ({exc})"
    if manifest.get("version") != DATASET_VERSION:
        return f"made by dataset version {manifest.get('version')}, this course uses {DATASET_VERSION}"
    return _differences(root, files)


def split_without(root: Path, split: str, missing: str) -> Path:
    """A copy of ``root/split`` lacking the class folder ``missing`` (for demonstrations), verified on every use
    against the dataset's manifest and rebuilt when anything in it changed."""
    copy = cache_dir() / f"{Path(root).name}-{split}-without-{missing}"
    prefix, skip = f"{split}/", f"{split}/{missing}/"
    expected = {name[len(prefix):]: digest for name, digest in _manifest(root)["files"].items()
                if name.startswith(prefix) and not name.startswith(skip)}
    if copy.is_dir() and _differences(copy, expected) is None:
        return copy
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(Path(root) / split, copy, ignore=shutil.ignore_patterns(missing))
    return copy


def generate_dataset(root: Path, spec: TaskSpec = TARGET_TASK, progress: bool = True) -> Path:
    """Write ``spec`` as an ImageFolder at ``root`` (train/<class>/*.png, val/<class>/*.png).

    Builds in a sibling ``.partial`` folder and renames it at the end, so an interrupted run never
    leaves something that looks complete; the manifest (file hashes) is written last.
    """
    root = Path(root)
    partial = root.with_name(root.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    jobs = [(split, c, i) for split in sorted(spec.per_class) for c, i in _jobs(spec, split)]
    files = {}
    for split, c, i in tqdm(jobs, desc=f"Generating {spec.name} dataset", disable=not progress):
        relative = f"{split}/{spec.classes[c]}/{i:04d}.png"
        path = partial / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(draw(spec, split, c, i)).save(path, format="PNG")
        files[relative] = _sha256(path)
    manifest = {"version": DATASET_VERSION, "spec": asdict(spec), "files": files}
    (partial / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    shutil.rmtree(root, ignore_errors=True)
    partial.rename(root)
    return root


def course_dataset(progress: bool = True) -> Path:
    """The generated dataset's root, reused when complete and verified, (re)built otherwise."""
    root = cache_dir() / f"{TARGET_TASK.name}-v{DATASET_VERSION}"
    problem = verify_dataset(root) if root.exists() else "not generated yet"
    if problem is None:
        return root
    if root.exists() or root.with_name(root.name + ".partial").exists():
        print(f"Found an incomplete course dataset at {root} ({problem}); rebuilding it.")
    return generate_dataset(root, TARGET_TASK, progress=progress)


def check_image_folder(root: Path) -> Path:
    """Raise a clear error unless ``root`` has train/ and val/ folders, each with class subfolders."""
    root = Path(root).expanduser()
    for split in ("train", "val"):
        folder = root / split
        if not folder.is_dir() or not any(p.is_dir() for p in folder.iterdir()):
            raise FileNotFoundError(
                f"{folder} is missing or has no class folders. An ImageFolder dataset needs "
                f"{root}/train/<class_name>/*.png and {root}/val/<class_name>/*.png; fix the folder or "
                f"unset COURSE_DATA to use the course's generated dataset.")
    return root


def dataset_root(root: str | Path | None = None, progress: bool = True) -> Path:
    """Where the notebooks read images from: ``root``, else $COURSE_DATA, else the generated dataset."""
    chosen = root or os.environ.get("COURSE_DATA")
    if chosen:
        return check_image_folder(Path(chosen))
    return course_dataset(progress=progress)
