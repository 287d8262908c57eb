"""Shared test helpers: load the generated stub of an exercise, assert a check's outcome."""
from __future__ import annotations

from pathlib import Path

import nbformat
import torch

from course_utils import check_exercise
from course_utils.tools.make_exercises import make_exercise
from course_utils.registry import all_exercises

ROOT = Path(__file__).resolve().parent.parent


def stub(name: str):
    """The untouched starter function for exercise ``name``, exactly as the exercise notebook defines it."""
    lesson = all_exercises()[name].lesson
    notebook = make_exercise(nbformat.read(ROOT / "solutions" / f"{lesson}.ipynb", as_version=4))
    for cell in notebook.cells:
        if cell.cell_type == "code" and f"def {name}(" in cell.source:
            namespace: dict = {}
            exec(cell.source, namespace)
            return namespace[name]
    raise AssertionError(f"no cell defines {name} in the {lesson} exercises")


def solution_from_notebook(name: str):
    """The answer written in the solution notebook (not the checker's own reference)."""
    lesson = all_exercises()[name].lesson
    notebook = nbformat.read(ROOT / "solutions" / f"{lesson}.ipynb", as_version=4)
    namespace: dict = {}
    for cell in notebook.cells:
        if cell.cell_type == "code" and ("import " in cell.source or f"def {name}(" in cell.source):
            exec(cell.source, namespace)
    return namespace[name]


SECTIONS = ("Expected:", "Your answer:", "Try:")


def assert_concrete(result) -> None:
    """A failed result whose every section says something, and whose next step is a concrete one."""
    lines = result.message.splitlines()
    if "Expected:" not in result.message:  # the answer raised: the result says where, and offers hint and solution
        assert any(line.startswith("Stuck? hint(") for line in lines) or "What it means:" in result.message, result
        return
    for section in SECTIONS:
        found = [line[len(section):].strip() for line in lines if line.startswith(section)]
        if section == "Try:" or found:
            assert found and found[0], f"empty {section!r} in\n{result}"
    advice = next(line for line in lines if line.startswith("Try:"))[4:].strip()
    assert len(advice) >= 25 and not advice.endswith(":"), f"a next step too thin to act on: {advice!r}"


def assert_mistake(name: str, answer, mistake: str) -> None:
    result = check_exercise(name, answer)
    assert not result.passed, f"{mistake} mutant passed"
    assert result.status == "failed", result
    assert result.mistake == mistake, f"expected {mistake}, got {result.mistake}:\n{result}"
    assert "Expected:" in result.message
    assert_concrete(result)


def assert_passes(name: str, answer) -> None:
    result = check_exercise(name, answer)
    assert result.passed, str(result)


class Hostile:
    """An object whose every way of being shown or compared raises."""

    def __repr__(self):
        raise ValueError("repr fails")

    __str__ = __repr__

    def __eq__(self, other):
        raise ValueError("eq fails")

    def __bool__(self):
        raise ValueError("bool fails")

    def __len__(self):
        raise ValueError("len fails")

    def __iter__(self):
        raise ValueError("iter fails")

    def __getattr__(self, name):
        raise ValueError(f"getattr {name} fails")

    __hash__ = None


def linear_probe_accuracy(weights) -> float:
    """Validation accuracy of a linear classifier on frozen backbone features of the course's target task."""
    from torch import nn
    from torch.utils.data import DataLoader
    from torchvision import datasets
    from torchvision.models import resnet18

    from course_utils.data.generated import course_dataset
    from course_utils.models.features import extract_features, linear_probe

    root = course_dataset(progress=False)
    backbone = resnet18(num_classes=len(weights.meta["categories"]))
    backbone.load_state_dict(weights.get_state_dict())
    backbone.fc = nn.Identity()
    train, val = (extract_features(backbone, DataLoader(datasets.ImageFolder(root / split, weights.transforms()),
                                                        batch_size=128)) for split in ("train", "val"))
    return linear_probe(train, val)


class LyingTensor(torch.Tensor):
    """A tensor subclass whose torch.equal and torch.allclose always say yes."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func in (torch.equal, torch.allclose):
            return True
        return super().__torch_function__(func, types, args, kwargs or {})


def notebook_of(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(nb, path)
    return path
