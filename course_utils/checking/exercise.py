"""Exercise: one exercise as data (what a correct answer does, its checker, help, the answers it knows)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping


@dataclass(frozen=True)
class Exercise:
    """One exercise: what the learner writes, how it is judged, the help on offer and the answers it knows.

    ``check(answer)`` raises Mismatch / LearnerError / NotAttempted, or returns None (correct) or a
    remark to add to the pass. ``wrong_answers`` maps each mistake id the checker names to a wrong answer
    that commits it (tests and show_symptom run these); ``alternatives`` are differently written
    correct answers that must pass; ``variants`` are more wrong answers, each another way of committing one of
    those mistakes (mistake id, answer), which tests name with that id. ``prepare()`` builds what the checker reuses (reference models, inputs)
    before the time limit starts, so that only the learner's code is timed. Lessons declare exercises with
    the decorators of ``course_utils.lessons.declare``.
    """

    name: str
    lesson: str
    task: str  # one sentence: what a correct answer does
    check: Callable[[Callable], str | None]
    solution: Callable  # the reference answer; its source is what solution(name) shows
    hints: tuple[str, ...]
    wrong_answers: Mapping[str, Callable] = field(default_factory=dict)
    alternatives: tuple[Callable, ...] = ()
    variants: tuple[tuple[str, Callable], ...] = ()
    time_limit: float = 10.0  # seconds of the learner's computing time; see checking.timelimit
    prepare: Callable[[], object] | None = None
