"""Lesson 10's closer looks at one arm: the decision threshold for a target recall chosen on validation cells
(and what choosing it on the test cells would report), the defect probability by the experts' level, and the
scores of mono and poly cells."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..data.elpv import SolarCells
from .cells import Arm, Splits
from .probe import Scores, fit_head, probabilities, scores


@dataclass(frozen=True)
class ThresholdChoice:
    """One seed: the threshold for the target recall chosen on validation cells and on the test cells, and what each
    does on the test cells, next to the default rule (the more likely class, i.e. p >= 0.5)."""

    seed: int
    on_validation: float
    on_test: float
    at_validation_choice: Scores
    at_test_choice: Scores
    at_half: Scores
    test_probability: torch.Tensor
    test_truth: torch.Tensor


def threshold_study(features: torch.Tensor, cells: SolarCells, splits: Splits, recall: float = 0.9,
                    epochs: int = 30) -> list[ThresholdChoice]:
    """Per seed: a head fitted on the ``fit`` cells only, so the validation cells are new to it; the threshold that
    finds ``recall`` of their defective cells, then the test cells' recall and precision at that threshold."""
    from .probe import positive_at, threshold_for_recall

    truth, study = torch.tensor(cells.targets), []
    for seed, split in splits.by_seed.items():
        head = fit_head(features[split["fit"]], truth[split["fit"]], 2, seed=seed, epochs=epochs)
        p_val = probabilities(head, features[split["val"]])[:, 1]
        p_test = probabilities(head, features[split["test"]])[:, 1]
        y_val, y_test = truth[split["val"]], truth[split["test"]]
        t_val = threshold_for_recall(p_val, y_val, recall)
        t_test = threshold_for_recall(p_test, y_test, recall)
        study.append(ThresholdChoice(seed, t_val, t_test, scores(positive_at(p_test, t_val), y_test, 2),
                                     scores(positive_at(p_test, t_test), y_test, 2),
                                     scores(positive_at(p_test, 0.5), y_test, 2), p_test, y_test))
    return study



def by_level(arm: Arm, levels: SolarCells) -> dict[str, list[float]]:
    """The defect probabilities the arm gave its test cells (all seeds), grouped by the experts' level."""
    y4 = torch.tensor(levels.targets)
    groups: dict[str, list[float]] = {name: [] for name in levels.classes}
    for s in arm.seeded:
        for level, p in zip(y4[s.test].tolist(), s.defect_probability.tolist()):
            groups[levels.classes[level]].append(p)
    return groups


def called_by_level(arm: Arm, levels: SolarCells) -> dict[str, float]:
    """The share of each level's test cells (all seeds) that the arm called defective, by its own decisions."""
    y4 = torch.tensor(levels.targets)
    called: dict[str, list[int]] = {name: [] for name in levels.classes}
    for s in arm.seeded:
        for level, pred in zip(y4[s.test].tolist(), s.preds.tolist()):
            called[levels.classes[level]].append(pred)
    return {name: sum(values) / len(values) for name, values in called.items() if values}


def per_type(arm: Arm, cells: SolarCells) -> dict[str, Scores]:
    """The arm's scores on the mono and on the poly test cells, all seeds pooled."""
    truth, types = torch.tensor(cells.targets), cells.types
    result = {}
    for kind in sorted(set(types)):
        preds, targets = [], []
        for s in arm.seeded:
            keep = [i for i, cell in enumerate(s.test.tolist()) if types[cell] == kind]
            preds.append(s.preds[keep])
            targets.append(truth[s.test][keep])
        result[kind] = scores(torch.cat(preds), torch.cat(targets), 2)
    return result
