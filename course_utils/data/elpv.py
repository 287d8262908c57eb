"""Real images, offline: the ELPV solar cells (PyPI `elpv-dataset`), 2,624 electroluminescence images of
300 x 300 px, 8-bit grayscale, from 44 modules, each with a defect probability (0, 1/3, 2/3, 1) and a module type.

Read as a dataset with ImageFolder's attributes, in two label schemes; split stratified by level and type as the
dataset's paper did (75 / 25); written as class folders for lesson 09 and `course train` (`course data elpv DIR`).
Images: CC BY-NC-SA 4.0 (not for commercial use); the reader's code: Apache-2.0.
"""
from __future__ import annotations

import random
import shutil
from collections import Counter
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from ..paths import atomic_write
from .folders import open_rgb
from .generated import cache_dir

PACKAGE = "elpv-dataset"
PINNED = "1.0.0.post1"
CELLS = 2624
# The levels' names sort in level order; ImageFolder over written binary folders sorts "defective" first (index 0),
# where this reader puts it second (1, the positive class a recall is about): compare by name, not by index.
SCHEMES = {"binary": ("functional", "defective"), "levels": ("0_of_3", "1_of_3", "2_of_3", "3_of_3")}
LICENCE = ("The ELPV images are licensed under CC BY-NC-SA 4.0 (attribution, non-commercial, share-alike); the "
           "dataset's code under Apache-2.0. https://github.com/zae-bayern/elpv-dataset")
CITATIONS = (
    "Buerhop-Lutz, C., Deitsch, S., Maier, A., Gallwitz, F., Berger, S., Doll, B., Hauch, J., Camus, C., Brabec, "
    "C. J.: A Benchmark for Visual Identification of Defective Solar Cells in Electroluminescence Imagery. 35th "
    "EU PVSEC, 2018, 1287-1289. doi:10.4229/35thEUPVSEC20182018-5CV.3.15",
    "Deitsch, S., Buerhop-Lutz, C., Sovetkin, E., Steland, A., Maier, A., Gallwitz, F., Riess, C.: Segmentation of "
    "photovoltaic module cells in uncalibrated electroluminescence images. Machine Vision and Applications 32(4), "
    "2021. doi:10.1007/s00138-021-01191-9",
    "Deitsch, S., Christlein, V., Berger, S., Buerhop-Lutz, C., Maier, A., Gallwitz, F., Riess, C.: Automatic "
    "classification of defective photovoltaic module cells in electroluminescence images. Solar Energy 185, "
    "455-468, 2019. doi:10.1016/j.solener.2019.02.067",
)


class ElpvMissing(RuntimeError):
    """The `elpv-dataset` package is not installed (or incomplete)."""


@dataclass(frozen=True)
class Cell:
    """One labelled image: its file, the defect probability the experts gave (0, 1/3, 2/3 or 1), its module type."""

    path: Path
    probability: float
    type: str

    @property
    def level(self) -> int:
        """0, 1, 2 or 3: the probability in thirds."""
        return round(self.probability * 3)

    @property
    def defective(self) -> bool:
        """The binary label: defective when the probability is at least 0.5 (2/3 and 1)."""
        return self.probability >= 0.5


def elpv_folder() -> Path:
    """The installed package's folder of images and labels.csv; ElpvMissing (saying how to install) otherwise."""
    try:
        folder = Path(str(resources.files("elpv_dataset") / "data"))
    except ModuleNotFoundError:
        folder = None
    if folder is None or not (folder / "labels.csv").is_file():
        raise ElpvMissing(f"The solar-cell images come from the PyPI package {PACKAGE}, which is not installed here: "
                          f"run `make lab` (or `pip install {PACKAGE}=={PINNED}`), then try again.")
    return folder


def installed_version() -> str | None:
    """The installed elpv-dataset's version, or None."""
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        return None


def read_cells(folder: Path | None = None) -> list[Cell]:
    """Every cell of labels.csv, in its order (three columns separated by spaces: path, probability, type)."""
    folder = elpv_folder() if folder is None else Path(folder)
    cells = []
    for number, line in enumerate((folder / "labels.csv").read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            path, probability, kind = line.split()
            cells.append(Cell(folder / path, float(probability), kind))
        except ValueError as exc:
            raise ValueError(f"{folder / 'labels.csv'}, line {number}: expected 'path probability type', "
                             f"got {line[:80]!r}") from exc
    return cells


def _scheme(labels: str) -> tuple[str, ...]:
    if labels not in SCHEMES:
        raise ValueError(f"labels={labels!r}: choose one of {', '.join(map(repr, SCHEMES))}")
    return SCHEMES[labels]


def target_of(cell: Cell, labels: str) -> int:
    """The class index of ``cell`` in a label scheme: binary (0 functional, 1 defective) or levels (0-3)."""
    _scheme(labels)
    return int(cell.defective) if labels == "binary" else cell.level


class SolarCells(Dataset):
    """The ELPV cells as (image, target) pairs, with ImageFolder's ``classes``, ``class_to_idx``, ``samples`` and
    ``targets``, plus each cell's ``types`` (mono / poly) and ``probabilities``. Images open as 3-channel RGB (the
    gray value in each channel), so any ImageNet transform takes them."""

    def __init__(self, labels: str = "binary", transform: Callable | None = None, folder: Path | None = None):
        self.classes = list(_scheme(labels))
        self.labels, self.transform = labels, transform
        self.cells = read_cells(folder)
        self.class_to_idx = {name: index for index, name in enumerate(self.classes)}
        self.targets = [target_of(cell, labels) for cell in self.cells]
        self.samples = [(str(cell.path), target) for cell, target in zip(self.cells, self.targets)]
        self.types = [cell.type for cell in self.cells]
        self.probabilities = [cell.probability for cell in self.cells]

    def __len__(self) -> int:
        return len(self.cells)

    def __getitem__(self, index: int):
        path, target = self.samples[index]
        image = open_rgb(path)
        return (self.transform(image) if self.transform else image), target

    def strata(self) -> list[tuple[int, str]]:
        """Each cell's (level, type): what a stratified split keeps in proportion."""
        return [(cell.level, cell.type) for cell in self.cells]


def stratified_split(strata: list, fractions: dict[str, float], seed: int = 0) -> dict[str, list[int]]:
    """Indices split by ``fractions`` (adding up to 1) so that every stratum is divided in the same proportions:
    each split gets its rounded share of the whole (largest remainders), each stratum its share rounded down or up,
    the cells within a stratum drawn in a seeded order."""
    if not fractions or abs(sum(fractions.values()) - 1) > 1e-9 or min(fractions.values()) < 0:
        raise ValueError(f"fractions {fractions} must be non-negative and add up to 1")
    rng = random.Random(seed)
    groups: dict = {}
    for index, stratum in enumerate(strata):
        groups.setdefault(stratum, []).append(index)
    keys, names = sorted(groups, key=str), list(fractions)
    ideal = {(key, name): len(groups[key]) * fractions[name] for key in keys for name in names}
    counts = {pair: int(share) for pair, share in ideal.items()}
    row_need = {key: len(groups[key]) - sum(counts[key, name] for name in names) for key in keys}
    totals = _apportion(len(strata), fractions)
    column_need = {name: totals[name] - sum(counts[key, name] for key in keys) for name in names}
    # hand out the cells that rounding down left: largest remainder first (seeded ties), at most one more per pair
    pairs = sorted(ideal, key=lambda pair: (-(ideal[pair] - counts[pair]), rng.random()))
    for key, name in pairs:
        if row_need[key] > 0 and column_need[name] > 0 and ideal[key, name] > counts[key, name]:
            counts[key, name] += 1
            row_need[key] -= 1
            column_need[name] -= 1
    for key in keys:  # rarely left over: a stratum whose remainders were all taken; any split still short
        for name in names:
            extra = min(row_need[key], column_need[name])
            counts[key, name] += extra
            row_need[key] -= extra
            column_need[name] -= extra
    split: dict[str, list[int]] = {name: [] for name in names}
    for key in keys:
        members = groups[key][:]
        rng.shuffle(members)
        start = 0
        for name in names:
            split[name] += members[start:start + counts[key, name]]
            start += counts[key, name]
    return {name: sorted(indices) for name, indices in split.items()}


def _apportion(total: int, fractions: dict[str, float]) -> dict[str, int]:
    exact = {name: total * share for name, share in fractions.items()}
    counts = {name: int(value) for name, value in exact.items()}
    for name in sorted(exact, key=lambda n: -(exact[n] - counts[n]))[: total - sum(counts.values())]:
        counts[name] += 1
    return counts


def paper_split(dataset: SolarCells, seed: int = 0) -> dict[str, list[int]]:
    """1,968 training and 656 test cells, stratified by level and type: the sizes of the dataset's paper (its own
    split was not published, so this is one seeded draw of the same design)."""
    return stratified_split(dataset.strata(), {"train": 0.75, "test": 0.25}, seed)


def write_class_folders(target: Path, labels: str = "binary", progress: bool = True) -> dict[str, int]:
    """Copy every cell into ``target/<class>/`` (a new or empty folder) with an ATTRIBUTION.txt; returns the
    number of files per class."""
    dataset = SolarCells(labels)
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise FileExistsError(f"{target} already exists and is not an empty folder: give a new folder")
    for name in dataset.classes:
        (target / name).mkdir(parents=True, exist_ok=True)
    for cell, target_index in tqdm(list(zip(dataset.cells, dataset.targets)), desc="writing cells", unit="image",
                                   disable=not progress, mininterval=1):
        shutil.copyfile(cell.path, target / dataset.classes[target_index] / cell.path.name)
    (target / "ATTRIBUTION.txt").write_text(
        f"{CELLS} solar-cell images from the ELPV dataset ({PACKAGE} {installed_version()}), labels '{labels}'.\n"
        f"{LICENCE}\nPlease cite:\n" + "\n".join(f"- {c}" for c in CITATIONS) + "\n")
    counts = Counter(dataset.classes[t] for t in dataset.targets)
    return {name: counts[name] for name in dataset.classes}


def presized(size: int, progress: bool = True) -> torch.Tensor:
    """Every cell decoded once and resized to ``size`` x ``size`` px: a uint8 tensor [2624, 1, size, size] in
    labels.csv order (the cells are grayscale: one channel), cached on this machine. Training from it skips the
    PNG decoding and resizing that would otherwise be paid again in every epoch."""
    path = cache_dir() / "elpv" / f"pixels-{size}px-{installed_version()}.pt"
    if path.is_file():
        try:
            return torch.load(path, weights_only=True)
        except (OSError, RuntimeError, EOFError) as exc:
            print(f"{path.name} is unreadable ({type(exc).__name__}); decoding the cells again.")
    cells = read_cells()
    pixels = torch.empty(len(cells), 1, size, size, dtype=torch.uint8)
    for index, cell in enumerate(tqdm(cells, desc=f"decoding cells to {size} px", unit="image", disable=not progress,
                                      mininterval=1)):
        with Image.open(cell.path) as image:
            small = image.convert("L").resize((size, size), Image.Resampling.BILINEAR, reducing_gap=None)
        pixels[index, 0] = torch.from_numpy(np.asarray(small).copy())
    atomic_write(path, lambda temporary: torch.save(pixels, temporary))
    return pixels
