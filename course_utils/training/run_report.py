"""Lesson 09's results in words, printed from the run's own numbers (yours or the stored run's), not written for one."""
from __future__ import annotations

import math

import torch

from ..data.imbalance import rare_and_others, rare_gain


def _verdict(z: float) -> str:
    if not math.isfinite(z):
        return "no z: the classes' gains do not vary"
    return f"z = {z:+.1f}, " + ("more than noise (|z| >= 2)" if abs(z) >= 2 else "within noise (|z| < 2)")


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}" + ("" if number == 1 else "s")


def rare_class_report(study: dict[str, torch.Tensor], classes: list[str], keep: int) -> list[str]:
    """What the rare-class study shows: the cost of having only ``keep`` images of a class, what each way of
    weighting recovered (paired, with its error and verdict), and how much the classes differ."""
    whole, _ = rare_and_others(study["all images"])
    plain, plain_others = rare_and_others(study["plain"])
    lines = [f"* With all its training images, a class's validation images are recognised {whole.nanmean():.3f} of the "
             f"time on average; cut to {keep} images, plain training recognises them {plain.nanmean():.3f} of the "
             f"time (the other classes meanwhile: {plain_others.nanmean():.3f})."]
    for how in ("weighted loss", "weighted sampler"):
        gain, error, higher, heads = rare_gain(study, how, "plain")
        z = gain / error if error > 0 else float("nan")
        _, others = rare_and_others(study[how])
        lines.append(f"* {how}: the rare class {plain.nanmean():.3f} -> {rare_and_others(study[how])[0].nanmean():.3f}, "
                     f"a paired gain of {gain:+.3f} ± {error:.3f} ({_verdict(z)}; the error comes from "
                     f"{len(classes)} numbers, one per class, so it is itself rough), higher in {higher} of {heads} "
                     f"paired heads; the other classes {others.nanmean():.3f}.")
    order = plain.argsort(descending=True).tolist()
    lines.append(f"* The classes differ: made rare, {classes[order[0]]!r} is still recognised {plain[order[0]]:.2f} of "
                 f"the time by plain training, {classes[order[-1]]!r} {plain[order[-1]]:.2f}.")
    recovered = max(rare_gain(study, how, "plain")[0] for how in ("weighted loss", "weighted sampler"))
    lost = (whole - plain).nanmean().item()
    lines.append(f"* Of the {lost:.3f} that having only {keep} images cost, weighting recovered at most {recovered:+.3f} "
                 f"here: it tells the head the rare class matters; it cannot show it what the class looks like.")
    return lines


def run_report(history: list[dict], best_epoch: int, test_accuracy: float, test_count: int) -> list[str]:
    """What a fit_recipe run shows: the head phase, the kept epoch, and the test score with its uncertainty."""
    by_epoch = {row["epoch"]: row for row in history}
    head = [row for row in history if row["phase"] == "head"]
    block = [row for row in history if row["phase"] != "head"]
    lines = []
    if head:
        lines.append(f"* The head alone reached {max(r['val_accuracy'] for r in head):.3f} validation accuracy in "
                     f"{len(head)} epochs" + (f"; with the last block training too, the best was "
                     f"{max(r['val_accuracy'] for r in block):.3f}." if block else "."))
    kept = by_epoch[best_epoch]
    lines.append(f"* Kept: epoch {best_epoch} ({kept['phase']} phase), validation {kept['val_accuracy']:.3f}, the best "
                 f"of {len(history)} scores on the same validation images, so it tends to be optimistic.")
    if 0 < test_accuracy < 1:
        margin = 2 * math.sqrt(test_accuracy * (1 - test_accuracy) / test_count)
        agrees = abs(kept["val_accuracy"] - test_accuracy) <= margin
        spread = (f"uncertain by about ±{margin:.3f} (two standard errors); the validation figure is "
                  f"{'inside' if agrees else 'outside'} that range")
    else:  # no spread to estimate from an all-or-nothing score
        spread = (f"every image right: with {test_count} images, the true error rate can still be up to about "
                  f"{3 / test_count:.3f} (the rule of three, 95 %)" if test_accuracy else "every image wrong")
    lines.append(f"* Test, measured once: {test_accuracy:.3f} on {test_count} images, {spread}. The test figure was "
                 f"chosen on nothing: it is the one to report.")
    return lines


def predictions_report(rows: list[dict], truth: dict[str, str], threshold: float) -> list[str]:
    """What predict_files' rows show for files whose class is known (``truth``: file -> class) and the others."""
    known = [row for row in rows if row["file"] in truth and row["class"]]
    right = [row for row in known if row["class"] == truth[row["file"]]]
    wrong = [row for row in known if row["class"] != truth[row["file"]]]
    flagged = lambda group: sum(bool(row["low_confidence"]) for row in group)  # noqa: E731
    mistakes = (f"of the {_count(len(wrong), 'mistake')}, {flagged(wrong)} flagged (probability under {threshold}) and "
                f"{len(wrong) - flagged(wrong)} not" if wrong else f"no mistake to flag (probability under {threshold})")
    lines = [f"* {len(right)} of the {len(known)} held-out images got their class; {mistakes}; "
             f"{_count(flagged(right), 'correct answer')} flagged too."]
    for row in rows:
        if row["file"] not in truth and row["class"]:
            lines.append(f"* {row['file'].rsplit('/', 1)[-1]}, of none of the classes, was called {row['class']!r} at "
                         f"{row['probability']:.2f}: {'flagged' if row['low_confidence'] else 'NOT flagged'}.")
    unreadable = sum(not row["class"] for row in rows)
    lines.append(f"* {_count(unreadable, 'unreadable file')}: a row saying why for each; the rest went on.")
    return lines
