"""The generated dataset: deterministic bytes, verified reuse, interrupted runs detected and repaired."""
import json
from dataclasses import replace
from pathlib import Path

import pytest
from torchvision import datasets

from course_utils.data import generated as data
from course_utils.data.generated import TARGET_TASK, check_image_folder, dataset_root, generate_dataset, verify_dataset

TINY = replace(TARGET_TASK, name="tiny", per_class={"train": 2, "val": 1})


def _bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.png"))}


def test_same_seed_gives_the_same_bytes(tmp_path):
    a = generate_dataset(tmp_path / "a", TINY, progress=False)
    b = generate_dataset(tmp_path / "b", TINY, progress=False)
    assert _bytes(a) == _bytes(b) and len(_bytes(a)) == 5 * 3
    c = generate_dataset(tmp_path / "c", replace(TINY, seed=1), progress=False)
    assert _bytes(c) != _bytes(a)


def test_generated_folder_is_a_valid_image_folder(tmp_path):
    root = generate_dataset(tmp_path / "d", TINY, progress=False)
    train = datasets.ImageFolder(root / "train")
    assert train.classes == sorted(TARGET_TASK.classes) and len(train) == 10
    assert train[0][0].size == (64, 64) and train[0][0].mode == "RGB"
    assert verify_dataset(root) is None


def test_verification_catches_damage(tmp_path):
    root = generate_dataset(tmp_path / "e", TINY, progress=False)
    first = sorted(root.rglob("*.png"))[0]
    first.write_bytes(first.read_bytes()[:-10])
    assert "corrupted" in verify_dataset(root)
    first.unlink()
    assert "missing" in verify_dataset(root)
    (root / "manifest.json").unlink()
    assert "no manifest" in verify_dataset(root)


@pytest.fixture
def tiny_course(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))
    monkeypatch.delenv("COURSE_DATA", raising=False)
    monkeypatch.setattr(data, "TARGET_TASK", replace(TINY, name="shapes5"))
    return tmp_path


def test_complete_dataset_is_reused_not_rebuilt(tiny_course):
    root = dataset_root(progress=False)
    stamp = {p: p.stat().st_mtime_ns for p in root.rglob("*.png")}
    assert dataset_root(progress=False) == root
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*.png")} == stamp


def test_interrupted_generation_is_detected_and_repaired(tiny_course, capsys):
    root = dataset_root(progress=False)
    manifest = json.loads((root / "manifest.json").read_text())
    # An interrupted run: half the files, no manifest, and a leftover .partial folder.
    for path in sorted(root.rglob("*.png"))[::2]:
        path.unlink()
    (root / "manifest.json").unlink()
    root.with_name(root.name + ".partial").mkdir()
    repaired = dataset_root(progress=False)
    assert "incomplete course dataset" in capsys.readouterr().out
    assert verify_dataset(repaired) is None
    assert json.loads((repaired / "manifest.json").read_text()) == manifest
    assert not root.with_name(root.name + ".partial").exists()


def test_learners_own_folder_is_used_and_checked(tmp_path, monkeypatch):
    own = generate_dataset(tmp_path / "mine", TINY, progress=False)
    monkeypatch.setenv("COURSE_DATA", str(own))
    assert dataset_root(progress=False) == own
    (tmp_path / "empty" / "train").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="train/<class_name>"):
        check_image_folder(tmp_path / "empty")


def test_a_split_without_a_class_is_verified_and_rebuilt_when_changed(tiny_course):
    from course_utils.data.generated import split_without
    root = dataset_root(progress=False)
    copy = split_without(root, "val", missing="tee")
    assert sorted(p.name for p in copy.iterdir()) == sorted(c for c in TARGET_TASK.classes if c != "tee")
    first = sorted(copy.rglob("*.png"))[0]
    first.unlink()                                   # someone deletes a file from the derived copy
    (copy / "crescent" / "extra.png").write_bytes(b"junk")
    repaired = split_without(root, "val", missing="tee")
    assert first.exists() and not (repaired / "crescent" / "extra.png").exists()
