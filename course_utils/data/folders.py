"""Your own images, before training: one folder of class folders split stratified into train/val/test and saved as a
file list; images of any mode opened as RGB; a data audit (unreadable files, odd modes, tiny images, duplicates across
splits, classes missing from a split); a dataset over a file list."""
from __future__ import annotations

import csv
import hashlib
import os
import random
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from torch.utils.data import Dataset
from torchvision.datasets.folder import IMG_EXTENSIONS, find_classes

from .generated import cache_dir, course_dataset

Splits = dict[str, list[tuple[str, int]]]
TINY_PX = 32  # an image whose shorter side is below this carries too little detail to learn from
OPEN_ERRORS = (OSError, ValueError, SyntaxError, UnidentifiedImageError, Image.DecompressionBombError)


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMG_EXTENSIONS


def image_files(folder: str | Path) -> list[Path]:
    """The image files in ``folder`` and below, sorted."""
    return sorted(p for p in Path(folder).rglob("*") if p.is_file() and is_image_file(p))


def class_files(root: Path) -> tuple[list[str], list[list[Path]]]:
    """(class names, each class's image files, sorted) as ImageFolder numbers and finds them."""
    classes, _ = find_classes(str(root))
    return classes, [image_files(Path(root) / c) for c in classes]


SPLIT_FOLDERS = ("train", "val", "valid", "validation", "test")  # a dataset that comes split has train/ and one more


def _split_folders(base: Path) -> list[str]:
    """The split folders of a dataset that comes split (train/ and val/, valid/, validation/ or test/), else []."""
    present = [name for name in SPLIT_FOLDERS if (base / name).is_dir()]
    return present if "train" in present and len(present) > 1 else []


def _pooled(base: Path, folders: list[str]) -> Path:
    """One class folder per class holding the images of every split folder of ``base`` (hard links, else copies)."""
    key = hashlib.sha256(str(base.resolve()).encode()).hexdigest()[:12]
    target = cache_dir() / "pooled" / f"{base.name}-{key}"
    sources = [(split, p) for split in folders for p in image_files(base / split)]
    if target.is_dir() and sum(1 for p in target.rglob("*") if p.is_file()) == len(sources):
        return target
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    for split, path in sources:
        destination = partial / path.parent.name / f"{split}_{path.name}"
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, destination)
        except OSError:
            shutil.copyfile(path, destination)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target


def images_folder(root: str | Path | None = None, progress: bool = True) -> Path:
    """A folder with one subfolder per class: ``root``, else $COURSE_DATA, else the course's generated images.
    A dataset that comes split (train/ and val/, valid/, validation/ or test/) is pooled into one folder first:
    lesson 09 splits it itself."""
    chosen = root or os.environ.get("COURSE_DATA")
    base = Path(chosen).expanduser() if chosen else course_dataset(progress=progress)
    folders = _split_folders(base)
    if folders:
        return _pooled(base, folders)
    if not base.is_dir() or not any(p.is_dir() for p in base.iterdir()):
        raise FileNotFoundError(f"{base} is missing or has no class folders: put your images in "
                                f"{base}/<class_name>/*.jpg (one folder per class), or unset COURSE_DATA to use the "
                                f"course's generated images.")
    return base


def split_files(root: str | Path, fractions: dict[str, float], seed: int) -> Splits:
    """Each class's files shuffled by ``seed`` and cut by ``fractions`` (the first split takes the remainder):
    stratified, deterministic, every file in exactly one split."""
    if not fractions or abs(sum(fractions.values()) - 1) > 1e-6 or min(fractions.values()) < 0:
        raise ValueError(f"fractions {fractions} must be non-negative and sum to 1, e.g. "
                         f"{{'train': 0.6, 'val': 0.2, 'test': 0.2}}")
    names = list(fractions)
    splits: Splits = {name: [] for name in names}
    _, per_class = class_files(Path(root))
    for index, files in enumerate(per_class):
        files = list(files)
        random.Random(f"{seed}/{index}").shuffle(files)
        counts = [round(len(files) * fractions[name]) for name in names[1:]]
        first = len(files) - sum(counts)
        start = 0
        for name, count in zip(names, [first, *counts]):
            splits[name] += [(str(p), index) for p in files[start:start + count]]
            start += count
    return splits


def class_counts(splits: Splits, classes: list[str]) -> dict[str, list[int]]:
    """Images per class in each split, in class order."""
    return {name: [sum(1 for _, c in files if c == k) for k in range(len(classes))] for name, files in splits.items()}


def save_splits(splits: Splits, classes: list[str], root: Path, path: Path) -> Path:
    """Write the splits as a CSV file list (split, class, path relative to ``root``): the split survives a restart
    and can be shared, so the test images stay the test images."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["split", "class", "file"])
        for name, files in splits.items():
            for file, index in files:
                writer.writerow([name, classes[index], Path(file).relative_to(root).as_posix()])
    return path


def load_splits(path: Path, root: Path, classes: list[str]) -> Splits:
    """The splits save_splits wrote, with paths under ``root`` and class indices in ``classes``' order."""
    splits: Splits = {}
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            splits.setdefault(row["split"], []).append((str(root / row["file"]), classes.index(row["class"])))
    return splits


def open_rgb(path: str | Path) -> Image.Image:
    """Any image file as an 8-bit RGB image the right way up: EXIF rotation applied, transparency composited on
    white, 16-bit and float images scaled to 0-255, grayscale / palette / CMYK converted."""
    with Image.open(path) as image:
        return as_rgb(image)


def as_rgb(image: Image.Image) -> Image.Image:
    """An opened image as open_rgb returns it (loading it if it was not yet)."""
    image.load()
    image = ImageOps.exif_transpose(image)
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or values.max() > 255 else 255.0
        image = Image.fromarray(np.clip(values / top * 255 + 0.5, 0, 255).astype(np.uint8), "L")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image.convert("RGBA"))
    return image.convert("RGB")


@dataclass
class Audit:
    """What the data checks found. Paths are strings; ``pixels`` maps each readable file to its image's hash."""

    files: int = 0
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (file, why)
    modes: Counter = field(default_factory=Counter)
    tiny: list[tuple[str, tuple[int, int]]] = field(default_factory=list)
    sizes: Counter = field(default_factory=Counter)
    cross_split_duplicates: list[tuple[str, str]] = field(default_factory=list)  # (kept file, its copy elsewhere)
    same_split_duplicates: list[tuple[str, str]] = field(default_factory=list)   # (first file, its copy, same split)
    missing_classes: dict[str, list[str]] = field(default_factory=dict)  # split -> classes with no image
    pixels: dict[str, str] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """One ✔ / ✘ / ! line per check, naming the files concerned (at most 3 each)."""
        def some(items) -> str:
            shown = ", ".join(Path(i).name for i in items[:3])
            return shown + (f" and {len(items) - 3} more" if len(items) > 3 else "")
        odd = {m: n for m, n in self.modes.items() if m != "RGB"}
        return [
            f"{'✘' if self.unreadable else '✔'} unreadable files: {len(self.unreadable)}"
            + "".join(f"\n    {Path(f).name}: {why} (skipped)" for f, why in self.unreadable),
            f"{'!' if odd else '✔'} image modes: {dict(sorted(self.modes.items()))}"
            + (" (all opened as RGB by open_rgb)" if odd else ""),
            f"{'!' if self.tiny else '✔'} images under {TINY_PX} px: {len(self.tiny)}"
            + (f" ({some([f for f, _ in self.tiny])})" if self.tiny else ""),
            f"{'✘' if self.cross_split_duplicates else '✔'} identical images in two splits: "
            f"{len(self.cross_split_duplicates)}"
            + (f" ({some([c for _, c in self.cross_split_duplicates])})" if self.cross_split_duplicates else ""),
            f"{'!' if self.same_split_duplicates else '✔'} identical images within one split: "
            f"{len(self.same_split_duplicates)}"
            + (f" ({some([c for _, c in self.same_split_duplicates])}: counted twice)" if self.same_split_duplicates
               else ""),
            f"{'✘' if self.missing_classes else '✔'} classes missing from a split: "
            + ("; ".join(f"{s}: {', '.join(c)}" for s, c in self.missing_classes.items()) or "none"),
        ]

    def typical_side(self) -> int:
        """The median of the readable images' shorter sides, in pixels (0 when none could be read)."""
        sides = sorted(min(size) for size, count in self.sizes.items() for _ in range(count))
        return sides[len(sides) // 2] if sides else 0

    def show(self) -> None:
        print(f"{self.files} files checked")
        for line in self.lines():
            print(line)

    def cleaned(self, splits: Splits) -> Splits:
        """The splits without unreadable files, and with each image once: later copies dropped (a copy in a later split
        would leak into validation or test, a copy in the same split would count twice)."""
        drop = {f for f, _ in self.unreadable} | {copy for _, copy in self.cross_split_duplicates
                                                  + self.same_split_duplicates}
        return {name: [(f, c) for f, c in files if f not in drop] for name, files in splits.items()}


def _image_hash(image: Image.Image) -> str:
    return hashlib.sha256(f"{image.size}".encode() + image.tobytes()).hexdigest()


def audit(splits: Splits, classes: list[str], progress: bool = True) -> Audit:
    """Open every file once: unreadable or truncated files, modes, sizes, tiny images, identical images (same pixels
    after open_rgb) in two splits or twice in one, and classes with no image in a split."""
    from tqdm.auto import tqdm
    report = Audit()
    first_seen: dict[str, tuple[str, str]] = {}  # pixel hash -> (split, file)
    every = [(name, file) for name, files in splits.items() for file, _ in files]
    report.files = len(every)
    for name, file in tqdm(every, desc="checking images", disable=not progress):
        try:
            with Image.open(file) as raw:
                mode = raw.mode
                image = as_rgb(raw)                     # the file is read once
        except OPEN_ERRORS as err:
            report.unreadable.append((file, f"{type(err).__name__}: {err}"))
            continue
        report.modes[mode] += 1
        report.sizes[image.size] += 1
        if min(image.size) < TINY_PX:
            report.tiny.append((file, image.size))
        digest = report.pixels[file] = _image_hash(image)
        if digest in first_seen:
            found = report.cross_split_duplicates if first_seen[digest][0] != name else report.same_split_duplicates
            found.append((first_seen[digest][1], file))
        first_seen.setdefault(digest, (name, file))
    unreadable = {f for f, _ in report.unreadable}
    for name, files in splits.items():
        present = {c for f, c in files if f not in unreadable}
        missing = [classes[k] for k in range(len(classes)) if k not in present]
        if missing:
            report.missing_classes[name] = missing
    return report


class FileListDataset(Dataset):
    """An ImageFolder over a file list: ``samples``, ``targets``, ``classes``, ``class_to_idx``, ``transform`` and
    ``loader`` as ImageFolder has them, images opened with open_rgb."""

    def __init__(self, samples: list[tuple[str, int]], classes: list[str], transform=None):
        self.samples = list(samples)
        self.targets = [c for _, c in self.samples]
        self.classes = list(classes)
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}
        self.transform = transform
        self.loader = open_rgb

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int):
        path, target = self.samples[index]
        image = open_rgb(path)
        return (self.transform(image) if self.transform is not None else image), target
