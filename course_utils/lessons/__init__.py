"""The lesson table: the one list of lessons, in course order. Each lesson's package (lessonNN/) holds its
exercises (checkers and declarations), answers (wrong and alternative answers), variants (more ways of committing each
named mistake) and mistakes (catalogue entries)."""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Iterator


@dataclass(frozen=True)
class Lesson:
    slug: str  # the notebook's file name without .ipynb, e.g. "01_tensor_shapes"
    title: str

    @property
    def number(self) -> str:
        return self.slug[:2]

    @property
    def package(self) -> str:
        return f"{__name__}.lesson{self.number}"


LESSONS: tuple[Lesson, ...] = (
    Lesson("01_tensor_shapes", "Tensor shapes, dtypes and devices"),
    Lesson("02_train_step", "The training step"),
    Lesson("03_cnn_shape_flow", "Shapes through a CNN"),
    Lesson("04_data_and_transforms", "Data, transforms and loaders"),
    Lesson("05_head_replacement", "A new head for a pretrained network"),
    Lesson("06_freezing", "Freezing the backbone, training the head"),
    Lesson("07_partial_fine_tuning", "Partial fine-tuning, compared honestly"),
    Lesson("08_evaluation_and_inference", "Evaluation and inference"),
    Lesson("09_your_own_images", "Your own images, end to end"),
    Lesson("10_solar_cell_defects", "Real images: solar-cell defects against a published benchmark"),
    Lesson("11_scaling_out", "From one notebook to many processes"),
)
PARTS = ("exercises", "answers", "variants", "mistakes")  # the modules a lesson package may have


def lesson_of(module_name: str) -> str:
    """The slug of the lesson whose package contains ``module_name`` (a lesson module calls it with __name__)."""
    for lesson in LESSONS:
        if module_name == lesson.package or module_name.startswith(lesson.package + "."):
            return lesson.slug
    raise LookupError(f"{module_name} is not inside a lesson package listed in {__name__}.LESSONS")


def lesson_modules(part: str) -> Iterator[ModuleType]:
    """Each lesson's ``part`` module (exercises or mistakes), in course order, for lessons that have one."""
    if part not in PARTS:
        raise ValueError(f"unknown lesson part {part!r}; choose one of {', '.join(PARTS)}")
    for lesson in LESSONS:
        try:
            yield importlib.import_module(f"{lesson.package}.{part}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{lesson.package}.{part}":
                raise
