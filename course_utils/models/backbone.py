"""Building the course backbone: torchvision's resnet18 pretrained on the generated 16-shape source task.

The course ships the result (half-precision weights, build metadata, SHA-256 in a manifest), so no
learner waits for it. `make backbone` (python -m course_utils.models.backbone) regenerates it from this recipe:
the build checkpoints after every epoch and resumes from the last completed one, picks the faster of
one or two threads by timing its first steps, and prints an estimate measured on the machine.
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import json
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torchvision.models import resnet18
from tqdm.auto import tqdm

from ..data.generated import SOURCE_TASK, TaskSpec, cache_dir, task_arrays
from ..paths import ASSETS, atomic_write

SHIPPED = ASSETS / "course_resnet18.pt"
MANIFEST = ASSETS / "course_resnet18.json"  # the shipped file's SHA-256 and metadata
BACKBONE_VERSION = 2


@dataclass(frozen=True)
class Recipe:
    """Everything that decides the weights (besides the source task and the library versions)."""

    epochs: int = 8
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 0.05
    label_smoothing: float = 0.1
    warmup: float = 0.25
    seed: int = 0


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _tensors(spec: TaskSpec, split: str, progress: bool) -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = task_arrays(spec, split, progress=progress)
    return images.permute(0, 3, 1, 2).contiguous(), labels


class _Run:
    """The state of one build: data, model, optimizer, schedule, random generator, and where it has got to."""

    def __init__(self, spec: TaskSpec, recipe: Recipe, progress: bool):
        self.spec, self.recipe = spec, recipe
        torch.manual_seed(recipe.seed)
        self.train_x, self.train_y = _tensors(spec, "train", progress)
        self.val_x, self.val_y = _tensors(spec, "val", progress)
        self.resize, self.crop = spec.size, spec.size * 7 // 8
        as_float = self.train_x.float() / 255
        self.mean = tuple(round(v, 4) for v in as_float.mean(dim=(0, 2, 3)).tolist())
        self.std = tuple(round(v, 4) for v in as_float.std(dim=(0, 2, 3)).tolist())
        self.model = resnet18(num_classes=len(spec.classes)).to(memory_format=torch.channels_last)  # faster on CPU
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
        self.steps_per_epoch = len(self.train_x) // recipe.batch_size
        self.scheduler = torch.optim.lr_scheduler.OneCycleLR(
            self.optimizer, max_lr=recipe.lr, total_steps=recipe.epochs * self.steps_per_epoch, pct_start=recipe.warmup)
        self.generator = torch.Generator().manual_seed(recipe.seed)
        self.epoch = 0
        self.seconds = 0.0

    def prepare(self, batch: torch.Tensor, train: bool) -> torch.Tensor:
        mean, std = torch.tensor(self.mean).view(1, 3, 1, 1), torch.tensor(self.std).view(1, 3, 1, 1)
        if train:  # random crop and flip: the same augmentation a learner applies later
            i, j = torch.randint(0, self.resize - self.crop + 1, (2,), generator=self.generator).tolist()
            batch = batch[:, :, i:i + self.crop, j:j + self.crop]
            if torch.rand(1, generator=self.generator).item() < 0.5:
                batch = batch.flip(3)
        else:
            offset = (self.resize - self.crop) // 2
            batch = batch[:, :, offset:offset + self.crop, offset:offset + self.crop]
        return ((batch.float() / 255 - mean) / std).contiguous(memory_format=torch.channels_last)

    def step(self, model, optimizer, index: torch.Tensor, scheduler=None) -> float:
        optimizer.zero_grad()
        inputs = self.prepare(self.train_x[index], True)
        loss = F.cross_entropy(model(inputs), self.train_y[index], label_smoothing=self.recipe.label_smoothing)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        return loss.item()

    # -- resuming -------------------------------------------------------------------------
    def state(self) -> dict:
        return {"recipe": asdict(self.recipe), "spec": self.spec.name, "epoch": self.epoch, "seconds": self.seconds,
                "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(), "generator": self.generator.get_state()}

    def restore(self, state: dict) -> bool:
        if state.get("recipe") != asdict(self.recipe) or state.get("spec") != self.spec.name:
            return False
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.generator.set_state(state["generator"])
        self.epoch, self.seconds = state["epoch"], state["seconds"]
        return True

    # -- timing -----------------------------------------------------------------------------
    def seconds_per_step(self, threads: int, steps: int = 3) -> float:
        """Time a few steps on a throwaway copy (the real run is untouched)."""
        torch.set_num_threads(threads)
        model = copy.deepcopy(self.model)
        optimizer = torch.optim.AdamW(model.parameters(), lr=self.recipe.lr)
        generator_state = self.generator.get_state()
        index = torch.arange(self.recipe.batch_size)
        self.step(model, optimizer, index)  # warm-up
        start = time.perf_counter()
        for _ in range(steps):
            self.step(model, optimizer, index)
        self.generator.set_state(generator_state)
        return (time.perf_counter() - start) / steps


def estimate_build_seconds(recipe: Recipe = Recipe(), spec: TaskSpec = SOURCE_TASK, steps: int = 2) -> float:
    """Seconds a full build would take here, from timing a few steps on random images of the source task's size
    (a few seconds; no data is generated)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(max(1, min(2, previous)))
    try:
        model = resnet18(num_classes=len(spec.classes)).to(memory_format=torch.channels_last)
        optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.lr)
        size = spec.size * 7 // 8
        images = torch.randn(recipe.batch_size, 3, size, size).to(memory_format=torch.channels_last)
        labels = torch.randint(0, len(spec.classes), (recipe.batch_size,))
        timings = []
        for _ in range(steps + 1):  # the first step warms up
            start = time.perf_counter()
            optimizer.zero_grad()
            F.cross_entropy(model(images), labels).backward()
            optimizer.step()
            timings.append(time.perf_counter() - start)
    finally:
        torch.set_num_threads(previous)
    per_epoch = spec.per_class["train"] * len(spec.classes) // recipe.batch_size
    return min(timings[1:]) * per_epoch * recipe.epochs


def _choose_threads(run: _Run, threads: int | None, progress: bool) -> int:
    if threads is None:
        available = max(1, min(2, torch.get_num_threads()))
        timings = {n: run.seconds_per_step(n) for n in sorted({1, available})}
        threads = min(timings, key=timings.get)
        per_step = timings[threads]
    else:
        per_step = run.seconds_per_step(threads)
    torch.set_num_threads(threads)
    remaining = (run.recipe.epochs - run.epoch) * run.steps_per_epoch
    if progress:
        print(f"Measured {per_step:.2f} s per training step on this machine with {threads} thread"
              f"{'s' * (threads > 1)}: about {remaining * per_step / 60:.1f} minutes for the {remaining} steps left.")
    return threads


def build_course_backbone(path: Path, spec: TaskSpec = SOURCE_TASK, recipe: Recipe = Recipe(), progress: bool = True,
                          threads: int | None = None, checkpoint: Path | None = None,
                          stop_after: int | None = None) -> Path | None:
    """Pretrain resnet18 on ``spec`` and save half-precision weights with their metadata at ``path``.

    ``checkpoint`` (default: in the cache) holds the state after each completed epoch; an interrupted
    build resumes from it. ``threads`` fixes torch's thread count (default: the faster of 1 and 2,
    measured). ``stop_after`` ends this call after that many epochs (returning None; call again to go
    on). Deterministic for a fixed thread count on the same CPU type and library versions.
    """
    path = Path(path)
    checkpoint = Path(checkpoint) if checkpoint else cache_dir() / f"{path.stem}.{spec.name}.resume"
    previous_threads = torch.get_num_threads()
    run = _Run(spec, recipe, progress)
    if checkpoint.exists():
        try:
            resumed = run.restore(torch.load(checkpoint, map_location="cpu", weights_only=True))
        except (RuntimeError, EOFError, KeyError, ValueError):
            resumed = False
        if progress and resumed:
            print(f"Resuming the backbone build after epoch {run.epoch} of {recipe.epochs} ({checkpoint}).")
    try:
        threads = _choose_threads(run, threads, progress)
        total = recipe.epochs * run.steps_per_epoch
        bar = tqdm(total=total, initial=run.epoch * run.steps_per_epoch, desc="Pretraining the course backbone",
                   disable=not progress, unit="step")
        done_now = 0
        while run.epoch < recipe.epochs:
            if stop_after is not None and done_now >= stop_after:
                bar.close()
                return None
            start = time.perf_counter()
            run.model.train()
            order = torch.randperm(len(run.train_x), generator=run.generator)
            for step in range(run.steps_per_epoch):
                loss = run.step(run.model, run.optimizer, order[step * recipe.batch_size:(step + 1) * recipe.batch_size],
                                run.scheduler)
                bar.update()
                bar.set_postfix(epoch=run.epoch + 1, loss=f"{loss:.3f}")
            run.epoch += 1
            done_now += 1
            run.seconds += time.perf_counter() - start
            if run.epoch < recipe.epochs:
                atomic_save(run.state(), checkpoint)
        bar.close()
    finally:
        torch.set_num_threads(previous_threads)
    accuracy = _evaluate(run)
    meta = {
        "categories": list(spec.classes),
        "source_task": f"{spec.name} ({len(spec.classes)} generated shape classes, {len(run.train_x)} training images)",
        "source_val_accuracy": round(accuracy, 4),
        "num_params": sum(p.numel() for p in run.model.parameters()),
        "resize_size": run.resize, "crop_size": run.crop, "mean": list(run.mean), "std": list(run.std),
        "recipe": {"builder": "course_utils.models.backbone.build_course_backbone", **asdict(recipe)},
        "version": BACKBONE_VERSION, "dtype": "float16", "threads": threads,
        "build_seconds": round(run.seconds, 1), "torch": str(torch.__version__), "machine": platform.machine(),
        "provenance": "trained by the course's own code on generated data; no ImageNet involved",
    }
    half = {k: v.half().contiguous() if v.is_floating_point() else v for k, v in run.model.state_dict().items()}
    atomic_save({"state_dict": half, "meta": meta}, path)
    checkpoint.unlink(missing_ok=True)
    return path


def _evaluate(run: _Run) -> float:
    run.model.eval()
    with torch.no_grad():
        predictions = torch.cat([run.model(run.prepare(run.val_x[i:i + 256], False)).argmax(1)
                                 for i in range(0, len(run.val_x), 256)])
    return (predictions == run.val_y).float().mean().item()


def atomic_save(obj, path: Path) -> None:
    """torch.save ``obj`` to ``path`` whole or not at all: a run killed while saving leaves the previous file."""
    atomic_write(path, lambda temporary: torch.save(obj, temporary))


def write_manifest(path: Path, manifest: Path) -> dict:
    """Record ``path``'s SHA-256, size and metadata in ``manifest`` (what loading verifies against)."""
    meta = torch.load(path, map_location="cpu", weights_only=True, mmap=True)["meta"]
    record = {"file": path.name, "sha256": sha256_of(path), "bytes": path.stat().st_size, "meta": meta}
    manifest.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    return record


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Regenerate the course backbone that ships in course_utils/assets.")
    parser.add_argument("--output", type=Path, default=SHIPPED, help=f"where to write the weights (default {SHIPPED})")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: the faster of 1 and 2)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    build_course_backbone(args.output, threads=args.threads)
    manifest = write_manifest(args.output, args.output.with_suffix(".json"))
    print(f"Wrote {args.output} ({manifest['bytes'] / 1e6:.1f} MB, sha256 {manifest['sha256'][:12]}…) in "
          f"{time.perf_counter() - start:.0f} s; source-task validation accuracy "
          f"{manifest['meta']['source_val_accuracy']:.3f}.")


if __name__ == "__main__":
    main()
