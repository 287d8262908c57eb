"""Lesson 10's measurements on the ELPV solar cells: the paper's split drawn once per seed, each arm (a way of
classifying cells) scored on the same test cells, paired gaps between arms, and one table and one figure next to
the paper's published figures."""
from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from ..data.elpv import SolarCells, paper_split, stratified_split
from ..data.imbalance import class_weights
from .comparison import Comparison
from .finetune import Run
from .optim import adamw
from .probe import Scores, fit_head, probabilities, scores
from .tta import predict_with_symmetries, symmetries

# Deitsch et al., Solar Energy 2019 (arXiv 1807.02894), abstract: "average accuracy" on 656 test cells.
PAPER = (("paper: VGG-19 fine-tuned (GPU)", 0.8842), ("paper: SVM on hand-made features", 0.8244))
HEAD_GRID = ((10, 1e-4), (30, 1e-4), (30, 1e-1))  # (epochs, weight decay) a head's settings are chosen from


@dataclass
class Seeded:
    """One seed of one arm: its test cells' predictions, defect probabilities and scores, and how it was set up."""

    seed: int
    test: torch.Tensor
    preds: torch.Tensor
    defect_probability: torch.Tensor
    result: Scores
    levels_accuracy: float
    settings: str
    seconds: float
    validation: Scores | None = None  # the chosen settings' scores on the validation cells (head fitted without them)


@dataclass
class Arm:
    """A way of classifying cells, run once per seed."""

    name: str
    seeded: list[Seeded] = field(default_factory=list)

    def mean(self, key: str) -> tuple[float, float]:
        values = [getattr(s.result, key) if key != "levels_accuracy" else s.levels_accuracy for s in self.seeded]
        if any(math.isnan(v) for v in values):
            return math.nan, math.nan
        return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0

    def validation(self, key: str = "accuracy") -> float:
        """The mean over seeds of the validation cells' score (what choosing between arms may look at)."""
        return statistics.fmean(getattr(s.validation, key) for s in self.seeded)

    def run(self, s: Seeded, truth: torch.Tensor) -> Run:
        correct = (s.preds == truth[s.test]).tolist()
        return Run(self.name, s.seed, [], [s.result.accuracy], correct, s.seconds, 0.0, 0.0)


@dataclass(frozen=True)
class Splits:
    """Per seed: the paper's 1,968 training cells (``train``), of which 75 % fit the head (``fit``) and 25 % choose its
    settings (``val``), and the 656 test cells (``test``), each split stratified by level and type."""

    by_seed: dict[int, dict[str, torch.Tensor]]

    @classmethod
    def draw(cls, cells: SolarCells, seeds=(0, 1, 2)) -> "Splits":
        by_seed = {}
        strata = cells.strata()
        for seed in seeds:
            paper = paper_split(cells, seed)
            inner = stratified_split([strata[i] for i in paper["train"]], {"fit": 0.75, "val": 0.25}, seed)
            by_seed[seed] = {"train": torch.tensor(paper["train"]), "test": torch.tensor(paper["test"]),
                             **{name: torch.tensor([paper["train"][i] for i in inner[name]]) for name in inner}}
        return cls(by_seed)

    @property
    def seeds(self) -> list[int]:
        return list(self.by_seed)


def _levels_accuracy(preds4: torch.Tensor, levels: torch.Tensor) -> float:
    return (preds4 == levels).float().mean().item()


def floor_arm(cells: SolarCells, levels: SolarCells, splits: Splits) -> Arm:
    """Every cell called functional (level 0): the majority class."""
    arm, truth, y4 = Arm("always functional"), torch.tensor(cells.targets), torch.tensor(levels.targets)
    for seed, split in splits.by_seed.items():
        test = split["test"]
        preds = torch.zeros(len(test), dtype=torch.long)
        arm.seeded.append(Seeded(seed, test, preds, torch.zeros(len(test)), scores(preds, truth[test], 2),
                                 _levels_accuracy(preds, y4[test]), "no training", 0.0))
    return arm


def _choose(features, y, split, class_weights, num_classes) -> tuple[int, float, Scores]:
    """The (epochs, weight decay) of HEAD_GRID whose head, fitted on ``fit``, has the best balanced accuracy on
    ``val``: chosen without the test cells."""
    best = None
    for epochs, decay in HEAD_GRID:
        head = fit_head(features[split["fit"]], y[split["fit"]], num_classes, seed=0, epochs=epochs,
                        weight_decay=decay, class_weights=class_weights)
        preds = probabilities(head, features[split["val"]]).argmax(1)
        if num_classes == 4:
            preds = (preds >= 2).long()
        score = scores(preds, (y[split["val"]] >= 2).long() if num_classes == 4 else y[split["val"]], 2)
        if best is None or score.balanced_accuracy > best[0]:
            best = (score.balanced_accuracy, epochs, decay, score)
    return best[1], best[2], best[3]


def probe_arm(name: str, features: torch.Tensor, cells: SolarCells, levels: SolarCells, splits: Splits,
              weighted: bool = False, targets: str = "binary", progress: bool = True) -> Arm:
    """A linear head on frozen ``features`` per seed: settings chosen on the validation cells, then fitted on all
    1,968 training cells and scored once on the test cells. ``weighted``: balanced class weights in the loss.
    ``targets="levels"``: the head learns the four levels and a cell counts as defective at level 2 or 3."""
    arm, truth, y4 = Arm(name), torch.tensor(cells.targets), torch.tensor(levels.targets)
    k, y = (4, y4) if targets == "levels" else (2, truth)
    for seed, split in tqdm(splits.by_seed.items(), desc=name, unit="seed", disable=not progress, leave=False):
        start = time.perf_counter()
        weights = class_weights(y[split["train"]], k) if weighted else None
        epochs, decay, validation = _choose(features, y, split, weights, k)
        head = fit_head(features[split["train"]], y[split["train"]], k, seed=seed, epochs=epochs, weight_decay=decay,
                        class_weights=weights)
        p = probabilities(head, features[split["test"]])
        if k == 4:
            preds4, defect = p.argmax(1), p[:, 2:].sum(1)
            preds = (preds4 >= 2).long()
        else:
            defect = p[:, 1]
            preds = p.argmax(1)
            head4 = fit_head(features[split["train"]], y4[split["train"]], 4, seed=seed, epochs=epochs,
                             weight_decay=decay)
            preds4 = probabilities(head4, features[split["test"]]).argmax(1)
        arm.seeded.append(Seeded(seed, split["test"], preds, defect, scores(preds, truth[split["test"]], 2),
                                 _levels_accuracy(preds4, y4[split["test"]]),
                                 f"{epochs} epochs, weight decay {decay:g}", time.perf_counter() - start, validation))
    return arm


class SmallCNN(nn.Module):
    """Three convolution blocks (8, 16, 32 channels) on one-channel cells, pooled, and a linear layer."""

    def __init__(self, num_classes: int = 2):
        super().__init__()
        blocks = []
        for c_in, c_out in ((1, 8), (8, 16), (16, 32)):
            blocks += [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
                       nn.MaxPool2d(2)]
        self.features = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def _as_input(pixels: torch.Tensor) -> torch.Tensor:
    return (pixels.float() / 255 - 0.5) / 0.25


def scratch_arm(pixels: torch.Tensor, cells: SolarCells, splits: Splits, epochs: int = 8, lr: float = 3e-3,
                augment: bool = True, progress: bool = True) -> tuple[Arm, Arm]:
    """SmallCNN trained from random weights on the presized cells (``pixels`` [N, 1, S, S] uint8) for ``epochs``
    epochs per seed, each batch turned by a random one of the 8 symmetries of a square when ``augment``. Two arms:
    its plain predictions, and its predictions averaged over the 8 symmetries of each test cell (TTA)."""
    name = "small CNN from scratch" + (", symmetries" if augment else "")
    arm, tta, truth = Arm(name), Arm(name + " + TTA"), torch.tensor(cells.targets)
    x = _as_input(pixels)
    bar = tqdm(total=len(splits.seeds) * epochs, desc=name, unit="epoch", disable=not progress)
    for seed, split in splits.by_seed.items():
        start = time.perf_counter()
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            model = SmallCNN(2)
            optimizer = adamw(model.parameters(), lr=lr, weight_decay=1e-4)
            order = torch.Generator().manual_seed(seed)
            train = split["train"]
            for _ in range(epochs):
                model.train()
                for batch in train[torch.randperm(len(train), generator=order)].split(64):
                    inputs = x[batch]
                    if augment:
                        inputs = symmetries(inputs)[int(torch.randint(8, (1,), generator=order))]
                    optimizer.zero_grad()
                    F.cross_entropy(model(inputs), truth[batch]).backward()
                    optimizer.step()
                bar.update()
            model.eval()
            with torch.no_grad():
                p = model(x[split["test"]]).softmax(1)
            seconds = time.perf_counter() - start
            averaged = predict_with_symmetries(model, x[split["test"]])
        for target, probability in ((arm, p), (tta, averaged)):
            preds = probability.argmax(1)
            target.seeded.append(Seeded(seed, split["test"], preds, probability[:, 1],
                                        scores(preds, truth[split["test"]], 2), math.nan,
                                        f"{epochs} epochs, lr {lr:g}", seconds))
    bar.close()
    return arm, tta


def comparison(arms: list[Arm], cells: SolarCells) -> Comparison:
    """The arms as a lesson-07 Comparison (one 'epoch': the test accuracy), for paired, seed-aware gaps."""
    truth = torch.tensor(cells.targets)
    return Comparison([arm.run(s, truth) for arm in arms for s in arm.seeded], epochs=1)


def table(arms: list[Arm]) -> str:
    """Accuracy, balanced accuracy, defective recall and precision (mean ± SD over the seeds), 4-level accuracy."""
    width = max(len(arm.name) for arm in arms) + 2
    head = (f"{'arm':{width}s}{'accuracy':>15s}{'balanced':>15s}{'defect recall':>15s}{'precision':>15s}"
            f"{'4 levels':>10s}")
    lines = [head, "-" * len(head)]
    for arm in arms:
        cols = []
        for key in ("accuracy", "balanced_accuracy", "recall", "precision"):
            mean, sd = arm.mean(key)
            cols.append(f"{mean:.3f} ± {sd:.3f}" if not math.isnan(mean) else "–")
        levels, _ = arm.mean("levels_accuracy")
        lines.append(f"{arm.name:{width}s}" + "".join(f"{c:>15s}" for c in cols)
                     + (f"{levels:>10.3f}" if not math.isnan(levels) else f"{'–':>10s}"))
    for name, value in PAPER:
        lines.append(f"{name:{width}s}{value:>15.4f}{'(as published; see the protocol above)':>45s}")
    return "\n".join(lines)
