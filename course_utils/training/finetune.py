"""Fine-tuning strategies compared fairly: same data, seeds and epochs; frozen parts cached; backbone drift measured.

Each strategy trains a ResNet-18 with a fresh head on preprocessed tensors. Without augmentation the frozen part
of the network computes the same outputs in every epoch and is run only once (cached features for head-only,
cached layer3 outputs for the last block); an augmented strategy sees new random crops of the training images
in every epoch, so it runs the whole network every time. A two-phase strategy trains the head alone first,
then opens the last block. Results are plain data; the lesson prints and plots them.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field, replace

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset, TensorDataset
from torchvision import transforms
from torchvision.models import resnet18

from ..models.features import extract_features
from ..models.heads import new_head, split_resnet
from .loop import fit
from .optim import adamw

TRAINS = ("head", "layer4", "all")  # what a strategy trains: the head, the last block and the head, everything


@dataclass(frozen=True)
class Strategy:
    """How to fine-tune: pretrained or random start, what trains, the learning rates of head and backbone, how
    many first epochs train the head alone (two-phase), and whether the training images are augmented."""

    name: str
    pretrained: bool
    trains: str
    head_lr: float
    backbone_lr: float = 0.0
    head_epochs: int = 0
    augment: bool = False

    def __post_init__(self):
        if self.trains not in TRAINS:
            raise ValueError(f"trains={self.trains!r}; choose one of {', '.join(TRAINS)}")
        if self.head_epochs < 0 or (self.head_epochs and self.trains == "head"):
            raise ValueError(f"head_epochs={self.head_epochs} with trains={self.trains!r}: a head-first phase "
                             f"needs something to open after it (trains='layer4' or 'all') and a count >= 0")

    def phases(self, epochs: int) -> list[tuple[str, int]]:
        """(what trains, epochs) in order: the head alone for head_epochs, then what the strategy trains."""
        if self.head_epochs >= epochs:
            raise ValueError(f"head_epochs={self.head_epochs} leaves no epoch of the {epochs} for the second phase")
        first = [("head", self.head_epochs)] if self.head_epochs else []
        return first + [(self.trains, epochs - self.head_epochs)]


STRATEGIES = (
    Strategy("scratch", pretrained=False, trains="all", head_lr=1e-3, backbone_lr=1e-3),
    Strategy("head only", pretrained=True, trains="head", head_lr=1e-3),
    Strategy("last block + head", pretrained=True, trains="layer4", head_lr=1e-3, backbone_lr=1e-4),
    Strategy("two-phase", pretrained=True, trains="layer4", head_lr=1e-3, backbone_lr=1e-4, head_epochs=3),
    Strategy("last block, high lr", pretrained=True, trains="layer4", head_lr=1e-3, backbone_lr=3e-3),
    Strategy("full, low lr", pretrained=True, trains="all", head_lr=1e-3, backbone_lr=1e-4),
    Strategy("full, high lr", pretrained=True, trains="all", head_lr=1e-3, backbone_lr=3e-3),
)


def strategy_named(name: str) -> Strategy:
    """The strategy of STRATEGIES called ``name``, e.g. "last block + head"."""
    for strategy in STRATEGIES:
        if strategy.name == name:
            return strategy
    raise KeyError(f"no strategy {name!r}; choose one of {', '.join(repr(s.name) for s in STRATEGIES)}")


def augmented(strategy: Strategy) -> Strategy:
    """The same strategy trained on randomly augmented images (new crops and flips in every epoch)."""
    return replace(strategy, name=f"{strategy.name}, augmented", augment=True)


def train_augmentation(preset) -> transforms.Compose:
    """Lesson 04's train_tf for a preset: a random crop of 60-100% of the image at the preset's size, a random
    horizontal flip, then the preset's own scaling and normalisation."""
    size = preset.crop_size[0] if isinstance(preset.crop_size, (list, tuple)) else preset.crop_size
    return transforms.Compose([transforms.RandomResizedCrop(size, scale=(0.6, 1.0), antialias=True),
                               transforms.RandomHorizontalFlip(), transforms.ToTensor(),
                               transforms.Normalize(preset.mean, preset.std)])


@dataclass
class ComparisonData:
    """Preprocessed train and validation tensors, the pretrained weights, and the training settings shared by all;
    ``augmented_train`` (the training images with a random transform) is what augmented strategies train on."""

    train: TensorDataset
    val: TensorDataset
    num_classes: int
    pretrained_state: dict
    augmented_train: Dataset | None = None
    batch_size: int = 20
    dropout: float = 0.2
    weight_decay: float = 1e-4
    watch_per_class: int | None = 20
    _cache: dict = field(default_factory=dict, repr=False)

    def watched(self) -> torch.Tensor:
        """Positions of the validation images the per-epoch curve is measured on: the first ``watch_per_class``
        of every class (every image when None). The final accuracy is always measured on all of them."""
        return first_per_class(self.val.tensors[1], self.watch_per_class)

    def clear_cache(self) -> None:
        """Forget cached frozen-layer outputs, so that the next run that needs them pays for computing them."""
        self._cache.clear()


def first_per_class(labels: torch.Tensor, per_class: int | None) -> torch.Tensor:
    """Positions of the first ``per_class`` samples of every class in ``labels``, in order (all when None)."""
    if per_class is None:
        return torch.arange(len(labels))
    keep = [position for cls in labels.unique().tolist()
            for position in (labels == cls).nonzero().flatten().tolist()[:per_class]]
    return torch.tensor(sorted(keep), dtype=torch.long)


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
    _open(model, strategy.trains)
    return model


def _open(model: nn.Module, trains: str) -> None:
    """Make exactly the parameters of what ``trains`` names trainable, and freeze the rest."""
    open_prefixes = {"head": ("fc.",), "layer4": ("fc.", "layer4."), "all": ("",)}[trains]
    for name, parameter in model.named_parameters():
        parameter.requires_grad = name.startswith(open_prefixes)


def param_groups(model: nn.Module, head_lr: float, backbone_lr: float) -> list[dict]:
    """Two optimizer groups over the trainable parameters: the head (fc) at head_lr, the rest at backbone_lr."""
    head = [p for n, p in model.named_parameters() if p.requires_grad and n.startswith("fc.")]
    body = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("fc.")]
    return [group for group in ({"params": head, "lr": head_lr}, {"params": body, "lr": backbone_lr}) if group["params"]]


@dataclass(frozen=True)
class Run:
    """One strategy trained with one seed: accuracies per epoch (training accuracy as seen during the epoch,
    Dropout on; validation accuracy on the watched validation images, ComparisonData.watched), which of all the
    validation images the final model got right, seconds, and how far layer1 and layer4 moved."""

    strategy: str
    seed: int
    train_accuracy: list[float]
    val_accuracy: list[float]
    val_correct: list[bool]
    seconds: float
    drift: float
    drift_layer4: float

    @property
    def accuracy(self) -> float:
        """The final model's accuracy on every validation image (the per-epoch curve watches fewer)."""
        return sum(self.val_correct) / len(self.val_correct)


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
    """What the frozen part computes for the training and the validation images. The loaders get their own
    generators, so that building a cache draws nothing from the global random stream a run depends on."""
    return (extract_features(below, DataLoader(data.train, batch_size=100, generator=torch.Generator())),
            extract_features(below, DataLoader(data.val, batch_size=125, generator=torch.Generator())))


def train_strategy(data: ComparisonData, strategy: Strategy, seed: int, epochs: int, cached: bool = True,
                   frozen_bn: str = "eval", progress: bool = True) -> Run:
    """Train one strategy from one seed for ``epochs`` epochs; frozen layers are run once when ``cached``."""
    return fine_tune(data, strategy, seed, epochs, cached, frozen_bn, progress)[1]


def fine_tune(data: ComparisonData, strategy: Strategy, seed: int, epochs: int, cached: bool = True,
              frozen_bn: str = "eval", progress: bool = True) -> tuple[nn.Module, Run]:
    """The trained model (in eval mode) and its Run: one strategy from one seed, frozen layers run once when
    ``cached`` (never for an augmented strategy, whose inputs change every epoch); frozen_bn="train" lets frozen
    BatchNorm layers update their statistics (only without the cache). ``progress``: a bar over the epochs."""
    if cached and frozen_bn != "eval":
        raise ValueError("frozen_bn='train' changes the frozen layers, so their outputs cannot be cached: "
                         "pass cached=False")
    if strategy.augment and data.augmented_train is None:
        raise ValueError(f"{strategy.name!r} trains on augmented images: build ComparisonData with "
                         f"augmented_train=ImageFolder(root / 'train', transform=train_augmentation(preset))")
    cached = cached and not strategy.augment
    watch = data.watched()
    model = new_model(data, strategy, seed)
    before = {n: p.detach().clone() for n, p in model.named_parameters() if n.startswith(("layer1.", "layer4."))}
    order = torch.Generator().manual_seed(seed)  # one shuffling stream across the phases
    start = time.perf_counter()
    torch.manual_seed(seed)  # Dropout's masks and the augmentation: the same whether or not caching drew numbers
    train_accuracy, val_accuracy = [], []
    for trains, phase_epochs in strategy.phases(epochs):
        phase = replace(strategy, trains=trains, head_epochs=0)
        _open(model, trains)
        part, (train, val) = _cached_part(data, model, phase) if cached else (model, (data.train, data.val))
        if strategy.augment:
            train = data.augmented_train
        optimizer = adamw(param_groups(model, strategy.head_lr, strategy.backbone_lr), weight_decay=data.weight_decay)
        loader = DataLoader(train, batch_size=data.batch_size, shuffle=True, generator=order)
        history = fit(part, loader, DataLoader(Subset(val, watch.tolist()), batch_size=125), optimizer, phase_epochs,
                      progress=progress, frozen_bn=frozen_bn)
        train_accuracy += history.train_accuracy
        val_accuracy += history.val_accuracy
    seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        correct = (part(val.tensors[0]).argmax(1) == val.tensors[1]).tolist()
    return model, Run(strategy.name, seed, train_accuracy, val_accuracy, correct, seconds,
                      relative_change(before, model, "layer1."), relative_change(before, model, "layer4."))


def train_head(name: str, data: ComparisonData, train: TensorDataset, val: TensorDataset, seed: int, epochs: int,
               lr: float = 1e-3, progress: bool = False) -> Run:
    """A fresh head (Dropout + Linear) trained on another backbone's cached features, with everything else as the
    head-only strategy: the same seed, batch size, shuffling, optimizer (AdamW, weight decay), epochs and
    validation images in the same order, so its Run pairs with the others'. Nothing else moves: drift 0."""
    if len(val) != len(data.val) or not torch.equal(val.tensors[1], data.val.tensors[1]):
        raise ValueError(f"{len(val)} validation features whose labels are not those of the {len(data.val)} "
                         "validation images in order: the same images, in the same order, must judge every strategy")
    torch.manual_seed(seed)
    head = new_head(train.tensors[0].shape[1], data.num_classes, data.dropout)
    order = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    optimizer = adamw(head.parameters(), lr=lr, weight_decay=data.weight_decay)
    history = fit(head, DataLoader(train, batch_size=data.batch_size, shuffle=True, generator=order),
                  DataLoader(Subset(val, data.watched().tolist()), batch_size=125), optimizer, epochs, progress=progress)
    seconds = time.perf_counter() - start
    head.eval()
    with torch.no_grad():
        correct = (head(val.tensors[0]).argmax(1) == val.tensors[1]).tolist()
    return Run(name, seed, history.train_accuracy, history.val_accuracy, correct, seconds, 0.0, 0.0)


def backbone_state(model: nn.Module) -> dict:
    """A copy of a ResNet's state dict without its head: the starting point every pretrained strategy loads."""
    return copy.deepcopy({k: v.detach() for k, v in model.state_dict().items() if not k.startswith("fc.")})
