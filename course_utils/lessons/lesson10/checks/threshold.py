"""Lesson 10: the checker of threshold_for_recall (the decision threshold that finds a share of the defective
samples)."""
from __future__ import annotations

import math

import torch

from ....checking import expect
from ....checking.describe import describe
from ....checking.sandbox import Mismatch, call_learner
from ....training.probe import threshold_for_recall as reference_threshold


def _scores_cases():
    """(description, scores, targets, recall): distinct scores, ties, recall 1, small recalls, a product that floating
    point rounds up (0.28 x 25), float64 scores and int32 targets."""
    g = torch.Generator().manual_seed(0)
    targets = (torch.rand(60, generator=g) < 0.35).long()
    scores = (targets * 0.35 + torch.rand(60, generator=g) * 0.65)
    n = int(targets.sum())
    yield f"60 samples ({n} defective), distinct scores, recall 0.9", scores, targets, 0.9
    yield "the same samples, recall 1.0", scores, targets, 1.0
    yield (f"the same samples, recall 0.05 ({math.ceil(0.05 * n)} of the {n} defective samples needed)", scores,
           targets, 0.05)
    tied = torch.tensor([0.9, 0.8, 0.8, 0.8, 0.7, 0.6, 0.6, 0.3, 0.2, 0.1])
    yield ("10 samples with tied scores (0.8 three times), 5 defective, recall 0.7", tied,
           torch.tensor([1, 0, 1, 1, 0, 1, 0, 1, 0, 0]), 0.7)
    yield "10 defective samples, recall 0.7 (exactly 7 of 10)", torch.linspace(0.05, 0.95, 10), torch.ones(10).long(), 0.7
    yield ("25 defective samples among 40, recall 0.28 (exactly 7 of 25, although 0.28 x 25 is 7.000000000000001 "
           "in floating point)", torch.linspace(0.01, 0.99, 40), (torch.arange(40) % 8 < 5).long(), 0.28)
    yield "the first case as float64 scores and int32 targets, recall 0.5", scores.double(), targets.int(), 0.5


def _found(scores: torch.Tensor, targets: torch.Tensor, threshold: float) -> tuple[int, int]:
    positive = targets == 1
    return int(((scores >= threshold) & positive).sum()), int(positive.sum())


def _between_defective_scores(got: float, scores: torch.Tensor, targets: torch.Tensor) -> bool:
    """Whether ``got`` lies strictly between two of the defective samples' scores (where a quantile lands)."""
    positive = scores[targets == 1].double()
    return bool(((positive < got).any() & (positive > got).any()).item())


def _name_threshold_mistake(got: float, scores, targets, recall: float, expected: float, want: str) -> None:
    found, positives = _found(scores, targets, got)
    needed = math.ceil(recall * positives - 1e-9)
    if got not in set(scores.tolist()):
        quantile = _between_defective_scores(got, scores, targets)
        raise Mismatch(want, f"{got:.6g}, which is none of the scores"
                       + (" (it lies between two defective scores, as an interpolated quantile does)" if quantile else ""),
                       "return one of the scores: the k-th largest score of a defective sample, k = "
                       "ceil(recall x defective count). A value between two scores finds the same samples as the "
                       "score just above it.", "interpolated_quantile" if quantile else None)
    negatives = (1 - targets.long()) if targets.dtype != torch.bool else (~targets).long()
    if (negatives == 1).any() and math.isclose(got, reference_threshold(scores, negatives, recall), abs_tol=0):
        raise Mismatch(want, f"{got:.6g}: the threshold computed from the functional samples (target 0)",
                       "take the scores of the samples whose target is 1 (defective): scores[targets == 1].",
                       "wrong_class")
    if found >= needed and got < expected:
        strictly = int(((scores > got) & (targets == 1)).sum())
        because = (" (counting only scores strictly above it, it finds fewer: samples AT the threshold count, use >=)"
                   if strictly < needed else "")
        raise Mismatch(want, f"{got:.6g}: it finds {found} of {positives} defective samples, but {expected:.6g}, a "
                       f"higher threshold, already finds the {needed} needed and calls fewer samples defective{because}",
                       "return the LARGEST such threshold: the k-th largest defective score, k = ceil(recall x "
                       "defective count).", "not_largest")
    raise Mismatch(want, f"{got:.6g}: calling samples with a score >= {got:.6g} defective finds {found} of "
                   f"{positives} defective samples, fewer than the {needed} needed",
                   "count the samples AT the threshold as defective (>=), and take k = ceil(recall x defective "
                   "count): the k-th largest defective score.")


def _expect_value_error(answer, scores, targets, recall, why: str) -> None:
    want = f"ValueError for {why}"
    from ....checking.sandbox import LearnerError
    try:
        result = call_learner(answer, scores.clone(), targets.clone(), recall)
    except LearnerError as err:
        if err.original_type is not None and issubclass(err.original_type, ValueError):
            return
        raise Mismatch(want, f"raised {err}", "check the arguments first and raise ValueError with a message that "
                       "says what to pass instead.") from None
    raise Mismatch(want, f"returned {describe(result)}", "check the arguments first: `if not 0 < recall <= 1: raise "
                   "ValueError(...)`, and raise ValueError when no target is 1.")


def check_threshold_for_recall(answer) -> None:
    """Judge threshold_for_recall on distinct and tied scores, recalls from 0.05 to 1, exact fractions, float64
    scores and int32 targets, against the course's reference; ValueError for no defective sample and recalls
    outside (0, 1].

    Names: `interpolated_quantile`, `wrong_class`, `not_largest`.
    """
    for description, scores, targets, recall in _scores_cases():
        expected = reference_threshold(scores, targets, recall)
        want = (f"{expected:.6g}, the largest score t with score >= t finding at least {recall:.0%} of the defective "
                f"samples, for {description}")
        got = expect.number(expect.on_copies(answer, scores, targets, recall), want,
                            "return the threshold as a Python float: .item() on a one-element tensor.")
        if not math.isclose(got, expected, rel_tol=0, abs_tol=1e-7 if scores.dtype == torch.float64 else 1e-6):
            _name_threshold_mistake(got, scores, targets, recall, expected, want)
    scores, targets = torch.tensor([0.2, 0.7, 0.4]), torch.tensor([0, 0, 0])
    _expect_value_error(answer, scores, targets, 0.9, "targets without a defective sample (all 0)")
    for recall in (0.0, 1.5, -0.2):
        _expect_value_error(answer, scores, torch.tensor([0, 1, 1]), recall, f"recall={recall} (outside (0, 1])")
