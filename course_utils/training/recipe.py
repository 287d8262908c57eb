"""The fine-tuning recipe for your own images, in pipeline order: a pretrained network with a new head, the head
trained first and then the last block (lesson 07's two-phase recipe) on the frozen trunk's outputs computed once, a
constant (or cosine) learning rate in each phase, the best epoch kept on disk by validation accuracy, every epoch
resumable; then predictions for a folder written to a CSV file."""
from __future__ import annotations

import csv
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from ..models.backbone import atomic_save
from ..paths import atomic_write
from ..data.folders import OPEN_ERRORS, open_rgb
from ..models.finetunable import (BACKBONES, Backbone, backbone_of, default_backbone, feature_extractor,  # noqa: F401
                                  new_model)
from .distributed import World, barrier, epoch_loader, fault_point, shard, summed
from .loop import Metrics, Placement, evaluate, get_device, train_one_epoch
from .optim import adamw
from .rates import SCHEDULES, schedule
from .trunk_cache import TrunkCache

PHASES = ("head", "last block")
BATCHNORM = ("train", "frozen")  # the last block's BatchNorm: batch statistics while it trains, or its pretrained ones


@dataclass(frozen=True)
class Recipe:
    """Epochs per phase, learning rates (the head's, then the last block's in phase 2), batch size, seed, and how
    many versions of each training image the frozen trunk computes once: the first as validation sees it, the others
    randomly augmented (epoch e trains on version e, cycling)."""

    head_epochs: int = 3
    block_epochs: int = 5
    head_lr: float = 1e-3
    backbone_lr: float = 1e-4
    weight_decay: float = 1e-4
    batch_size: int = 32
    seed: int = 0
    versions: int = 2
    schedule: str = "constant"
    batchnorm: str = "train"

    def __post_init__(self):
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule={self.schedule!r}: choose one of {', '.join(map(repr, SCHEDULES))}")
        if self.batchnorm not in BATCHNORM:
            raise ValueError(f"batchnorm={self.batchnorm!r}: choose one of {', '.join(map(repr, BATCHNORM))}")

    @property
    def epochs(self) -> int:
        return self.head_epochs + self.block_epochs

    def phase(self, epoch: int) -> str:
        """The phase epoch ``epoch`` (from 1) belongs to."""
        return PHASES[0] if epoch <= self.head_epochs else PHASES[1]


def set_phase(model: nn.Module, phase: str) -> None:
    """Freeze everything but the head ("head"), or everything but the last block and the head ("last block")."""
    if phase not in PHASES:
        raise ValueError(f"phase {phase!r}: choose one of {', '.join(map(repr, PHASES))}")
    parts = backbone_of(model)
    trained = (parts.head + ".",) + (parts.last_block if phase == PHASES[1] else ())
    for name, parameter in model.named_parameters():
        parameter.requires_grad = name.startswith(trained)


def phase_optimizer(model: nn.Module, recipe: Recipe, phase: str):
    """(AdamW over the phase's trainable parameters, the head at head_lr and the last block at backbone_lr; the
    recipe's schedule, stepped once per epoch: cosine from those rates towards 0 over the phase's epochs, or
    constant)."""
    parts = backbone_of(model)
    groups = [{"params": list(getattr(model, parts.head).parameters()), "lr": recipe.head_lr}]
    if phase == PHASES[1]:
        block = [p for name, p in model.named_parameters() if name.startswith(parts.last_block)]
        groups.append({"params": block, "lr": recipe.backbone_lr})
    optimizer = adamw(groups, weight_decay=recipe.weight_decay)
    epochs = recipe.head_epochs if phase == PHASES[0] else recipe.block_epochs
    return optimizer, schedule(optimizer, recipe.schedule, epochs)


def _state(model, optimizer, scheduler, recipe, classes, history) -> dict:
    return {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
            "recipe": asdict(recipe), "classes": list(classes), "history": history}


METRICS = ("epoch", "phase", "lr", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "seconds")


def write_metrics(history: list[dict], path: Path) -> None:
    """The history as a CSV file, one row per epoch (the rates of the optimizer's groups joined by '/')."""
    def write(temporary):
        with open(temporary, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=METRICS)
            writer.writeheader()
            for row in history:
                writer.writerow({**{k: row[k] for k in METRICS}, "lr": "/".join(f"{lr:.3g}" for lr in row["lr"])})
    atomic_write(path, write)


def epoch_line(row: dict, epochs: int) -> str:
    """One epoch of a history as a line of text: phase, training and validation loss and accuracy, seconds."""
    return (f"epoch {row['epoch']}/{epochs} {row['phase']:10s} train loss {row['train_loss']:.4f} accuracy "
            f"{row['train_accuracy']:.3f} | validation loss {row['val_loss']:.4f} accuracy {row['val_accuracy']:.3f} "
            f"| {row['seconds']:.1f} s")


def _whole(metrics: Metrics, count: int, world: World) -> Metrics:
    """The loss and accuracy of every process's share together, from this process's ``metrics`` over ``count``."""
    loss, correct, seen = summed([metrics.loss * count, round(metrics.accuracy * count), count], world)
    return Metrics(loss / seen, correct / seen)


def fit_recipe(model: nn.Module, train_set, val_set, recipe: Recipe, folder: str | Path, loss_fn=None,
               fresh: bool = False, stop_after: int | None = None, progress: bool | str = True,
               cache: bool = True, world: World = World(), device=None, placement: Placement | None = None
               ) -> list[dict]:
    """Train ``model`` by ``recipe``, one history row per epoch; after every epoch ``folder``/last.pt holds all that
    is needed to go on, ``folder``/best.pt the weights of the epoch with the best validation accuracy so far
    (the earliest on ties) and ``folder``/metrics.csv the history. Called again, it resumes after the last finished
    epoch (``fresh=True`` starts over). ``stop_after`` stops after that many epochs of this call, as an interruption
    would. ``cache``: the frozen trunk runs once (TrunkCache: ``recipe.versions`` versions of each training image,
    kept in ``folder``; the datasets need ImageFolder's ``samples``, ``loader`` and ``transform``); False runs every
    image through it every epoch. ``world``: one of several processes (torchrun): each trains on its share of
    every epoch's permutation (DistributedDataParallel averages the gradients), validates its share, the counts are
    summed, and rank 0 alone prints and writes. ``placement``: mixed precision and channels-last (Placement).
    ``progress``: a bar, False, or "lines" (a line per epoch)."""
    from torch.nn.parallel import DistributedDataParallel

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    last, best = folder / "last.pt", folder / "best.pt"
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    device = torch.device(device or get_device())
    placement = replace(placement or Placement(), all_batchnorm_eval=recipe.batchnorm == "frozen")
    say = print if world.main else (lambda *args, **kwargs: None)
    lines = progress == "lines" and world.main  # one printed line per epoch instead of a bar (logs, pipes)
    progress = progress is True and world.main
    model.to(device)
    if placement.channels_last:
        model.to(memory_format=torch.channels_last)
    history: list[dict] = []
    saved = None if fresh or not last.exists() else torch.load(last, weights_only=True, map_location=device)
    if saved is not None and (saved["recipe"] != asdict(recipe) or saved["classes"] != list(train_set.classes)):
        say(f"{last} was saved by another recipe or for other classes: starting over")
        saved = None
    if saved is not None:
        history = saved["history"]
        model.load_state_dict(saved["model"])
        say(f"resuming from {last.name}: {len(history)} of {recipe.epochs} epochs done")
    elif fresh and world.main:
        best.unlink(missing_ok=True)
    start = len(history) + 1
    trunk = None
    if cache and start <= recipe.epochs:
        if not all(hasattr(data, name) for data in (train_set, val_set) for name in ("samples", "loader", "transform")):
            raise ValueError("cache=True needs datasets with ImageFolder's samples, loader and transform (FileListDataset "
                             "or ImageFolder): pass cache=False to run every image through the whole network")
        trunk = TrunkCache(model, train_set, val_set, recipe.versions, recipe.seed, folder, progress, world)
        say(trunk.note)  # with several processes, each ran the trunk on its share of the images
    optimizer = scheduler = None
    bar = tqdm(range(start, recipe.epochs + 1), desc="epochs", initial=start - 1, total=recipe.epochs,
               disable=not progress)
    for epoch in bar:
        if stop_after is not None and epoch - start >= stop_after:
            say(f"stopped after epoch {epoch - 1} (as if the kernel had died): {last.name} holds it")
            break
        phase = recipe.phase(epoch)
        set_phase(model, phase)
        if optimizer is None or epoch == recipe.head_epochs + 1:
            optimizer, scheduler = phase_optimizer(model, recipe, phase)
            if saved is not None and epoch == start and recipe.phase(epoch - 1) == phase and epoch > 1:
                optimizer.load_state_dict(saved["optimizer"])
                scheduler.load_state_dict(saved["scheduler"])
        torch.manual_seed(recipe.seed * 1000 + epoch + 7919 * world.rank)  # this epoch's augmentation and dropout
        started = time.perf_counter()
        part, train_inputs, val_inputs = ((model, train_set, val_set) if trunk is None
                                          else trunk.inputs(model, phase, epoch))
        trained_part = DistributedDataParallel(part) if world.distributed else part  # averages the gradients
        loader = epoch_loader(train_inputs, recipe.batch_size, epoch, recipe.seed, world)
        lrs = [group["lr"] for group in optimizer.param_groups]
        trained = train_one_epoch(trained_part, fault_point(loader, world, epoch), loss_fn, optimizer, device,
                                  progress=False, placement=placement)  # the epochs bar shows it
        scheduler.step()
        val_share = shard(val_inputs, world)
        checked = evaluate(part, DataLoader(val_share, batch_size=64), loss_fn, device, placement=placement)
        if world.distributed:  # each process measured its share: sum the counts, then divide
            trained, checked = (_whole(metrics, len(part_of), world) for metrics, part_of in
                                ((trained, loader.sampler), (checked, val_share)))
        history.append({"epoch": epoch, "phase": phase, "lr": lrs, "train_loss": trained.loss,
                        "train_accuracy": trained.accuracy, "val_loss": checked.loss,
                        "val_accuracy": checked.accuracy, "seconds": time.perf_counter() - started})
        if world.main:  # every process has the same weights; one writes, after all have finished the epoch
            if history[-1]["val_accuracy"] > max((row["val_accuracy"] for row in history[:-1]), default=-1.0):
                atomic_save({"model": model.state_dict(), "epoch": epoch, "classes": list(train_set.classes)}, best)
            atomic_save(_state(model, optimizer, scheduler, recipe, train_set.classes, history), last)
            write_metrics(history, folder / "metrics.csv")
        bar.set_postfix(phase=phase, val=f"{history[-1]['val_accuracy']:.3f}", s=f"{history[-1]['seconds']:.1f}")
        if lines:
            print(epoch_line(history[-1], recipe.epochs), flush=True)
    bar.close()
    barrier(world)  # nobody reads best.pt before rank 0 has written it
    return history


def plot_history(history: list[dict], best_epoch: int | None = None, title: str = "") -> None:
    """Loss and accuracy per epoch, training and validation, the phase change dashed and the kept epoch marked."""
    import matplotlib.pyplot as plt
    from ..plots import show_figure
    epochs = [row["epoch"] for row in history]
    figure, axes = plt.subplots(1, 2, figsize=(8, 2.8), dpi=80)
    for ax, what in zip(axes, ("loss", "accuracy")):
        ax.plot(epochs, [row[f"train_{what}"] for row in history], "o-", ms=3, label="training (batches, while it learns)")
        ax.plot(epochs, [row[f"val_{what}"] for row in history], "o-", ms=3, label="validation")
        change = next((row["epoch"] for row in history if row["phase"] == PHASES[1]), None)
        if change is not None:
            ax.axvline(change - 0.5, color="grey", ls="--", lw=1)
        if best_epoch is not None and what == "accuracy":
            kept = next(row for row in history if row["epoch"] == best_epoch)
            ax.plot([best_epoch], [kept["val_accuracy"]], "k*", ms=10, label=f"kept: epoch {best_epoch}")
        ax.set_xlabel("epoch (dashed: head → last block)")
        ax.set_ylabel(what)
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=8, loc="lower right")
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    show_figure(figure)


def load_best(model: nn.Module, folder: str | Path) -> int:
    """Load ``folder``/best.pt into ``model`` (built the same way) and return the epoch it comes from."""
    saved = torch.load(Path(folder) / "best.pt", weights_only=True, map_location=get_device())
    model.load_state_dict(saved["model"])
    return saved["epoch"]


def predict_files(model: nn.Module, files, transform, class_names, csv_path: str | Path,
                  threshold: float = 0.5) -> list[dict]:
    """Predict each file (eval mode, no gradients) and write a CSV: file, class, probability, low_confidence (the
    probability under ``threshold``), note. A file that cannot be read gets a row saying why, and the rest go on."""
    rows = []
    model.eval()
    device = next(model.parameters()).device
    with torch.no_grad():
        for path in files:
            try:
                batch = transform(open_rgb(path)).unsqueeze(0).to(device)
            except OPEN_ERRORS as err:
                rows.append({"file": str(path), "class": "", "probability": "", "low_confidence": "",
                             "note": f"unreadable: {type(err).__name__}: {err}"})
                continue
            probabilities = model(batch).softmax(dim=1)[0]
            index = int(probabilities.argmax())
            p = float(probabilities[index])
            rows.append({"file": str(path), "class": class_names[index], "probability": round(p, 4),
                         "low_confidence": p < threshold, "note": ""})
    with open(csv_path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["file", "class", "probability", "low_confidence", "note"])
        writer.writeheader()
        writer.writerows(rows)
    return rows
