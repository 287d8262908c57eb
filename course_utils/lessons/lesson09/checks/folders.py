"""Lesson 09: the folders split_dataset is judged on, written to a temporary directory, and what an answer returned
read back as plain (image, class index) pairs per split."""
from __future__ import annotations

import io
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image

from ....checking import expect
from ....checking.describe import describe
from ....checking.sandbox import Mismatch, call_learner


@dataclass(frozen=True)
class Folder:
    """One ImageFolder without splits, and how split_dataset is called on it."""

    name: str
    description: str
    classes: tuple[tuple[str, int, str], ...]  # (class folder, number of images, extension), in the order made
    extras: tuple[str, ...]  # files ImageFolder ignores: no image extension, or not inside a class folder
    fractions: tuple[tuple[str, float], ...]
    seeds: tuple[int, int, int]  # the first is called twice; the others must give other lists
    as_path: bool  # root handed over as a pathlib.Path, else as a str

    @property
    def index(self) -> dict[str, int]:
        """Class indices as ImageFolder gives them: the sorted class folder names, from 0."""
        return {name: i for i, name in enumerate(sorted(c for c, _, _ in self.classes))}

    @property
    def shown_fractions(self) -> str:
        return "{" + ", ".join(f"{name!r}: {f:g}" for name, f in self.fractions) + "}"


NESTED_CLASS, NESTED = "books", "second_shelf"  # a class whose last images sit one folder deeper, as photo exports do
FOLDERS = (
    Folder("flowers", "4 class folders of 40, 16, 6 and 4 images, made in another order than sorted",
           (("tulip", 40, ".png"), ("daisy", 16, ".png"), ("sunflower", 6, ".png"), ("rose", 4, ".png")), (),
           (("train", 0.6), ("val", 0.2), ("test", 0.2)), (0, 1, 2), False),
    Folder("desk", "3 class folders, 'keys' photographed as .JPG files, 'books' with its last 4 images in a subfolder "
           "(ImageFolder reads subfolders too), a notes.txt among the mugs and a README.md beside the class folders",
           (("mugs", 9, ".png"), ("books", 14, ".png"), ("keys", 5, ".JPG")),
           ("mugs/notes.txt", "README.md"), (("fit", 0.75), ("holdout", 0.25)), (7, 8, 9), True),
)


@lru_cache(maxsize=None)
def image_bytes() -> tuple[tuple[bytes, ...], tuple[bytes, ...]]:
    """Small, distinct PNG and JPEG files, encoded once before the time limit (split_dataset's prepare)."""
    def encoded(i: int, kind: str) -> bytes:
        buffer = io.BytesIO()
        Image.new("RGB", (6, 6), ((37 * i) % 256, (91 * i) % 256, (53 * i) % 256)).save(buffer, kind)
        return buffer.getvalue()
    return tuple(encoded(i, "PNG") for i in range(40)), tuple(encoded(i, "JPEG") for i in range(10))


def real(path: str) -> str | None:
    """The canonical form of a path, to compare; None for text that is no path at all (a NUL byte)."""
    try:
        return os.path.realpath(path)
    except (ValueError, OSError):
        return None


def write(base: Path, folder: Folder) -> tuple[Path, dict[str, tuple[str, int]]]:
    """Write the folder under ``base``: its root, and {real path: (path under root, class index)} of its images."""
    root = base / folder.name
    pngs, jpegs = image_bytes()
    images = {}
    for name, count, extension in folder.classes:
        (root / name).mkdir(parents=True)
        for i in range(count):
            jpeg = extension.lower() == ".jpg"
            where = root / name / NESTED if name == NESTED_CLASS and i >= count - 4 else root / name
            where.mkdir(exist_ok=True)
            file = where / (f"IMG_{i + 1:04d}{extension}" if jpeg else f"{i:03d}{extension}")
            file.write_bytes(jpegs[i % len(jpegs)] if jpeg else pngs[i % len(pngs)])
            images[real(str(file))] = (file.relative_to(root).as_posix(), folder.index[name])
    for extra in folder.extras:
        (root / extra).write_text("not an image\n")
    return root, images


def fingerprint(root: Path) -> list[tuple[str, int]]:
    """Every folder and file under root with its size: what an answer that only reads leaves unchanged."""
    found = []
    for where, folders, files in os.walk(root):
        found += [(os.path.join(where, name), -1) for name in folders]
        found += [(os.path.join(where, name), os.path.getsize(os.path.join(where, name))) for name in files]
    return sorted(found)


def _text(path: Any) -> str | None:
    """A returned path as text: a str or an os.PathLike such as pathlib.Path; None for anything else."""
    if isinstance(path, str):
        return str.__str__(path)
    if isinstance(path, os.PathLike):
        text = str(path) if type(path).__module__ == "pathlib" else call_learner(os.fspath, path)
        return str.__str__(text) if isinstance(text, str) else None
    return None


def _items(value: Any) -> tuple | None:
    base = list if isinstance(value, list) else tuple if isinstance(value, tuple) else None
    return tuple(base.__iter__(value)) if base is not None else None


def _pair(item: Any, want: str) -> tuple[str, int]:
    path, label = expect.sequence(item, 2, want, "make each entry a pair: (file path, class index).")
    if isinstance(label, (str, os.PathLike)) and not isinstance(path, (str, os.PathLike)):
        raise Mismatch(want, f"pairs in the other order, ({describe(path)}, {describe(label)})",
                       "put the path first: (file path, class index).")
    text = _text(path)
    if text is None:
        raise Mismatch(want, f"a path given as {describe(path)}", "give each file's path as a str (or a pathlib.Path), "
                       "e.g. os.path.join(root, class_name, file_name).")
    if isinstance(label, str):
        raise Mismatch(want, f"class names as labels ({describe(label)})", "give the class index, a number: "
                       "ImageFolder numbers the sorted class folders from 0 (dataset.class_to_idx).")
    return text, expect.number(label, want, "give the class index as an int, as ImageFolder's class_to_idx does.",
                               integral=True)


def read_splits(result: Any, folder: Folder, want: str) -> dict[str, list[tuple[str, int]]]:
    """The returned dict as {split name: [(path text, class index), ...]}, or a Mismatch saying what it is instead."""
    names = [name for name, _ in folder.fractions]
    shape = "{" + ", ".join(f"{name!r}: [...]" for name in names) + "}"
    if not isinstance(result, dict):
        raise Mismatch(want, describe(result), f"return a dict with one list per split: {shape}.")
    pairs = list(dict.items(result))
    keys = [str.__str__(key) if isinstance(key, str) else None for key, _ in pairs]
    if sorted(k for k in keys if k is not None) != sorted(names) or None in keys:
        shown = ", ".join(repr(k) if k is not None else describe(key) for k, (key, _) in zip(keys, pairs))
        raise Mismatch(want, f"a dict with the keys [{shown}] for fractions {folder.shown_fractions}",
                       "use the split names fractions gives, whatever they are: one key per name in fractions.")
    splits = {}
    for key, (_, value) in zip(keys, pairs):
        items = _items(value)
        if items is None:
            raise Mismatch(want, f"split {key!r} given as {describe(value)}",
                           "give each split as a list of (file path, class index) pairs.")
        splits[key] = [_pair(item, want) for item in items]
    return splits


def locate(text: str, root: Path, images: dict[str, tuple[str, int]], want: str) -> str:
    """The image (its real path) a returned path names, or a Mismatch saying what the path is instead."""
    found = real(text) if os.path.isabs(text) else None
    if found in images:
        return found
    if found is not None and os.path.isfile(found) and found.startswith(real(str(root)) + os.sep):
        raise Mismatch(want, f"a file that is no image, {os.path.relpath(found, root)}, in a split",
                       "keep only files ImageFolder would load, those whose extension (in any case) is in "
                       "torchvision.datasets.folder.IMG_EXTENSIONS; or take datasets.ImageFolder(root).samples.")
    inside = real(os.path.join(str(root), text)) if not os.path.isabs(text) else None
    if inside in images or text in {shown.split("/")[1] for shown, _ in images.values()}:
        raise Mismatch(want, f"paths relative to root, such as {text!r}", "give full paths that open "
                       "from anywhere: os.path.join(root, class_name, file_name) (or Path(root) / class_name / name).")
    raise Mismatch(want, f"a path that is none of the images under root: {text[:120]!r}",
                   "list the images of each class folder under root, with their full paths.")
