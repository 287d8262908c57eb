"""`course train DATA`: lesson 09's recipe as a command, in one process or under torchrun in many: the same data
functions and the same fit_recipe as the notebook, with the splits, checkpoints, metrics and a summary in --out."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

BACKBONE_CHOICES = ("auto", "resnet18", "efficientnet_lite0")
FRACTIONS = {"train": 0.6, "val": 0.2, "test": 0.2}


class BadInput(Exception):
    """Something about the command line or the data that the learner must fix (exit code 2)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `course train` (SPEC section 11), with the recipe's defaults."""
    parser.add_argument("data", metavar="DATA", help="a folder with one subfolder of images per class, 'elpv' (the "
                        "2,624 solar cells, functional / defective) or 'shapes' (the course's generated images)")
    parser.add_argument("--backbone", choices=BACKBONE_CHOICES, default="auto",
                        help="auto: an ImageNet network (torchvision's ResNet-18 where its weights load, else "
                        "EfficientNet-Lite0, installed), as lesson 09 chooses (default auto)")
    recipe = "(default: lesson 09's Recipe)"
    parser.add_argument("--head-epochs", type=int, metavar="N", help=f"epochs training the head alone {recipe}")
    parser.add_argument("--block-epochs", type=int, metavar="N", help=f"epochs training the last block too {recipe}")
    parser.add_argument("--batch-size", type=int, metavar="N",
                        help=f"per process: the global batch is N x processes {recipe}")
    parser.add_argument("--lr-head", type=float, metavar="X", help=f"the head's learning rate {recipe}")
    parser.add_argument("--lr-backbone", type=float, metavar="X", help=f"the last block's learning rate {recipe}")
    parser.add_argument("--seed", type=int, metavar="N", help=f"splits, head and shuffling {recipe}")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                        help="auto: CUDA when there is a GPU, else the CPU")
    parser.add_argument("--amp", action="store_true", help="mixed precision: float16 with a gradient scaler on "
                        "CUDA, bfloat16 on a CPU")
    parser.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=None,
                        help="channels-last memory for images (default: on with CUDA, off on a CPU)")
    parser.add_argument("--augment", action=argparse.BooleanOptionalAction, default=True,
                        help="random crops and flips of the training images (default on)")
    parser.add_argument("--dropout", type=float, default=0.2, metavar="P", help="before the new head (default 0.2)")
    parser.add_argument("--batchnorm", choices=("train", "frozen"), default="train",
                        help="the last block's BatchNorm while it trains: batch statistics (train, default) or its "
                        "pretrained ones (frozen: the same whatever the batch is split into)")
    parser.add_argument("--out", default="runs/train", metavar="DIR", help="where the run is written "
                        "(default runs/train)")
    parser.add_argument("--resume", action="store_true", help="finish the run in --out from its last.pt")


def _device(choice: str):
    import torch
    if choice == "cuda" and not torch.cuda.is_available():
        raise BadInput("--device cuda, but PyTorch sees no CUDA device here (torch.cuda.is_available() is False): "
                       "use --device cpu or auto, or install a CUDA build of PyTorch")
    return torch.device("cuda" if choice == "cuda" or (choice == "auto" and torch.cuda.is_available()) else "cpu")


def _data_folder(data: str, world) -> Path:
    """The class-folder tree DATA names: a folder, or 'elpv' / 'shapes' prepared once in the course's cache."""
    from ..data.folders import class_files, images_folder
    from ..data.generated import cache_dir
    if data == "shapes":
        return images_folder(progress=world.main)
    if data == "elpv":
        from ..data.elpv import ElpvMissing, installed_version, write_class_folders
        target = cache_dir() / f"elpv-binary-{installed_version()}"
        if not target.is_dir():
            partial = target.with_name(target.name + ".partial")
            import shutil
            shutil.rmtree(partial, ignore_errors=True)
            try:
                write_class_folders(partial, "binary")
            except ElpvMissing as exc:
                raise BadInput(str(exc)) from None
            partial.rename(target)
        return target
    root = Path(data).expanduser()
    if not root.is_dir():
        raise BadInput(f"{root} is not a folder: give a folder with one subfolder of images per class "
                       "(DATA/<class>/*.jpg), or 'elpv' or 'shapes'")
    try:
        root = images_folder(root, progress=world.main)  # a dataset that comes split is pooled, as lesson 09 does
        classes, files = class_files(root)
    except FileNotFoundError:
        classes, files = [], []
    empty = [name for name, found in zip(classes, files) if not found]
    if len(classes) - len(empty) < 2:
        raise BadInput(f"{root} has {len(classes) - len(empty)} class folder(s) with images ({', '.join(classes) or 'none'}"
                       f"): a classifier needs at least two, each a subfolder holding that class's images")
    if empty:
        raise BadInput(f"{root}: class folder(s) without a readable image file: {', '.join(empty)}; add images or "
                       "remove the folder")
    return root


def _source(args, world) -> tuple[Path, str]:
    """(the data folder, the backbone): default_backbone compares DATA with the course's own images, generated in
    the cache the first time."""
    from ..models.finetunable import default_backbone
    root = _data_folder(args.data, world)
    return root, default_backbone(root) if args.backbone == "auto" else args.backbone


def _splits(root: Path, seed: int, out: Path, world):
    """Lesson 09's stratified splits, checked (unreadable files named and skipped, copies across splits dropped)
    and saved; every process computes the same ones."""
    from ..data.folders import audit, class_files, save_splits, split_files
    classes, _ = class_files(root)
    splits = split_files(root, FRACTIONS, seed)
    report = audit(splits, classes, progress=world.main and sys.stderr.isatty())
    if world.main:
        problems = [line for line in report.lines() if line.startswith("✘")]
        for line in problems:
            print(line)
    splits = report.cleaned(splits)
    if any(len({c for _, c in splits[name]}) < 2 for name in ("train", "val")):
        raise BadInput(f"{root}: after skipping unreadable files, the training or validation split holds fewer than "
                       "two classes; add images (a few per class at least)")
    if world.main:
        save_splits(splits, classes, root, out / "splits.csv")
    return classes, splits, report.typical_side()


def _write_json(path: Path, value: dict) -> None:
    from ..paths import atomic_write
    atomic_write(path, lambda temporary: Path(temporary).write_text(json.dumps(value, indent=1) + "\n"))


def train(args: argparse.Namespace) -> dict:
    """Run the recipe as the options say; returns the summary (rank 0 also writes it to --out/summary.json)."""
    from dataclasses import asdict

    import torch
    from torch import nn
    from torch.utils.data import DataLoader

    from ..data.folders import FileListDataset
    from ..data.imbalance import class_weights
    from ..models.finetunable import new_model
    from ..models.pretrained import describe_weights, training_transforms
    from ..training.distributed import World, first_on_rank0, shard, start_world, stop_world, summed
    from ..training.finetune import train_augmentation
    from ..training.loop import Placement, evaluate
    from ..training.recipe import Recipe, epoch_line, fit_recipe, load_best

    default = Recipe()
    for option, field in (("head_epochs", "head_epochs"), ("block_epochs", "block_epochs"), ("batch_size",
                          "batch_size"), ("lr_head", "head_lr"), ("lr_backbone", "backbone_lr"), ("seed", "seed")):
        if getattr(args, option) is None:
            setattr(args, option, getattr(default, field))
    for name in ("head_epochs", "block_epochs"):
        if getattr(args, name) < 0:
            raise BadInput(f"--{name.replace('_', '-')} {getattr(args, name)}: give 0 or more epochs")
    if args.batch_size < 1 or args.head_epochs + args.block_epochs < 1 or not 0 <= args.dropout < 1:
        raise BadInput("--batch-size must be at least 1, the epochs at least 1 in all, --dropout in [0, 1)")
    device = _device(args.device)
    out = Path(args.out)
    if not args.resume and (out / "last.pt").exists():
        raise BadInput(f"{out} already holds a run (last.pt): add --resume to finish it, or give another --out")
    started = time.perf_counter()
    world = start_world(device)
    try:
        say = print if world.main else (lambda *a, **k: None)
        out.mkdir(parents=True, exist_ok=True)
        root, backbone = first_on_rank0(world, lambda: _source(args, world))  # the cache it writes: written once
        classes, splits, side = _splits(root, args.seed, out, world)
        model, weights = new_model(len(classes), backbone=backbone, dropout=args.dropout, seed=args.seed)
        preset, note = training_transforms(weights, world.device, images_px=side or 64)
        placement = Placement.for_device(world.device, args.amp, args.channels_last)
        recipe = Recipe(head_epochs=args.head_epochs, block_epochs=args.block_epochs, head_lr=args.lr_head,
                        backbone_lr=args.lr_backbone, batch_size=args.batch_size, seed=args.seed,
                        versions=2 if args.augment else 1, batchnorm=args.batchnorm)
        say(f"data: {root} | {len(classes)} classes | " + ", ".join(f"{k} {len(v)}" for k, v in splits.items()))
        say(f"backbone: {backbone}; weights: {describe_weights(weights)}")
        say(f"processes: {world.size} ({world.backend if world.distributed else 'no process group'}), device "
            f"{world.device}, {torch.get_num_threads()} thread(s) each; batch {args.batch_size} per process, "
            f"global batch {args.batch_size * world.size}; amp {placement.amp}; channels-last "
            f"{placement.channels_last}")
        if note:
            say("changed for speed:", note)
        train_set = FileListDataset(splits["train"], classes, train_augmentation(preset))
        val_set = FileListDataset(splits["val"], classes, preset)
        loss_fn = nn.CrossEntropyLoss(weight=class_weights(train_set.targets, len(classes)).to(world.device))
        bars = sys.stderr.isatty()  # in a terminal, progress bars; in a log or a pipe, a line per epoch
        history = fit_recipe(model, train_set, val_set, recipe, out, loss_fn=loss_fn, fresh=not args.resume,
                             progress=True if bars else "lines", world=world, device=world.device,
                             placement=placement)
        if bars:
            for row in history:
                say(epoch_line(row, recipe.epochs))
        best_epoch = load_best(model, out)
        test_set = shard(FileListDataset(splits["test"], classes, preset), world)
        tested = evaluate(model, DataLoader(test_set, batch_size=64), nn.CrossEntropyLoss(), world.device)
        correct, seen = summed([round(tested.accuracy * len(test_set)), len(test_set)], world)
        summary = {"data": str(root), "classes": classes, "backbone": backbone, "weights": describe_weights(weights),
                   "device": str(world.device), "world_size": world.size, "batch_per_process": args.batch_size,
                   "global_batch": args.batch_size * world.size, "amp": str(placement.amp) if placement.amp else None,
                   "channels_last": placement.channels_last, "recipe": asdict(recipe), "best_epoch": best_epoch,
                   "val_accuracy": history[best_epoch - 1]["val_accuracy"] if history else None,
                   "test_accuracy": correct / seen, "test_images": int(seen),
                   "seconds": round(time.perf_counter() - started, 1)}
        if world.main:
            _write_json(out / "summary.json", summary)
        say(f"kept epoch {best_epoch} (validation accuracy {summary['val_accuracy']:.3f}); test accuracy, once: "
            f"{summary['test_accuracy']:.3f} on {int(seen)} images; {summary['seconds']:.0f} s; written to {out}/")
        return summary
    finally:
        stop_world(world)


def run_train(args: argparse.Namespace) -> int:
    """`course train`: exit 0, or 2 with a message saying what to change."""
    try:
        train(args)
    except BadInput as exc:
        print(f"course train: {exc}", file=sys.stderr)
        return 2
    return 0
