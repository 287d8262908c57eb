"""The registries, filled from the lesson table: every exercise, and every catalogue entry a learner can show.

Exercises and their answers are declared by decorator in the lessons (lessons/declare.py); scripted catalogue
entries are each lesson's MISTAKES. Catalogue entries are the scripted ones plus, for every mistake id an
exercise's checker can name that has no scripted entry, one derived from the exercise's own wrong answer.
"""
from __future__ import annotations

import dataclasses
from functools import lru_cache
from types import MappingProxyType
from typing import Mapping

from .catalogue import CatalogueEntry, Mistake
from .catalogue.derived import CheckedMistake
from .checking.exercise import Exercise
from .lessons import LESSONS, lesson_modules, lesson_of
from .lessons.declare import DECLARED, DeclarationError, Declarations


def build_exercises(declared: Declarations) -> dict[str, Exercise]:
    """Exercise objects from the declarations, in course order; answers must sit in their exercise's lesson."""
    unknown = declared.answers_to_unknown_exercises()
    if unknown:
        name, where = next(iter(unknown.items()))
        raise DeclarationError(f"{', '.join(where)} answer(s) exercise {name!r}, which no @exercise declares; "
                               f"declared exercises: {', '.join(declared.exercises)}")
    order = {lesson.slug: index for index, lesson in enumerate(LESSONS)}
    exercises = {}
    for fields in sorted(declared.exercises.values(), key=lambda f: order[f["lesson"]]):
        name = fields["name"]
        wrong, correct = declared.wrong.get(name, {}), declared.correct.get(name, {})
        variants = tuple((mistake, answer) for mistake, answers in declared.variants.get(name, {}).items()
                         for answer in answers.values())
        stray = sorted({mistake for mistake, _ in variants} - set(wrong))
        if stray:
            raise DeclarationError(f"{name!r} has other ways of committing {', '.join(stray)} but no @wrong_answer "
                                   f"with that id; its ids: {', '.join(wrong) or 'none'}")
        for answer in (*wrong.values(), *correct.values(), *(a for _, a in variants)):
            if lesson_of(answer.__module__) != fields["lesson"]:
                raise DeclarationError(f"{answer.__module__}.{answer.__qualname__} answers {name!r} of lesson "
                                       f"{fields['lesson']}: declare it in that lesson's package")
        exercises[name] = Exercise(**fields, wrong_answers=MappingProxyType(dict(wrong)),
                                   alternatives=tuple(correct.values()), variants=variants)
    return exercises


@lru_cache(maxsize=None)
def all_exercises() -> Mapping[str, Exercise]:
    """Every exercise by name, in course order (read-only)."""
    for part in ("exercises", "answers", "variants"):
        for _ in lesson_modules(part):  # importing a lesson's modules runs its declarations
            pass
    return MappingProxyType(build_exercises(DECLARED))


@lru_cache(maxsize=None)
def scripted_mistakes() -> Mapping[str, Mistake]:
    """The hand-written catalogue entries (broken and fixed code with measured fingerprints), by id."""
    found: dict[str, Mistake] = {}
    for module in lesson_modules("mistakes"):
        lesson = lesson_of(module.__name__)
        for entry in module.MISTAKES:
            if entry.id in found:
                raise DeclarationError(f"catalogue entry {entry.id!r} is declared twice ({module.__name__})")
            found[entry.id] = dataclasses.replace(entry, lesson=lesson)
    return MappingProxyType(found)


@lru_cache(maxsize=None)
def derived_mistakes() -> Mapping[tuple[str, str], CheckedMistake]:
    """(exercise name, mistake id) -> the entry showing that exercise's wrong answer for the mistake."""
    return MappingProxyType({(exercise.name, mistake): CheckedMistake(mistake, exercise, answer)
                             for exercise in all_exercises().values()
                             for mistake, answer in exercise.wrong_answers.items()})


@lru_cache(maxsize=None)
def all_mistakes() -> Mapping[str, CatalogueEntry]:
    """Every id show_symptom accepts: scripted entries first, then the first exercise that names each other id."""
    entries: dict[str, CatalogueEntry] = dict(scripted_mistakes())
    for (_, mistake), entry in derived_mistakes().items():
        entries.setdefault(mistake, entry)
    return MappingProxyType(entries)


def exercises_naming(mistake: str) -> list[str]:
    return [name for name, exercise in all_exercises().items() if mistake in exercise.wrong_answers]
