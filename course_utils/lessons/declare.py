"""Declarations by decorator (as timm's ``@register_model``): an exercise is declared where its reference solution is
written, a wrong answer or a differently written correct answer where it is written.

    @exercise(task="...", check=check_count_trainable, hints=(...))
    def count_trainable(model): ...

    @wrong_answer("count_trainable")                 # the mistake id is the function's name...
    def counted_tensors(model): ...

    @wrong_answer("to_batch", "modified_input")      # ...unless given
    def to_batch_modified_input(image): ...

    @alternative("count_trainable")
    def count_in_a_loop(model): ...

    @same_mistake("count_trainable", "counted_tensors")   # another way of committing a named mistake
    def counted_with_len(model): ...

Importing a lesson's modules fills the tables; ``course_utils.registry`` turns them into Exercise objects. The
name and lesson come from the function; an id declared twice fails at import.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from . import lesson_of


class DeclarationError(RuntimeError):
    """Two declarations claim the same name, or a declaration names an exercise that does not exist."""


def _origin(function: Callable) -> str:
    return f"{function.__module__}.{function.__qualname__}"


class Declarations:
    """What the decorators collected: exercises by name, and each exercise's wrong and correct answers."""

    def __init__(self) -> None:
        self.exercises: dict[str, dict[str, Any]] = {}
        self.solutions: dict[str, Callable] = {}
        self.wrong: dict[str, dict[str, Callable]] = {}
        self.correct: dict[str, dict[str, Callable]] = {}
        self.variants: dict[str, dict[str, dict[str, Callable]]] = {}  # exercise -> mistake -> qualname -> answer

    @staticmethod
    def _claim(table: dict[str, Callable], key: str, function: Callable, what: str) -> None:
        """Record ``function`` under ``key``; the same function again (a module reloaded) replaces itself."""
        held = table.get(key)
        if held is not None and _origin(held) != _origin(function):
            raise DeclarationError(f"{what} is declared twice: by {_origin(held)} and by {_origin(function)}")
        table[key] = function

    def exercise(self, *, task: str, check: Callable, hints: Sequence[str], prepare: Callable | None = None,
                 time_limit: float = 10.0) -> Callable[[Callable], Callable]:
        """Declare the decorated function as the reference solution of the exercise of the same name."""
        def declare(solution: Callable) -> Callable:
            name = solution.__name__
            self._claim(self.solutions, name, solution, f"exercise {name!r}")
            self.exercises[name] = dict(name=name, lesson=lesson_of(solution.__module__), task=task, check=check,
                                        solution=solution, hints=tuple(hints), prepare=prepare, time_limit=time_limit)
            return solution
        return declare

    def wrong_answer(self, exercise: str, mistake: str | None = None) -> Callable[[Callable], Callable]:
        """Declare the decorated function a wrong answer to ``exercise`` that commits ``mistake`` (default: its name)."""
        def declare(answer: Callable) -> Callable:
            key = mistake or answer.__name__
            self._claim(self.wrong.setdefault(exercise, {}), key, answer, f"wrong answer {key!r} of {exercise!r}")
            return answer
        return declare

    def alternative(self, exercise: str) -> Callable[[Callable], Callable]:
        """Declare the decorated function a correct answer to ``exercise``, written another way than the solution."""
        def declare(answer: Callable) -> Callable:
            self._claim(self.correct.setdefault(exercise, {}), answer.__qualname__, answer,
                        f"alternative {answer.__qualname__!r} of {exercise!r}")
            return answer
        return declare

    def same_mistake(self, exercise: str, mistake: str) -> Callable[[Callable], Callable]:
        """Declare the decorated function another way of committing ``mistake`` in ``exercise`` (tests name it)."""
        def declare(answer: Callable) -> Callable:
            self._claim(self.variants.setdefault(exercise, {}).setdefault(mistake, {}), answer.__qualname__, answer,
                        f"wrong answer {answer.__qualname__!r} of {exercise!r}")
            return answer
        return declare

    def answers_to_unknown_exercises(self) -> dict[str, list[str]]:
        """Exercise names that answers were declared for but no exercise has, with where those answers are."""
        unknown: dict[str, list[str]] = {}
        for table in (self.wrong, self.correct):
            for name, answers in table.items():
                if name not in self.exercises:
                    unknown.setdefault(name, []).extend(_origin(a) for a in answers.values())
        for name, by_mistake in self.variants.items():
            if name not in self.exercises:
                unknown.setdefault(name, []).extend(_origin(a) for answers in by_mistake.values()
                                                    for a in answers.values())
        return unknown


DECLARED = Declarations()  # the course's own table, filled by importing the lesson modules
exercise = DECLARED.exercise
wrong_answer = DECLARED.wrong_answer
alternative = DECLARED.alternative
same_mistake = DECLARED.same_mistake
