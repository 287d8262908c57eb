"""Lesson 10's fine-tuning arm: ImageNet Lite0's last block and a head trained on the cells' cached trunk outputs
(lesson 09's recipe, phase 2), the epoch kept by the validation cells, then scored once on the test cells."""
from __future__ import annotations

import copy
import math
import time

import torch
from torch import nn
from tqdm.auto import tqdm

from ..data.elpv import SolarCells
from ..data.imbalance import class_weights
from ..models.cell_features import lite0_for_cells
from ..models.finetunable import BACKBONES
from ..models.heads import new_head
from ..models.modes import evaluating
from .cells import Arm, Seeded, Splits
from .optim import adamw
from .probe import scores, shuffled_batches
from .trunk_cache import Above

LITE0 = BACKBONES["efficientnet_lite0"]


def _predict(model: nn.Module, versions: list[torch.Tensor], index: torch.Tensor, k: int):
    """(binary predictions, defect probability, predicted level or None) for the cells at ``index``, the
    probabilities averaged over the trunk ``versions`` given (test-time augmentation when there are several)."""
    with evaluating(model), torch.no_grad():
        top = Above(model, LITE0)
        p = torch.stack([torch.cat([top(trunk[chunk]).softmax(1) for chunk in index.split(256)])
                         for trunk in versions]).mean(0)
    if k == 4:
        return (p.argmax(1) >= 2).long(), p[:, 2:].sum(1), p.argmax(1)
    return p.argmax(1), p[:, 1], None


def finetune_arm(name: str, trunk: torch.Tensor | list[torch.Tensor], features: torch.Tensor, cells: SolarCells,
                 levels: SolarCells, splits: Splits, epochs: int = 3, weighted: bool = False, targets: str = "binary",
                 head_epochs: int = 3, head_lr: float = 1e-3, block_lr: float = 1e-4, tta: bool = False,
                 progress: bool = True) -> Arm:
    """Per seed: lesson 09's head (Dropout and a Linear layer) trained ``head_epochs`` epochs on the frozen
    ``features`` of the fit cells (phase 1), then the last block
    (blocks.6, conv_head, bn2) and the head trained together on the fit cells' ``trunk`` outputs for ``epochs``
    epochs (AdamW, the block at ``block_lr``); the epoch with the best balanced accuracy on the validation cells is
    kept and scored once on the test cells. It trains on the 1,476 fit cells only (the probes refit on all 1,968).
    A list of trunks is a list of versions of every cell (e.g. the cell, and the cell under a symmetry): epoch e
    trains on version e (cycling); ``tta`` averages the test cells' probabilities over the versions."""
    versions = trunk if isinstance(trunk, list) else [trunk]
    arm, truth, y4 = Arm(name), torch.tensor(cells.targets), torch.tensor(levels.targets)
    k, y = (4, y4) if targets == "levels" else (2, truth)
    base, _ = lite0_for_cells()
    bar = tqdm(total=len(splits.seeds) * epochs, desc=name, unit="epoch", disable=not progress)
    for seed, split in splits.by_seed.items():
        start = time.perf_counter()
        fit, val, test = split["fit"], split["val"], split["test"]
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            model = copy.deepcopy(base)
            weights = class_weights(y[fit], k) if weighted else None
            loss_fn = nn.CrossEntropyLoss(weight=weights)
            order = torch.Generator().manual_seed(seed)
            head = new_head(features.shape[1], k, dropout=0.2)   # lesson 09's head, phase 1 on features
            setattr(model, LITE0.head, head)
            head_optimizer = adamw(head.parameters(), lr=head_lr, weight_decay=1e-4)
            for _ in range(head_epochs):
                for batch in shuffled_batches(len(fit), 32, order):
                    head_optimizer.zero_grad()
                    loss_fn(head(features[fit[batch]]), y[fit[batch]]).backward()
                    head_optimizer.step()
            for parameter_name, parameter in model.named_parameters():
                parameter.requires_grad = parameter_name.startswith(LITE0.trained_prefixes())
            block = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith(LITE0.head + ".")]
            optimizer = adamw([{"params": list(head.parameters()), "lr": head_lr}, {"params": block, "lr": block_lr}],
                              weight_decay=1e-4)
            top, best = Above(model, LITE0), None
            for epoch in range(1, epochs + 1):
                model.train()  # the trunk is not run here; the last block's BatchNorm learns as in lesson 09
                inputs = versions[(epoch - 1) % len(versions)]
                for batch in shuffled_batches(len(fit), 32, order):
                    optimizer.zero_grad()
                    loss_fn(top(inputs[fit[batch]]), y[fit[batch]]).backward()
                    optimizer.step()
                checked = scores(_predict(model, versions[:1], val, k)[0], truth[val], 2)
                if best is None or checked.balanced_accuracy > best[1].balanced_accuracy:
                    best = (epoch, checked, copy.deepcopy(model.state_dict()))
                bar.update()
            model.load_state_dict(best[2])
        preds, defect, preds4 = _predict(model, versions if tta else versions[:1], test, k)
        levels_accuracy = (preds4 == y4[test]).float().mean().item() if preds4 is not None else math.nan
        arm.seeded.append(Seeded(seed, test, preds, defect, scores(preds, truth[test], 2), levels_accuracy,
                                 f"epoch {best[0]} of {epochs} (chosen on validation), last block lr {block_lr:g}",
                                 time.perf_counter() - start, best[1]))
    bar.close()
    return arm
