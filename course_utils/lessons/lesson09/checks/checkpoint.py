"""Lesson 09: the checker of best_checkpoint (the epoch to keep, chosen on the validation accuracy)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ....checking import expect
from ....checking.describe import describe
from ....checking.sandbox import Mismatch, call_learner

KEYS = ("epoch", "train_accuracy", "val_accuracy", "test_accuracy")


def _history(first: int, train, val, test, number: Callable = float) -> list[dict]:
    return [{"epoch": first + i, "train_accuracy": number(a), "val_accuracy": number(b), "test_accuracy": number(c)}
            for i, (a, b, c) in enumerate(zip(train, val, test))]


def _histories():
    """(description, history): each built afresh, so an answer that changes one cannot change the next check."""
    yield ("8 epochs whose best val_accuracy, 0.74, is reached at epochs 4 and 6; test peaks at 5, train at 7",
           _history(1, *([n / 50 for n in counts] for counts in ((25, 30, 35, 38, 40, 42, 45, 44),    # train
                                                                  (24, 28, 33, 37, 36, 37, 35, 35),    # val
                                                                  (23, 27, 32, 35, 37, 36, 35, 34)))))  # test
    yield ("a run resumed at epoch 4 (epochs 4 to 9), accuracies as NumPy float32",
           _history(4, (0.70, 0.78, 0.84, 0.90, 0.89, 0.88), (0.66, 0.71, 0.75, 0.73, 0.72, 0.70),
                    (0.64, 0.69, 0.72, 0.71, 0.74, 0.70), np.float32))
    yield "a single epoch", _history(1, (0.5,), (0.4,), (0.45,))
    yield ("4 epochs with the same val_accuracy, as NumPy float64",
           _history(1, (0.5, 0.6, 0.7, 0.8), (0.6, 0.6, 0.6, 0.6), (0.55, 0.62, 0.58, 0.6), np.float64))


def _first_best(history: list[dict], key: str, best: Callable = max) -> int:
    """Position of the first entry with the best ``key``."""
    values = [entry[key] for entry in history]
    return values.index(best(values))


def _unchanged(given: Any, original: list[dict]) -> bool:
    """The history the answer got is still the one it was given (only our own types are compared)."""
    return type(given) is list and len(given) == len(original) and all(
        type(entry) is dict and list(entry) == list(ref) and all(
            type(entry[key]) is type(ref[key]) and entry[key] == ref[key] for key in ref)
        for entry, ref in zip(given, original))


def _faults(history: list[dict]) -> list[tuple[Any, str, str, str | None]]:
    """(what an answer with the fault returns, what it did, what to try, mistake id), in the order they are named."""
    epochs = [entry["epoch"] for entry in history]
    best = _first_best(history, "val_accuracy")
    latest = len(history) - 1 - _first_best(history[::-1], "val_accuracy")
    return [
        (best, "the position of the best entry in the list (counting from 0), not its epoch",
         "return the entry's own number, history[i]['epoch']: positions count from 0, epochs from wherever the run "
         "began.", "returned_index"),
        (best + 1, "the position of the best entry in the list counting from 1, not its 'epoch' value",
         "return the entry's own number, history[i]['epoch']: this history does not begin at epoch 1.",
         "returned_index"),
        (epochs[latest], "the latest of the epochs tied for the best val_accuracy",
         "keep the earliest: replace the best entry only on a strictly higher accuracy (> rather than >=); max() and "
         "np.argmax already return the first of equal values.", "latest_on_tie"),
        (epochs[-1], "the last epoch, whatever its val_accuracy", "keep the epoch with the highest val_accuracy: "
         "later epochs can overfit, and their weights are worse on new images.", "kept_last_epoch"),
        (epochs[_first_best(history, "test_accuracy")], "the epoch with the highest test_accuracy",
         "choose on val_accuracy: a test set used to choose is no longer an unbiased estimate of accuracy on new "
         "images; it is read once, for the epoch chosen.", "selected_on_test"),
        (epochs[_first_best(history, "train_accuracy")], "the epoch with the highest train_accuracy",
         "choose on val_accuracy: training accuracy keeps rising as the model memorises its training images.",
         "selected_on_train"),
        (epochs[_first_best(history, "val_accuracy", min)], "the epoch with the lowest val_accuracy",
         "take the highest val_accuracy: for an accuracy higher is better (only a loss is minimised).", None),
    ]


def _epoch(result: Any, history: list[dict], want: str) -> int:
    if isinstance(result, dict):
        raise Mismatch(want, "a whole history entry (a dict)", "return its epoch number: entry['epoch'].")
    value = expect.plain_number(result)
    if isinstance(value, float) and any(value == entry["val_accuracy"] for entry in history):
        raise Mismatch(want, f"{describe(result)}: an accuracy, not an epoch", "return the 'epoch' of the entry with "
                       "the highest val_accuracy, not the accuracy itself.")
    return expect.number(result, want, "return the epoch as an int: entry['epoch'].", integral=True)


def check_best_checkpoint(answer) -> None:
    """Judge best_checkpoint on 4 histories: 8 epochs with a tie for the best val_accuracy, a run resumed at epoch 4
    (NumPy float32), a single epoch, and 4 equal val_accuracy values (NumPy float64); the history must stay unchanged.

    Names: `kept_last_epoch`, `selected_on_test`, `selected_on_train`, `returned_index`, `latest_on_tie`.
    """
    for description, history in _histories():
        original = [dict(entry) for entry in history]
        expected = history[_first_best(history, "val_accuracy")]["epoch"]
        want = f"epoch {expected} (the highest val_accuracy, the earliest on ties) for {description}"
        got = _epoch(call_learner(answer, history), original, want)
        if not _unchanged(history, original):
            raise Mismatch(want, "a history changed while your function ran (sorted or edited in place)",
                           "only read the history: sorted(history, key=...) makes a new list, list.sort() reorders "
                           "the one you were given.")
        if got == expected:
            continue
        for value, did, advice, mistake in _faults(original):
            if value == got and value != expected:
                raise Mismatch(want, f"epoch {got}: {did}", advice, mistake)
        epochs = [entry["epoch"] for entry in original]
        raise Mismatch(want, f"{got}" + ("" if got in epochs else f", no epoch of this history ({epochs[0]} to "
                                                                  f"{epochs[-1]})"),
                       "find the entry with the highest val_accuracy (the first of tied ones) and return its 'epoch'.")
