"""The recipe's frozen trunk run once: each image decoded once and passed through the layers below the last block,
the validation images as they are, the training images as they are and in augmented versions; the outputs are kept
on disk, so that a restart reads them back."""
from __future__ import annotations

import hashlib
import pickle
import time
import weakref
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import TensorDataset
from tqdm.auto import tqdm

from ..models.backbone import atomic_save
from ..models.finetunable import backbone_of
from ..models.modes import evaluating
from .distributed import World, barrier

CHUNK = 32  # images decoded, transformed and passed through the trunk together


class Above(nn.Module):
    """What sits above the cached trunk, sharing ``model``'s parameters: the last block, the pooling and the head
    (``pooled=False``), or the head alone on pooled features (``pooled=True``)."""

    def __init__(self, model: nn.Module, backbone, pooled: bool = False):
        super().__init__()
        self.model, self.backbone, self.pooled = model, backbone, pooled

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        features = inputs if self.pooled else self.backbone.body(self.model, inputs)
        return getattr(self.model, self.backbone.head)(features)


def _identity(model: nn.Module, backbone, dataset, transforms: list, seed: int) -> str:
    """What the cached outputs depend on: the trunk's weights, the files (path, size, time), the transforms."""
    digest = hashlib.sha256(f"{backbone.name}|{transforms!r}|{seed}|{torch.__version__}".encode())
    for name, tensor in model.state_dict().items():
        if not name.startswith(backbone.trained_prefixes()):
            digest.update(name.encode() + tensor.detach().cpu().contiguous().numpy().tobytes())
    for path, target in dataset.samples:
        stat = Path(path).stat()
        digest.update(f"{path}|{target}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def _pass(model: nn.Module, backbone, dataset, transforms: list, seed: int, bar,
          share: range | None = None) -> list[TensorDataset]:
    """The trunk's output for every image of ``share`` (default: all) under each of ``transforms``: each image decoded
    once, version v of image i transformed with its own seed (seed, v, i), so the result depends on neither batching,
    nor the share, nor the global stream."""
    share = range(len(dataset)) if share is None else share
    outputs: list[list[torch.Tensor]] = [[] for _ in transforms]
    targets = torch.tensor([dataset.targets[i] for i in share], dtype=torch.long)
    device = next(model.parameters()).device
    with evaluating(model), torch.no_grad(), torch.random.fork_rng():
        for start in range(share.start, share.stop, CHUNK):
            indices = range(start, min(start + CHUNK, share.stop))
            images = [dataset.loader(dataset.samples[i][0]) for i in indices]
            for version, transform in enumerate(transforms):
                batch = []
                for index, image in zip(indices, images):
                    torch.manual_seed((seed * 1_000_003 + version) * 1_000_003 + index)
                    batch.append(transform(image))
                outputs[version].append(backbone.trunk(model, torch.stack(batch).to(device)).cpu())
            bar.update(len(images) * len(transforms))
    empty = torch.empty(0)
    return [TensorDataset(torch.cat(parts) if parts else empty, targets) for parts in outputs]


def _block(size: int, world: World) -> range:
    """This process's contiguous share of ``size`` items (the shares in rank order are the whole, in order)."""
    per_rank = -(-size // world.size)
    return range(min(size, world.rank * per_rank), min(size, (world.rank + 1) * per_rank))


class TrunkCache:
    """The trunk's outputs for the validation images, and for ``versions`` versions of the training images: version
    1 as validation sees them (``val_set``'s transform), the others drawn by ``train_set``'s random transform."""

    def __init__(self, model: nn.Module, train_set, val_set, versions: int, seed: int, folder: str | Path,
                 progress: bool = True, world: World = World()):
        self.model, self.backbone = model, backbone_of(model)
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        train_transforms = [val_set.transform] + [train_set.transform] * (max(versions, 1) - 1)
        key = (_identity(model, self.backbone, train_set, train_transforms, seed) +
               _identity(model, self.backbone, val_set, [val_set.transform], seed))
        path = folder / f"trunk-{hashlib.sha256(key.encode()).hexdigest()[:12]}.pt"
        saved = self._load(path)
        if saved is None:
            started = time.perf_counter()
            train_share, val_share = _block(len(train_set), world), _block(len(val_set), world)
            with tqdm(total=len(train_share) * len(train_transforms) + len(val_share), desc="trunk, once",
                      unit="img", disable=not progress) as bar:
                saved = {"train": _pass(model, self.backbone, train_set, train_transforms, seed, bar, train_share),
                         "val": _pass(model, self.backbone, val_set, [val_set.transform], seed, bar, val_share)[0]}
            if world.distributed:  # each process ran its share: put the shares together, in rank order
                saved = self._joined(saved, path, world)
            if world.main:
                for old in folder.glob("trunk-*.pt"):
                    old.unlink()
                atomic_save({name: [d.tensors for d in data] if isinstance(data, list) else data.tensors
                             for name, data in saved.items()}, path)
            size = sum(t.numel() * t.element_size() for d in saved["train"] + [saved["val"]] for t in d.tensors)
            self.note = (f"trunk run once: {len(train_set)} training images x {len(train_transforms)} versions + "
                         f"{len(val_set)} validation images in {time.perf_counter() - started:.0f} s; {size / 1e6:.0f} "
                         f"MB in {path.name}")
        else:
            self.note = f"trunk outputs read from {path.name} (computed before, same images and weights)"
        self.train, self.val = saved["train"], saved["val"]
        self._pooled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> {version: features}

    def features(self, split: str, model: nn.Module | None = None) -> TensorDataset:
        """(features the head sees, labels) through ``model``'s last block (the model the cache was built with when
        None), in eval mode: the validation images, or the training images as validation sees them ("train")."""
        if split not in ("train", "val"):
            raise ValueError(f"split={split!r}: choose 'train' or 'val'")
        return self._pooled_version(model or self.model, 0 if split == "train" else -1)

    def _pooled_version(self, model: nn.Module, version: int) -> TensorDataset:
        kept = self._pooled.setdefault(model, {})  # while the last block does not train (inputs() forgets them then)
        if version not in kept:
            data = self.val if version == -1 else self.train[version]
            device = next(model.parameters()).device
            with evaluating(model), torch.no_grad():
                pooled = torch.cat([self.backbone.body(model, chunk.to(device)).cpu()
                                    for chunk in data.tensors[0].split(256)])
            kept[version] = TensorDataset(pooled, data.tensors[1])
        return kept[version]

    @staticmethod
    def _joined(mine: dict, path: Path, world: World) -> dict:
        """Every process's share of the outputs, written next to ``path`` and read back by all, in rank order."""
        atomic_save({"train": [d.tensors for d in mine["train"]], "val": mine["val"].tensors},
                    path.with_name(f"{path.stem}.part{world.rank}.pt"))
        barrier(world)
        parts = [torch.load(path.with_name(f"{path.stem}.part{rank}.pt"), map_location="cpu", weights_only=True)
                 for rank in range(world.size)]
        barrier(world)  # every process has read every share: rank 0 may now replace them by the whole
        joined = {"train": [TensorDataset(*(torch.cat([part["train"][v][k] for part in parts if len(part["train"][v][1])])
                                            for k in range(2))) for v in range(len(mine["train"]))],
                  "val": TensorDataset(*(torch.cat([part["val"][k] for part in parts if len(part["val"][1])])
                                         for k in range(2)))}
        return joined

    @staticmethod
    def _load(path: Path) -> dict | None:
        if not path.is_file():
            return None
        try:
            raw = torch.load(path, map_location="cpu", weights_only=True)
        except (OSError, RuntimeError, ValueError, EOFError, pickle.UnpicklingError) as exc:
            print(f"{path.name} is unreadable ({type(exc).__name__}); running the trunk again.")
            return None
        return {"train": [TensorDataset(*tensors) for tensors in raw["train"]], "val": TensorDataset(*raw["val"])}

    def inputs(self, model: nn.Module, phase: str, epoch: int) -> tuple[nn.Module, TensorDataset, TensorDataset]:
        """(the part of ``model`` that trains, its training inputs for ``epoch``, its validation inputs): epoch e
        trains on version e (cycling); in the head phase the frozen last block runs once per version and the head
        trains on pooled features."""
        version = (epoch - 1) % len(self.train)
        if phase != "head":
            self._pooled.clear()  # the last block trains from here on: pooled features would be stale
            return Above(model, self.backbone), self.train[version], self.val
        return (Above(model, self.backbone, pooled=True), self._pooled_version(model, version),
                self._pooled_version(model, -1))
