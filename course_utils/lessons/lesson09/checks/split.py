"""Lesson 09: the checker of split_dataset (one folder of class folders into stratified, seeded splits)."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from ....checking.sandbox import LearnerError, Mismatch, call_learner
from .folders import FOLDERS, Folder, fingerprint, image_bytes, locate, read_splits, write

__all__ = ["check_split_dataset", "image_bytes"]

Split = dict[str, frozenset]  # split name -> {(real path of an image, class index)}


def _call(answer, folder: Folder, root: Path, seed: int, want: str) -> Any:
    """Run the answer on a copy of the fractions; its errors about the folder's odd entries said in plain words."""
    fractions = dict(folder.fractions)
    before = fingerprint(root)
    try:
        result = call_learner(answer, root if folder.as_path else str(root), fractions, seed)
    except LearnerError as err:
        if err.original_type is not None and issubclass(err.original_type, NotADirectoryError):
            raise Mismatch(want, f"raised {err}", "ImageFolder takes only the folders inside root as classes (this "
                           "root also holds a README.md): skip entries that are no directories (Path.is_dir(), "
                           "os.path.isdir), or let datasets.ImageFolder(root) find the classes.") from None
        if err.kind == "KeyError" and err.text.strip("'\"") in ("train", "val", "test"):
            raise Mismatch(want, f"raised {err} for fractions {folder.shown_fractions}", "take the split names "
                           "from fractions (for name, fraction in fractions.items()) instead of writing your own.") \
                from None
        raise
    kept = len(fractions) == len(folder.fractions) and all(  # only our own types compared: none of the answer's code
        type(k) is str and type(v) is float and (k, v) == pair
        for (k, v), pair in zip(fractions.items(), folder.fractions))
    if not kept or fingerprint(root) != before:
        changed = "the fractions dict" if not kept else "the files under root"
        advice = ("leave the fractions dict as it came: read it, or work on dict(fractions)." if not kept else
                  "only read the folder: split_dataset returns lists of paths; copying files into split folders "
                  "is a later step.")
        raise Mismatch(want, f"{changed} changed while your function ran", advice)
    return result


def _placed(result: Any, folder: Folder, root: Path, images: dict, want: str) -> Split:
    """The returned splits as sets of (image, class index); refuses overlaps, repeats, strays and missing images."""
    splits = {name: [(locate(text, root, images, want), label) for text, label in pairs]
              for name, pairs in read_splits(result, folder, want).items()}
    where: dict[str, list[str]] = {}
    for name, pairs in splits.items():
        for image, _ in pairs:
            where.setdefault(image, []).append(name)
    across = [(image, names) for image, names in where.items() if len(set(names)) > 1]
    if across:
        image, names = across[0][0], sorted(set(across[0][1]), key=across[0][1].index)
        raise Mismatch(f"every image in exactly one split, for {folder.description}", f"{len(across)} images in more "
                       f"than one split, e.g. {images[image][0]} in both {names[0]!r} and {names[1]!r}",
                       "cut each class's shuffled list of files into consecutive slices that do not overlap, so that "
                       "each split only gets what the others did not take.", "overlapping_splits")
    repeated = [(image, names[0]) for image, names in where.items() if len(names) > 1]
    if repeated:
        raise Mismatch(f"every image once, for {folder.description}", f"{images[repeated[0][0]][0]} listed more "
                       f"than once in {repeated[0][1]!r}", "take each file once: slice one shuffled list instead of "
                       "drawing files with replacement (random.choices).")
    missing = [shown for image, (shown, _) in images.items() if image not in where]
    if missing:
        raise Mismatch(f"all {len(images)} images in the splits, for {folder.description}",
                       f"{len(missing)} images in no split, e.g. {missing[0]}", _why_missing(missing, [
                           images[image][0] for image in where if image in images]))
    return {name: frozenset(pairs) for name, pairs in splits.items()}


def _why_missing(missing: list[str], listed: list[str]) -> str:
    """What the files an answer never listed have in common, as advice: case, another extension, a subfolder."""
    suffix = lambda shown: shown.rsplit(".", 1)[-1] if "." in shown.rsplit("/", 1)[-1] else ""  # noqa: E731
    if all(suffix(shown).isupper() for shown in missing):
        return ("compare extensions in lower case: ImageFolder takes .JPG files as it takes .jpg (it tests "
                "name.lower().endswith(IMG_EXTENSIONS)).")
    if all(shown.count("/") > 1 for shown in missing):
        return ("look inside subfolders of a class folder too, as ImageFolder does: os.walk(class_folder) or "
                "Path(class_folder).rglob('*').")
    unlisted = sorted({suffix(shown).lower() for shown in missing} - {suffix(shown).lower() for shown in listed})
    if unlisted:
        return (f"your answer listed no .{', .'.join(unlisted)} file at all: take every image ImageFolder reads, "
                "whatever its extension (datasets.ImageFolder(root).samples, or name.lower().endswith("
                "IMG_EXTENSIONS)), not one pattern such as '*.jpg'.")
    return ("put every image of every class in one of the splits: the sizes of a class's splits add up to its "
            "number of images.")


def _judge_labels(placed: Split, folder: Folder, images: dict) -> None:
    given: dict[str, set[int]] = {}
    for pairs in placed.values():
        for image, label in pairs:
            given.setdefault(images[image][0].split("/")[0], set()).add(label)
    if all(given[name] == {index} for name, index in folder.index.items()):
        return
    expected = ", ".join(f"{name} {index}" for name, index in folder.index.items())
    want = f"class indices as ImageFolder numbers the sorted class folders ({expected}), for {folder.description}"
    advice = ("number only the class folders, sorted by name, from 0: datasets.ImageFolder(root).class_to_idx gives "
              "exactly that.")
    mixed = [name for name, labels in given.items() if len(labels) > 1]
    if mixed:
        raise Mismatch(want, f"the images of {mixed[0]!r} under several indices, {sorted(given[mixed[0]])}", advice)
    shown = ", ".join(f"{name} {next(iter(given[name]))}" for name in folder.index)
    raise Mismatch(want, f"classes numbered {shown}", advice, "wrong_class_index")


def _judge_sizes(placed: Split, folder: Folder, images: dict) -> None:
    """Each class split by itself: every split within one image of n x its fraction."""
    names = [name for name, _ in folder.fractions]
    counts = {c: {name: 0 for name in names} for c, _, _ in folder.classes}
    for name, pairs in placed.items():
        for image, _ in pairs:
            counts[images[image][0].split("/")[0]][name] += 1
    sizes, fractions = {c: n for c, n, _ in folder.classes}, dict(folder.fractions)
    off = lambda c, name: counts[c][name] - sizes[c] * fractions[name]  # noqa: E731
    bad = [c for c in sizes if any(abs(off(c, name)) > 1 + 1e-9 for name in names)]
    if not bad:
        return
    c = bad[0]
    want = (f"each class split by itself, every split within one image of n x its fraction {folder.shown_fractions}, "
            f"for {folder.description}: for {c!r} ({sizes[c]} images) about "
            + ", ".join(f"{name} {sizes[c] * f:g}" for name, f in folder.fractions))
    got = f"{c!r} split into " + ", ".join(f"{name} {counts[c][name]}" for name in names)
    for rest in names:  # every split but one rounded, that one taking what was left: a rounding rule, not a shuffle
        if all(abs(off(k, name)) < 1 for k in sizes for name in names if name != rest):
            down = all(off(k, name) <= 0 for k in sizes for name in names if name != rest)
            raise Mismatch(want, f"{got}: every split but {rest!r} {'rounded down' if down else 'rounded'}, and "
                           f"{rest!r} took what was left, more than one image off", "round each size to the nearest "
                           "whole number, round(n * fraction): int() drops up to one image per split, and the split "
                           "that takes the rest collects them all.")
    total, slack = sum(sizes.values()), len(names) - 1 + 1e-9
    if all(abs(sum(counts[k][name] for k in sizes) - total * f) <= slack for name, f in folder.fractions):
        raise Mismatch(want, f"{got}: the split sizes are right overall, but the classes are mixed by chance",
                       "split each class by itself (stratified): group the files by class, then shuffle and cut "
                       "every group with the same fractions.", "not_stratified")
    raise Mismatch(want, got, "give each split round(n * fraction) of a class's n images, with the fractions passed "
                   "in (the first split takes what is left).")


def _unshuffled(placed: Split, images: dict) -> bool:
    """Every class's files, in name order, run through the splits in blocks: cut without shuffling."""
    for c in {shown.split("/")[0] for shown, _ in images.values()}:
        order = sorted((images[image][0], name) for name, pairs in placed.items() for image, _ in pairs
                       if images[image][0].startswith(c + "/"))
        if sum(a[1] != b[1] for a, b in zip(order, order[1:])) > len(placed) - 1:
            return False
    return True


def _judge_folder(answer, folder: Folder, base: Path) -> None:
    root, images = write(base, folder)
    first, again, other = folder.seeds
    want = f"{{split: [(path, class index), ...]}} for {folder.description}, fractions {folder.shown_fractions}"

    def split(seed: int) -> Split:
        placed = _placed(_call(answer, folder, root, seed, want), folder, root, images, want)
        _judge_labels(placed, folder, images)
        _judge_sizes(placed, folder, images)
        return placed

    reference = split(first)
    repeated = split(first)
    if repeated != reference:
        moved = sum(1 for name in reference for pair in reference[name] if pair not in repeated[name])
        raise Mismatch(f"the same lists from two calls with seed={first}, for {folder.description}",
                       f"different splits: {moved} of {len(images)} images moved to another split between the calls",
                       "shuffle with a generator made from the seed, random.Random(seed) (or "
                       "torch.Generator().manual_seed(seed)): the global random.shuffle and np.random.permutation go "
                       "on where the last call left off.", "not_deterministic")
    if split(again) == reference and split(other) == reference:
        how = ("files cut in name order, never shuffled" if _unshuffled(reference, images)
               else "a shuffle that does not depend on the seed")
        raise Mismatch(f"other lists for another seed, for {folder.description}",
                       f"the same splits for seeds {first}, {again} and {other}: {how}",
                       "shuffle each class's files with a generator made from the seed argument: "
                       "random.Random(seed).shuffle(files).", "ignores_seed")


def check_split_dataset(answer) -> None:
    """Judge split_dataset on two temporary folders of imbalanced class folders (FOLDERS: .JPG files, a notes.txt and a
    README.md that ImageFolder ignores), with 3 and 2 splits of other names; each first seed is called twice and two
    other seeds once each; the folder and the fractions must be left as they were.

    Names: `overlapping_splits`, `wrong_class_index`, `not_stratified`, `not_deterministic`, `ignores_seed`.
    """
    with tempfile.TemporaryDirectory(prefix="course-split-") as tmp:
        for folder in FOLDERS:
            _judge_folder(answer, folder, Path(tmp))

