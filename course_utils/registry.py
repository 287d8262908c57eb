"""The registries, filled from the lesson table: every exercise, and every catalogue entry a learner can show.

Catalogue entries are the lessons' scripted mistakes plus, for every mistake id an exercise's checker can
name that has no scripted entry, one derived from the exercise's own wrong answer that commits it.
"""
from __future__ import annotations

from functools import lru_cache
from types import MappingProxyType
from typing import Any, Mapping

from .catalogue.derived import CheckedMistake
from .checking.exercise import Exercise
from .lessons import lesson_modules


def _collect(part: str, attribute: str, key: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for module in lesson_modules(part):
        for item in getattr(module, attribute):
            name = getattr(item, key)
            if name in found:
                raise RuntimeError(f"{name!r} is declared twice ({module.__name__})")
            found[name] = item
    return found


@lru_cache(maxsize=None)
def all_exercises() -> Mapping[str, Exercise]:
    """Every exercise by name, in course order (read-only)."""
    return MappingProxyType(_collect("exercises", "EXERCISES", "name"))


@lru_cache(maxsize=None)
def scripted_mistakes() -> Mapping[str, Any]:
    """The hand-written catalogue entries (broken and fixed code with measured fingerprints), by id."""
    return MappingProxyType(_collect("mistakes", "MISTAKES", "id"))


@lru_cache(maxsize=None)
def derived_mistakes() -> Mapping[tuple[str, str], CheckedMistake]:
    """(exercise name, mistake id) -> the entry showing that exercise's wrong answer for the mistake."""
    return MappingProxyType({(exercise.name, mistake): CheckedMistake(mistake, exercise, answer)
                             for exercise in all_exercises().values() for mistake, answer in exercise.broken.items()})


@lru_cache(maxsize=None)
def all_mistakes() -> Mapping[str, Any]:
    """Every id show_symptom accepts: scripted entries first, then the first exercise that names each other id."""
    entries = dict(scripted_mistakes())
    for (_, mistake), entry in derived_mistakes().items():
        entries.setdefault(mistake, entry)
    return MappingProxyType(entries)


def exercises_naming(mistake: str) -> list[str]:
    return [name for name, exercise in all_exercises().items() if mistake in exercise.broken]
