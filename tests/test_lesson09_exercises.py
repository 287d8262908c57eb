"""Lesson 09 checks beyond the contract: the folders' odd files, returned types, rounding, changed inputs, global
RNGs."""
import glob
import os
import random
from pathlib import Path

import numpy as np
import pytest
import torch
from torchvision import datasets

from course_utils import check_exercise
from course_utils.lessons.lesson09.answers import split_with_the_global_seed
from course_utils.lessons.lesson09.checks.folders import FOLDERS, write
from course_utils.lessons.lesson09.exercises import best_checkpoint, class_weights, split_dataset
from helpers import assert_concrete, assert_passes


def _failed(name, answer):
    result = check_exercise(name, answer)
    assert result.status == "failed", result
    assert_concrete(result)
    return result


def _cut(paths, label, fractions, rounding=round):
    """Consecutive slices of one class's shuffled paths: every split but the first sized by ``rounding``."""
    sizes = [rounding(len(paths) * f) for f in list(fractions.values())[1:]]
    sizes.insert(0, len(paths) - sum(sizes))
    cuts = np.cumsum([0, *sizes])
    return {name: [(p, label) for p in paths[a:b]] for name, a, b in zip(fractions, cuts, cuts[1:])}


def _split(root, fractions, seed, files=None, rounding=round, label_of=lambda label, name: label):
    """A correct split but for what the arguments change: how files are listed, sizes rounded, classes labelled."""
    splits = {name: [] for name in fractions}
    rng = random.Random(seed)
    classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    for label, name in enumerate(classes):
        paths = files(os.path.join(root, name)) if files else \
            [p for p, y in datasets.ImageFolder(root).samples if y == label]
        rng.shuffle(paths)
        for split, pairs in _cut(paths, label_of(label, name), fractions, rounding).items():
            splits[split] += pairs
    return splits


# ---------------------------------------------------------------- split_dataset

def test_the_checker_folders_are_what_imagefolder_sees(tmp_path):
    for folder in FOLDERS:
        root, images = write(tmp_path, folder)
        dataset = datasets.ImageFolder(root)
        assert dataset.class_to_idx == folder.index
        assert {os.path.realpath(p): y for p, y in dataset.samples} == {k: v[1] for k, v in images.items()}
        assert [c for c, _, _ in folder.classes] != sorted(c for c, _, _ in folder.classes) or folder.extras


def test_split_accepts_paths_numpy_labels_tuples_and_any_order():
    def path_objects(root, fractions, seed):
        return {name: [(Path(p), np.int32(y)) for p, y in reversed(pairs)]
                for name, pairs in split_dataset(root, fractions, seed).items()}

    def tuples_of_lists(root, fractions, seed):
        return {name: tuple([str(p), y] for p, y in sorted(pairs))
                for name, pairs in split_dataset(root, fractions, seed).items()}
    assert_passes("split_dataset", path_objects)
    assert_passes("split_dataset", tuples_of_lists)


def test_split_leaves_every_global_rng_as_it_was():
    random.seed(123)
    np.random.seed(123)
    torch.manual_seed(123)
    before = random.getstate(), np.random.get_state()[1].copy(), torch.get_rng_state()
    assert_passes("split_dataset", split_with_the_global_seed)     # seeds the global generator itself
    assert_passes("split_dataset", split_dataset)
    assert random.getstate() == before[0] and np.array_equal(np.random.get_state()[1], before[1])
    assert torch.equal(torch.get_rng_state(), before[2])


def test_split_rounding_down_is_explained_not_called_unstratified():
    result = _failed("split_dataset", lambda root, fractions, seed: _split(root, fractions, seed, rounding=int))
    assert result.mistake is None and "rounded down" in result.message and "round(n * fraction)" in result.message


def test_split_odd_files_get_their_own_advice():
    def every_file(folder):
        return sorted(os.path.join(where, f) for where, _, files in os.walk(folder) for f in files)

    def lower_case_only(folder):
        return [f for f in every_file(folder) if f.endswith((".png", ".jpg"))]

    def this_folder_only(folder):                      # subfolders of a class folder missed
        return sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith((".png", ".JPG")))

    def one_pattern(folder):                           # a '*.jpg' glob: the .png files are never listed
        return sorted(glob.glob(os.path.join(folder, "*.jpg")))

    def every_entry_a_class(root, fractions, seed):
        for name in sorted(os.listdir(root)):
            os.listdir(os.path.join(root, name))             # README.md is no folder
        return split_dataset(root, fractions, seed)
    assert "notes.txt" in _failed("split_dataset", lambda r, f, s: _split(r, f, s, files=every_file)).message
    assert "lower case" in _failed("split_dataset", lambda r, f, s: _split(r, f, s, files=lower_case_only)).message
    assert "subfolders" in _failed("split_dataset", lambda r, f, s: _split(r, f, s, files=this_folder_only)).message
    assert "no directories" in _failed("split_dataset", every_entry_a_class).message
    message = _failed("split_dataset", lambda r, f, s: _split(r, f, s, files=one_pattern)).message
    assert "images in no split" in message and "listed no .png file" in message and "sizes" not in message


def _each_pair(change):
    """An answer that splits correctly, then changes every (path, class index) pair with ``change(root, pair)``."""
    def answer(root, fractions, seed):
        return {n: [change(root, pair) for pair in pairs] for n, pairs in split_dataset(root, fractions, seed).items()}
    return answer


def test_split_wrong_shapes_of_answer_are_named():
    relative = _each_pair(lambda root, pair: (os.path.relpath(pair[0], root), pair[1]))
    names_as_labels = _each_pair(lambda root, pair: (pair[0], datasets.ImageFolder(root).classes[pair[1]]))
    swapped = _each_pair(lambda root, pair: pair[::-1])

    def fixed_names(root, fractions, seed):
        return split_dataset(root, {name: fractions[name] for name in ("train", "val", "test")}, seed)
    assert "relative to root" in _failed("split_dataset", relative).message
    assert "class names" in _failed("split_dataset", names_as_labels).message
    assert "other order" in _failed("split_dataset", swapped).message
    assert "split names" in _failed("split_dataset", fixed_names).message


def test_split_must_not_change_the_folder_or_the_fractions():
    def moves_files(root, fractions, seed):
        splits = split_dataset(root, fractions, seed)
        os.makedirs(os.path.join(root, "train"))
        return splits

    def pops_a_fraction(root, fractions, seed):
        splits = split_dataset(root, fractions, seed)
        fractions.popitem()
        return splits
    assert "files under root changed" in _failed("split_dataset", moves_files).message
    assert "fractions dict changed" in _failed("split_dataset", pops_a_fraction).message


def test_split_labels_mixed_within_a_class_are_not_called_a_class_numbering():
    result = _failed("split_dataset", _each_pair(lambda root, pair: (pair[0], int(os.path.basename(pair[0])[:3]) % 3)))
    assert result.mistake is None and "several indices" in result.message


def test_split_sizes_from_other_fractions_are_not_called_unstratified():
    def fixed_fractions(root, fractions, seed):
        return _split(root, dict(zip(fractions, (0.8, 0.1, 0.1))), seed)     # not the fractions passed in
    result = _failed("split_dataset", fixed_fractions)
    assert result.mistake is None and "fractions passed in" in result.message


# ---------------------------------------------------------------- best_checkpoint

@pytest.mark.parametrize("returned, says", [
    (lambda h: max(h, key=lambda e: e["val_accuracy"]), "whole history entry"),
    (lambda h: max(e["val_accuracy"] for e in h), "an accuracy, not an epoch"),
    (lambda h: min(h, key=lambda e: e["val_accuracy"])["epoch"], "lowest val_accuracy"),
    (lambda h: float(best_checkpoint(h)), "a float"),
])
def test_best_checkpoint_other_returns_are_explained(returned, says):
    def answer(history):
        return returned(history)
    result = _failed("best_checkpoint", answer)
    assert result.mistake is None and says in result.message


def test_best_checkpoint_must_not_reorder_the_history():
    def sorts_in_place(history):
        history.sort(key=lambda entry: entry["val_accuracy"], reverse=True)
        return history[0]["epoch"]
    assert "changed while your function ran" in _failed("best_checkpoint", sorts_in_place).message


def test_best_checkpoint_from_a_numpy_table_passes():
    def through_numpy(history):
        table = np.array([[e["epoch"], e["val_accuracy"]] for e in history], dtype=np.float64)
        return table[np.argmax(table[:, 1]), 0].astype(np.int64)
    assert_passes("best_checkpoint", through_numpy)


# ---------------------------------------------------------------- class_weights

def test_class_weights_any_positive_scale_passes_and_a_negative_one_fails():
    assert_passes("class_weights", lambda targets, k: class_weights(targets, k) * 7)
    assert _failed("class_weights", lambda targets, k: -class_weights(targets, k)).mistake is None


def test_class_weights_dtype_lists_and_absent_classes_get_their_own_advice():
    def float64(targets, k):
        return class_weights(targets, k).double()

    def list_unsupported(targets, k):
        counts = targets.bincount(minlength=k).float()
        return torch.where(counts > 0, len(targets) / (k * counts), torch.zeros(k))

    def clamped(targets, k):
        counts = torch.bincount(torch.as_tensor(targets), minlength=k).float().clamp(min=1)
        return len(targets) / (k * counts)

    def integer_division(targets, k):
        counts = torch.bincount(torch.as_tensor(targets), minlength=k)
        return torch.where(counts > 0, len(targets) // (k * counts.clamp(min=1)), 0)
    assert "float32" in _failed("class_weights", float64).message
    assert "torch.as_tensor(targets)" in _failed("class_weights", list_unsupported).message
    assert "never occurs" in _failed("class_weights", clamped).message
    assert "floating point" in _failed("class_weights", integer_division).message


def test_class_weights_must_not_change_the_targets():
    def sorts_tensor(targets, k):
        if isinstance(targets, torch.Tensor):
            targets[:] = targets.sort().values
        return class_weights(targets, k)

    def sorts_list(targets, k):
        if isinstance(targets, list):
            targets.sort()
        return class_weights(targets, k)
    assert _failed("class_weights", sorts_tensor).mistake == "modified_input"
    assert "list of targets changed" in _failed("class_weights", sorts_list).message
