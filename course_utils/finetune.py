"""Fine-tuning strategies compared fairly: same data, seeds and epochs; frozen parts cached; backbone drift measured.

Each strategy trains a ResNet-18 with a fresh head on preprocessed tensors (no augmentation, so the frozen
part of the network computes the same outputs in every epoch and is run only once: cached features for
head-only, cached layer3 outputs for the last block). Results are plain data; the lesson prints and plots them.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torchvision.models import resnet18

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
    Strategy("last block, high lr", pretrained=True, trains="layer4", head_lr=3e-3, backbone_lr=3e-3),
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

    def clear_cache(self) -> None:
        """Forget cached frozen-layer outputs, so that the next run that needs them pays for computing them."""
        self._cache.clear()


def preprocess(dataset, batch_size: int = 125) -> TensorDataset:
    """Every (image, label) of a dataset with its (deterministic) transform applied once, as tensors."""
    return extract_features(nn.Identity(), DataLoader(dataset, batch_size=batch_size))


def relative_change(before: dict[str, torch.Tensor], model: nn.Module, prefix: str) -> float:
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
    """One strategy trained with one seed: accuracies per epoch (training accuracy as seen during the epoch,
    Dropout on), which validation images the final model got right, seconds, and how far layer1 and layer4 moved."""

    strategy: str
    seed: int
    train_accuracy: list[float]
    val_accuracy: list[float]
    val_correct: list[bool]
    seconds: float
    drift: float
    drift_layer4: float


def _cached_part(data: ComparisonData, model: nn.Module, strategy: Strategy) -> tuple[nn.Module, tuple]:
    """The part of the model that trains, and (train, val) inputs for it: cached when the rest is frozen."""
    if strategy.trains == "all":
        return model, (data.train, data.val)
    at = "fc" if strategy.trains == "head" else "layer4"
    below, above = split_resnet(model, at)
    if not strategy.pretrained:  # random frozen layers differ with every seed
        return above, _outputs(below, data)
    if at not in data._cache:  # frozen pretrained layers compute the same for every seed
        data._cache[at] = _outputs(below, data)
    return above, data._cache[at]


def _outputs(below: nn.Module, data: ComparisonData) -> tuple[TensorDataset, TensorDataset]:
    """What the frozen part computes for the training and the validation images."""
    return (extract_features(below, DataLoader(data.train, batch_size=100)),
            extract_features(below, DataLoader(data.val, batch_size=125)))


def train_strategy(data: ComparisonData, strategy: Strategy, seed: int, epochs: int, cached: bool = True,
                   frozen_bn: str = "eval") -> Run:
    """Train one strategy from one seed for ``epochs`` epochs; frozen layers are run once when ``cached``."""
    return fine_tune(data, strategy, seed, epochs, cached, frozen_bn)[1]


def fine_tune(data: ComparisonData, strategy: Strategy, seed: int, epochs: int, cached: bool = True,
              frozen_bn: str = "eval") -> tuple[nn.Module, Run]:
    """The trained model (in eval mode) and its Run: one strategy from one seed, frozen layers run once when
    ``cached``; frozen_bn="train" lets frozen BatchNorm layers update their statistics (only without the cache)."""
    if cached and frozen_bn != "eval":
        raise ValueError("frozen_bn='train' changes the frozen layers, so their outputs cannot be cached: "
                         "pass cached=False")
    model = new_model(data, strategy, seed)
    before = {n: p.detach().clone() for n, p in model.named_parameters() if n.startswith(("layer1.", "layer4."))}
    start = time.perf_counter()
    part, (train, val) = _cached_part(data, model, strategy) if cached else (model, (data.train, data.val))
    optimizer = torch.optim.AdamW(param_groups(model, strategy.head_lr, strategy.backbone_lr),
                                  weight_decay=data.weight_decay)
    loader = DataLoader(train, batch_size=data.batch_size, shuffle=True, generator=torch.Generator().manual_seed(seed))
    torch.manual_seed(seed)  # Dropout's masks: the same whether or not caching above drew random numbers
    history = fit(part, loader, DataLoader(val, batch_size=125), optimizer, epochs, progress=False, frozen_bn=frozen_bn)
    seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        correct = (part(val.tensors[0]).argmax(1) == val.tensors[1]).tolist()
    return model, Run(strategy.name, seed, history.train_accuracy, history.val_accuracy, correct, seconds,
                      relative_change(before, model, "layer1."), relative_change(before, model, "layer4."))


def backbone_state(model: nn.Module) -> dict:
    """A copy of a ResNet's state dict without its head: the starting point every pretrained strategy loads."""
    return copy.deepcopy({k: v.detach() for k, v in model.state_dict().items() if not k.startswith("fc.")})
