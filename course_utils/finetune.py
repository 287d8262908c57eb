"""Fine-tuning strategies compared fairly: same data, seeds and epochs; frozen parts cached; backbone drift measured.

Each strategy trains a ResNet-18 with a fresh head on preprocessed tensors (no augmentation, so the frozen
part of the network computes the same outputs in every epoch and is run only once: cached features for
head-only, cached layer3 outputs for the last block). Results are plain data; the lesson prints and plots them.
"""
from __future__ import annotations

import copy
import statistics
import time
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torchvision.models import resnet18
from tqdm.auto import tqdm

from .features import extract_features
from .models import new_head, split_resnet
from .training import fit

TRAINS = ("head", "layer4", "all")  # what a strategy trains: the head, the last block and the head, everything


@dataclass(frozen=True)
class Strategy:
    """How to fine-tune: pretrained or random start, what trains, and the learning rates of head and backbone."""

    name: str
    pretrained: bool
    trains: str
    head_lr: float
    backbone_lr: float = 0.0

    def __post_init__(self):
        if self.trains not in TRAINS:
            raise ValueError(f"trains={self.trains!r}; choose one of {', '.join(TRAINS)}")


STRATEGIES = (
    Strategy("scratch", pretrained=False, trains="all", head_lr=1e-3, backbone_lr=1e-3),
    Strategy("head only", pretrained=True, trains="head", head_lr=1e-3),
    Strategy("last block + head", pretrained=True, trains="layer4", head_lr=1e-3, backbone_lr=1e-4),
    Strategy("full, low lr", pretrained=True, trains="all", head_lr=1e-3, backbone_lr=1e-4),
    Strategy("full, high lr", pretrained=True, trains="all", head_lr=3e-3, backbone_lr=3e-3),
)


@dataclass
class ComparisonData:
    """Preprocessed train and validation tensors, the pretrained weights, and the training settings shared by all."""

    train: TensorDataset
    val: TensorDataset
    num_classes: int
    pretrained_state: dict
    batch_size: int = 20
    dropout: float = 0.2
    weight_decay: float = 1e-4
    _cache: dict = field(default_factory=dict, repr=False)


def preprocess(dataset, batch_size: int = 125) -> TensorDataset:
    """Every (image, label) of a dataset with its (deterministic) transform applied once, as tensors."""
    return extract_features(nn.Identity(), DataLoader(dataset, batch_size=batch_size))


def relative_change(before: dict[str, torch.Tensor], model: nn.Module, prefix: str = "layer1.") -> float:
    """||W - W0|| / ||W0|| over the weights under ``prefix``: how far training moved that part of the network."""
    params = dict(model.named_parameters())
    names = [n for n in before if n.startswith(prefix) and n in params]
    moved = torch.cat([(params[n].detach().cpu() - before[n]).flatten() for n in names])
    start = torch.cat([before[n].flatten() for n in names])
    return (moved.norm() / start.norm()).item()


def new_model(data: ComparisonData, strategy: Strategy, seed: int) -> nn.Module:
    """ResNet-18 (pretrained or random, by seed) with a fresh head, frozen except what the strategy trains."""
    torch.manual_seed(seed)
    model = resnet18()
    model.fc = new_head(model.fc.in_features, data.num_classes, data.dropout)
    if strategy.pretrained:
        missing, unexpected = model.load_state_dict(data.pretrained_state, strict=False)
        if unexpected or any(not name.startswith("fc.") for name in missing):
            raise ValueError(f"the pretrained state does not fit resnet18: missing {missing}, unexpected {unexpected}")
    open_prefixes = {"head": ("fc.",), "layer4": ("fc.", "layer4."), "all": ("",)}[strategy.trains]
    for name, parameter in model.named_parameters():
        parameter.requires_grad = name.startswith(open_prefixes)
    return model


def param_groups(model: nn.Module, head_lr: float, backbone_lr: float) -> list[dict]:
    """Two optimizer groups over the trainable parameters: the head (fc) at head_lr, the rest at backbone_lr."""
    head = [p for n, p in model.named_parameters() if p.requires_grad and n.startswith("fc.")]
    body = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("fc.")]
    return [group for group in ({"params": head, "lr": head_lr}, {"params": body, "lr": backbone_lr}) if group["params"]]


@dataclass(frozen=True)
class Run:
    """One strategy trained with one seed: accuracies per epoch, training seconds, layer1's relative drift."""

    strategy: str
    seed: int
    train_accuracy: list[float]
    val_accuracy: list[float]
    seconds: float
    drift: float


def _cached_part(data: ComparisonData, model: nn.Module, strategy: Strategy) -> tuple[nn.Module, tuple]:
    """The part of the model that trains, and (train, val) inputs for it: cached when the rest is frozen."""
    if strategy.trains == "all":
        return model, (data.train, data.val)
    at = "fc" if strategy.trains == "head" else "layer4"
    below, above = split_resnet(model, at)
    if strategy.pretrained and at not in data._cache:  # frozen pretrained layers compute the same for every seed
        data._cache[at] = (extract_features(below, DataLoader(data.train, batch_size=100)),
                           extract_features(below, DataLoader(data.val, batch_size=125)))
    cached = data._cache[at] if strategy.pretrained else (extract_features(below, DataLoader(data.train, batch_size=100)),
                                                          extract_features(below, DataLoader(data.val, batch_size=125)))
    return above, cached


def train_strategy(data: ComparisonData, strategy: Strategy, seed: int, epochs: int, cached: bool = True) -> Run:
    """Train one strategy from one seed for ``epochs`` epochs; frozen layers are run once when ``cached``."""
    return fine_tune(data, strategy, seed, epochs, cached)[1]


def fine_tune(data: ComparisonData, strategy: Strategy, seed: int, epochs: int,
              cached: bool = True) -> tuple[nn.Module, Run]:
    """The trained model and its Run: one strategy from one seed (frozen layers run once when ``cached``)."""
    model = new_model(data, strategy, seed)
    before = {n: p.detach().clone() for n, p in model.named_parameters() if n.startswith("layer1.")}
    start = time.perf_counter()
    part, (train, val) = _cached_part(data, model, strategy) if cached else (model, (data.train, data.val))
    optimizer = torch.optim.AdamW(param_groups(model, strategy.head_lr, strategy.backbone_lr),
                                  weight_decay=data.weight_decay)
    loader = DataLoader(train, batch_size=data.batch_size, shuffle=True, generator=torch.Generator().manual_seed(seed))
    torch.manual_seed(seed)  # Dropout's masks: the same whether or not caching above drew random numbers
    history = fit(part, loader, DataLoader(val, batch_size=125), optimizer, epochs, progress=False)
    return model, Run(strategy.name, seed, history.train_accuracy, history.val_accuracy,
                      time.perf_counter() - start, relative_change(before, model))


@dataclass(frozen=True)
class Summary:
    """Mean and standard deviation over seeds of a strategy's final validation accuracy, with cost and drift."""

    strategy: str
    mean: float
    std: float
    final: list[float]
    train_accuracy: float
    seconds: float
    drift: float


@dataclass
class Comparison:
    """Every run of every strategy; summaries and a plot of validation accuracy per epoch."""

    runs: list[Run]
    epochs: int

    def summary(self) -> list[Summary]:
        names = list(dict.fromkeys(r.strategy for r in self.runs))
        rows = []
        for name in names:
            runs = [r for r in self.runs if r.strategy == name]
            final = [r.val_accuracy[-1] for r in runs]
            rows.append(Summary(name, statistics.fmean(final), statistics.stdev(final) if len(final) > 1 else 0.0,
                                final, statistics.fmean(r.train_accuracy[-1] for r in runs),
                                statistics.fmean(r.seconds for r in runs), statistics.fmean(r.drift for r in runs)))
        return rows

    def __getitem__(self, name: str) -> Summary:
        for row in self.summary():
            if row.strategy == name:
                return row
        raise KeyError(f"no strategy {name!r}; choose one of {', '.join(r.strategy for r in self.summary())}")

    def table(self) -> str:
        header = (f"{'strategy':20s} {'val accuracy':>15s} {'per seed':>20s} {'train acc':>9s} "
                  f"{'s per run':>9s} {'layer1 moved':>12s}")
        lines = [header, "-" * len(header)]
        for row in self.summary():
            seeds = " ".join(f"{a:.3f}" for a in row.final)
            lines.append(f"{row.strategy:20s} {row.mean:>8.3f} ± {row.std:.3f} {seeds:>20s} "
                         f"{row.train_accuracy:>9.3f} {row.seconds:>9.1f} {row.drift:>12.1%}")
        return "\n".join(lines)

    def plot(self, title: str = "") -> None:
        import matplotlib.pyplot as plt

        from .plots import show_figure

        figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2), dpi=80, gridspec_kw={"width_ratios": [3, 2]})
        epochs = range(1, self.epochs + 1)
        rows = self.summary()
        for row, marker in zip(rows, "ovs^Dx*"):
            curves = torch.tensor([r.val_accuracy for r in self.runs if r.strategy == row.strategy])
            low, high = curves.min(0).values, curves.max(0).values
            line, = left.plot(epochs, curves.mean(0), marker=marker, markersize=4, label=row.strategy)
            left.fill_between(epochs, low, high, color=line.get_color(), alpha=0.15)
        left.set(xlabel="epoch", ylabel="validation accuracy", ylim=(0, 1),
                 title="mean over seeds; band: lowest to highest seed")
        left.title.set_fontsize(9)
        left.legend(fontsize=7, loc="center right")
        right.barh([r.strategy for r in rows], [r.drift for r in rows], color="#888")
        for y, row in enumerate(rows):
            right.text(row.drift, y, f" {row.drift:.1%}", va="center", fontsize=8)
        right.set(xlabel="layer1 weights moved, ||W - W0|| / ||W0||", xlim=(0, max(r.drift for r in rows) * 1.3 or 1))
        right.invert_yaxis()
        if title:
            figure.suptitle(title, fontsize=10)
        figure.tight_layout()
        show_figure(figure)


def compare(data: ComparisonData, strategies=STRATEGIES, seeds=(0, 1, 2), epochs: int = 10,
            progress: bool = True) -> Comparison:
    """Train every strategy from every seed; one progress bar over all runs."""
    runs = []
    jobs = [(s, seed) for s in strategies for seed in seeds]
    for strategy, seed in tqdm(jobs, desc="runs", disable=not progress):
        runs.append(train_strategy(data, strategy, seed, epochs))
    return Comparison(runs, epochs)


def backbone_state(model: nn.Module) -> dict:
    """A copy of a ResNet's state dict without its head: the starting point every pretrained strategy loads."""
    return copy.deepcopy({k: v.detach() for k, v in model.state_dict().items() if not k.startswith("fc.")})
