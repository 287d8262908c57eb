"""The exercise registry: each lesson module declares its exercises as data in ``EXERCISES``."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from ..registry import collect

# One module per lesson, in course order; each defines EXERCISES: tuple[Exercise, ...].
LESSON_MODULES = ("lesson01", "lesson02", "lesson03", "lesson04")


@dataclass(frozen=True)
class Exercise:
    """One exercise: what the learner writes, how it is judged, and the help on offer."""

    name: str
    lesson: str
    task: str  # one sentence: what a correct answer does
    check: Callable[[Callable], None]  # raises Mismatch / LearnerError; returns None when correct
    solution: Callable  # the reference answer; its source is what solution(name) shows
    hints: tuple[str, ...]
    mistakes: tuple[str, ...]  # mistake ids this checker can recognise
    time_limit: float = 10.0


@lru_cache(maxsize=None)
def all_exercises() -> dict[str, Exercise]:
    return collect(__name__, LESSON_MODULES, "EXERCISES", "name")
