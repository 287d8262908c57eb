"""A deliberately messy folder like a real photo collection: JPEGs of mixed sizes and modes (grayscale, CMYK), an
RGBA, a palette and a 16-bit PNG, a tiny image, an exact copy, a truncated file, a note that is no image, and one
class with far fewer images than the others."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from .generated import TARGET_TASK
from .shapes import render

# class -> images: the last class is the rare one
MESSY_COUNTS = {"crescent": 16, "hourglass": 16, "trefoil": 5}
CORRUPT_NAME = "broken_upload.jpg"


def _shape_image(shape: str, rng: np.random.Generator) -> Image.Image:
    """A shape drawn at 64-128 px, then stretched to a non-square size, as photos come in many sizes."""
    side = int(rng.integers(64, 129))
    image = Image.fromarray(render(shape, side, rng, clutter=TARGET_TASK.clutter, scale=TARGET_TASK.scale))
    return image.resize((side, int(side * rng.uniform(0.7, 1.3))))


def _save_odd(image: Image.Image, folder: Path, index: int) -> Path:
    """The image saved in the index-th odd format (a cycle of six), else as an ordinary RGB JPEG."""
    kind = index % 8
    if kind == 1:
        return _write(image.convert("L"), folder / f"img_{index:03d}_gray.jpg")
    if kind == 2:
        return _write(image.convert("CMYK"), folder / f"img_{index:03d}_cmyk.jpg")
    if kind == 3:
        rgba = image.convert("RGBA")
        rgba.putalpha(Image.new("L", image.size, 200))
        return _write(rgba, folder / f"img_{index:03d}_alpha.png")
    if kind == 4:
        values = (np.asarray(image.convert("L"), dtype=np.uint16) * 257).astype(np.uint16)
        return _write(Image.fromarray(values), folder / f"img_{index:03d}_16bit.png")
    if kind == 5:
        return _write(image.convert("P", palette=Image.Palette.ADAPTIVE), folder / f"img_{index:03d}_palette.png")
    return _write(image, folder / f"img_{index:03d}.jpg")


def _write(image: Image.Image, path: Path) -> Path:
    image.save(path, quality=90) if path.suffix == ".jpg" else image.save(path)
    return path


def messy_folder(dest: str | Path, seed: int = 0, images: dict[str, list[Image.Image]] | None = None) -> Path:
    """Write the messy folder at ``dest`` (replacing it) and return it: class folders only, no splits. ``images``
    ({class: images}, the first class with at least 8) are written the same messy way; by default, generated
    shapes, MESSY_COUNTS of them."""
    dest = Path(dest)
    shutil.rmtree(dest, ignore_errors=True)
    rng = np.random.default_rng(seed)
    if images is None:
        images = {shape: [_shape_image(shape, rng) for _ in range(count)] for shape, count in MESSY_COUNTS.items()}
    for name, class_images in images.items():
        folder = dest / name
        folder.mkdir(parents=True)
        for index, image in enumerate(class_images):
            _save_odd(image, folder, index)
    first = dest / next(iter(images))
    for index in (0, 7):
        shutil.copyfile(first / f"img_{index:03d}.jpg", first / f"IMG_{index:03d}_copy.jpg")  # the same photo twice
    _write(next(iter(images.values()))[0].convert("RGB").resize((20, 20)), first / "img_tiny.jpg")  # a thumbnail
    whole = (first / "img_006.jpg").read_bytes()
    (first / CORRUPT_NAME).write_bytes(whole[: len(whole) // 3])                 # an upload cut short
    (dest / "notes.txt").write_text("where these photos came from\n")            # not an image, not a class
    return dest
