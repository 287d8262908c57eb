"""A folder of images to predict as if they were new: held-out test images, a photo of none of the classes, and a
file that does not open."""
from __future__ import annotations

import shutil
from pathlib import Path

from PIL import Image


def new_images_folder(test_samples: list[tuple[str, int]], classes: list[str], folder: str | Path,
                      photo: str | Path | None = None, per_class: int = 2) -> dict[str, str]:
    """Copy the first ``per_class`` test images of every class into ``folder`` (named new_NN<suffix>, so the class
    is not in the name), add ``photo`` (resized to 160 px) and a truncated JPEG; return {copied file: its class}."""
    folder = Path(folder)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    truth: dict[str, str] = {}
    for k, name in enumerate(classes):
        for path, _ in [s for s in test_samples if s[1] == k][:per_class]:
            target = folder / f"new_{len(truth):02d}{Path(path).suffix.lower()}"
            shutil.copyfile(path, target)
            truth[str(target)] = name
    if photo is not None:
        with Image.open(photo) as image:
            image.convert("RGB").resize((128, 160)).save(folder / "photo.jpg")
    (folder / "unfinished.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    return truth
