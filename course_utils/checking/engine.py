"""check_exercise, hint and solution: look up the exercise, run its checker safely, report one CheckResult."""
from __future__ import annotations

import difflib
import inspect
import textwrap
from dataclasses import dataclass
from typing import Any

from ..exercises import Exercise, all_exercises
from .explain import explain_error
from .result import CheckResult
from .sandbox import (
    LearnerError,
    Mismatch,
    NotAttempted,
    TimeLimitExceeded,
    preserved_global_state,
    run_with_time_limit,
)

_MISSING = object()


def _unknown_name_message(name: object) -> str:
    names = sorted(all_exercises())
    close = difflib.get_close_matches(str(name), names, n=3, cutoff=0.5)
    suggestion = f"Did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    return f"There is no exercise called {name!r}. {suggestion}The exercises are: {', '.join(names)}."


def _symptom_pointer(mistake: str | None) -> str:
    from ..mistakes import all_mistakes  # late import: the catalogue is only needed for failures

    if mistake and mistake in all_mistakes():
        return f"\nSee it happen: show_symptom({mistake!r})"
    return ""


def _next_hint(name: str) -> str:
    return f"Stuck? hint({name!r}) gives a nudge; solution({name!r}) shows one answer."


def _judge(exercise: Exercise, answer: Any, time_limit: float) -> CheckResult:
    name = exercise.name
    if answer is _MISSING:
        return CheckResult(name, "not_attempted",
                           f"No `{name}` is defined yet. Run the cell that defines it, then check again.")
    if answer is None or answer is Ellipsis:
        return CheckResult(name, "not_attempted",
                           f"`{name}` is still empty. Write it in the cell above, run that cell, then check again.")
    if not callable(answer):
        return CheckResult(name, "failed",
                           f"Expected `{name}` to be a function, but it is a {type(answer).__name__} "
                           f"({textwrap.shorten(repr(answer), 60)}).\nDefine it with `def {name}(...):` and run that cell.")
    try:
        with preserved_global_state():
            run_with_time_limit(lambda: exercise.check(answer), time_limit)
    except NotAttempted:
        return CheckResult(name, "not_attempted",
                           f"`{name}` still raises NotImplementedError: replace the placeholder line with your code, "
                           f"run the cell, then check again.\n{_next_hint(name)}")
    except Mismatch as m:
        message = f"Expected: {m.expected}\nYour answer: {m.got}\nTry: {m.advice}{_symptom_pointer(m.mistake)}"
        return CheckResult(name, "failed", message, m.mistake)
    except LearnerError as err:
        explanation, related = explain_error(err.exc)
        where = f"\nIn your code, {err.learner_line}" if err.learner_line else ""
        why = f"\nWhat it means: {explanation}" if explanation else ""
        message = f"Running `{name}` on the checker's test input raised\n  {err}{where}{why}\n{_next_hint(name)}"
        return CheckResult(name, "failed", message + _symptom_pointer(related))
    except TimeLimitExceeded:
        return CheckResult(name, "failed",
                           f"`{name}` did not finish within {time_limit:g} s on a tiny input. Look for a loop that "
                           f"never ends (a `while` whose condition never changes) or a slow operation repeated "
                           f"many times.")
    except RecursionError:
        return CheckResult(name, "failed", f"`{name}` recursed without end. Does it call itself?")
    except Exception as exc:  # a fault of the checker, never of the learner: say so instead of crashing
        return CheckResult(name, "error",
                           f"The checker itself failed ({type(exc).__name__}: {exc}). Your work is safe; "
                           f"please report this to the course maintainers.")
    return CheckResult(name, "passed", f"{exercise.task[0].upper()}{exercise.task[1:]}: your answer does exactly that.")


def check_exercise(name: str, answer: Any = _MISSING, *, time_limit: float | None = None) -> CheckResult:
    """Check the learner's answer to exercise ``name``; never raises because of the answer.

    With ``answer`` omitted or None, the object called ``name`` is looked up in the caller's
    namespace, as a notebook defines it. ``time_limit`` (seconds) overrides the exercise's own.
    """
    exercise = all_exercises().get(name) if isinstance(name, str) else None
    if exercise is None:
        return CheckResult(str(name), "error", _unknown_name_message(name))
    if answer is _MISSING or answer is None:
        caller = inspect.currentframe().f_back
        try:
            found = caller.f_locals.get(name, caller.f_globals.get(name, _MISSING))
        finally:
            del caller
        answer = found
    return _judge(exercise, answer, exercise.time_limit if time_limit is None else time_limit)


@dataclass(frozen=True)
class Reveal:
    """A hint or a solution, shown as Markdown in Jupyter and as text elsewhere."""

    title: str
    body: str
    code: bool = False

    def to_text(self) -> str:
        return f"{self.title}\n{self.body}"

    __str__ = __repr__ = to_text

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(self.to_text())

    def _repr_markdown_(self) -> str:
        body = f"```python\n{self.body}\n```" if self.code else self.body
        return f"**{self.title}**\n\n{body}"


def hint(name: str, level: int = 1) -> Reveal:
    """Progressive hints: level 1 nudges, the last level nearly gives the answer away."""
    exercise = all_exercises().get(name) if isinstance(name, str) else None
    if exercise is None:
        return Reveal("Unknown exercise", _unknown_name_message(name))
    count = len(exercise.hints)
    if not isinstance(level, int) or isinstance(level, bool) or level < 1:
        return Reveal(f"Hints for {name}", f"level must be a whole number from 1 to {count}, e.g. hint({name!r}, 2).")
    shown = min(level, count)
    more = (f"More help: hint({name!r}, {shown + 1})." if shown < count
            else f"That was the last hint; solution({name!r}) shows a complete answer.")
    note = f"(There are only {count} hints.) " if level > count else ""
    return Reveal(f"Hint {shown} of {count} for {name}", f"{note}{exercise.hints[shown - 1]}\n\n{more}")


def solution(name: str) -> Reveal:
    """Show one correct answer (the reference the checker compares against)."""
    exercise = all_exercises().get(name) if isinstance(name, str) else None
    if exercise is None:
        return Reveal("Unknown exercise", _unknown_name_message(name))
    source = textwrap.dedent(inspect.getsource(exercise.solution)).strip()
    return Reveal(f"One solution for {name}", source, code=True)
