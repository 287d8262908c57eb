"""The public API: check_exercise, hint, solution, run_symptom, show_symptom. It sits above the checking
toolkit and the catalogue, and looks names up in the registries."""
from __future__ import annotations

import difflib
import inspect
import json
import os
import textwrap
from dataclasses import dataclass
from typing import Any

from .catalogue.derived import shown_source
from .catalogue.report import SymptomReport
from .checking.judge import MISSING, judge
from .checking.result import CheckResult
from .checking.sandbox import safe_str
from .display import Display, box_html, code_html, escape, text_html
from .registry import all_exercises, all_mistakes, derived_mistakes, exercises_naming, scripted_mistakes


def _as_name(value: Any) -> str | None:
    """An exact str for a str (or str subclass) argument, else None."""
    if type(value) is str:
        return value
    return str.__str__(value) if isinstance(value, str) and issubclass(type(value), str) else None


def _unknown(kind: str, name: Any, choices: list[str]) -> str:
    shown = textwrap.shorten(safe_str(name, 100), 60) if _as_name(name) is None else repr(_as_name(name))
    close = difflib.get_close_matches(_as_name(name) or "", choices, n=3, cutoff=0.5)
    suggestion = f"Did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    return f"There is no {kind} called {shown}. {suggestion}The {kind}s are: {', '.join(choices)}."


def _pointer(exercise_name: str):
    """The show_symptom call that shows a named mistake: this exercise's own example when it has one, else the
    catalogue's entry for that id (e.g. a generic `modified_input` shown on the exercise that declares it)."""
    def pointer(mistake: str | None) -> str:
        if not mistake or mistake not in all_mistakes():
            return ""
        own = (exercise_name, mistake) in derived_mistakes()
        if own and mistake not in scripted_mistakes() and exercises_naming(mistake)[:1] != [exercise_name]:
            return f"\nSee it happen: show_symptom({mistake!r}, {exercise_name!r})"
        return f"\nSee it happen: show_symptom({mistake!r})"
    return pointer


def check_exercise(name: str, answer: Any = MISSING, *, time_limit: float | None = None) -> CheckResult:
    """Check the learner's answer to exercise ``name``; never raises because of the answer.

    With ``answer`` omitted or None, the object called ``name`` is looked up in the caller's
    namespace, as a notebook defines it. ``time_limit`` (seconds) overrides the exercise's own.
    """
    key = _as_name(name)
    exercises = all_exercises()
    if key is None or key not in exercises:
        return CheckResult(key if key is not None else safe_str(name, 60), "error",
                           _unknown("exercise", name, sorted(exercises)))
    if answer is MISSING or answer is None:
        caller = inspect.currentframe().f_back
        try:
            answer = caller.f_locals.get(key, caller.f_globals.get(key, MISSING))
        finally:
            del caller
    result = judge(exercises[key], answer, time_limit, _pointer(key))
    _log_for_grading(result)
    return result


GRADE_LOG_ENV = "COURSE_GRADE_LOG"  # set by `course grade`: a file to which each check appends its outcome


def _log_for_grading(result: CheckResult) -> None:
    path = os.environ.get(GRADE_LOG_ENV)
    if path:
        try:
            with open(path, "a") as log:
                log.write(json.dumps({"exercise": result.name, "status": result.status}) + "\n")
        except OSError:
            pass  # grading notes are a courtesy; the check itself has its answer


@dataclass(frozen=True, repr=False)
class Reveal(Display):
    """A hint or a solution, in the same boxes as check results."""

    kind: str  # "hint" or "solution" (or "error" for a bad request)
    title: str
    body: str
    code: bool = False

    def to_text(self) -> str:
        return f"{self.title}\n{self.body}"

    def to_html(self) -> str:
        return box_html(self.kind, escape(self.title), code_html(self.body) if self.code else text_html(self.body))


def hint(name: str, level: int = 1) -> Reveal:
    """Progressive hints: level 1 nudges, the last level nearly gives the answer away."""
    key = _as_name(name)
    if key not in all_exercises():
        return Reveal("error", "Unknown exercise", _unknown("exercise", name, sorted(all_exercises())))
    hints = all_exercises()[key].hints
    if type(level) is not int or level < 1:
        return Reveal("error", f"Hints for {key}", f"level must be a whole number from 1 to {len(hints)}, "
                                                   f"e.g. hint({key!r}, 2).")
    shown = min(level, len(hints))
    more = (f"More help: hint({key!r}, {shown + 1})." if shown < len(hints)
            else f"That was the last hint; solution({key!r}) shows a complete answer.")
    note = f"(There are only {len(hints)} hints.) " if level > len(hints) else ""
    return Reveal("hint", f"Hint {shown} of {len(hints)} for {key}", f"{note}{hints[shown - 1]}\n\n{more}")


def solution(name: str) -> Reveal:
    """Show one correct answer (the reference the checker compares against)."""
    key = _as_name(name)
    if key not in all_exercises():
        return Reveal("error", "Unknown exercise", _unknown("exercise", name, sorted(all_exercises())))
    return Reveal("solution", f"One solution for {key}", shown_source(all_exercises()[key].solution, key).strip(),
                  code=True)


def run_symptom(mistake_id: str, exercise: str | None = None, progress: bool = False) -> SymptomReport:
    """Run a catalogued mistake's broken variant and its fix; return the measured evidence as data.

    ``exercise`` picks, for a mistake several exercises can name, the one whose wrong answer to show;
    ``progress`` shows a bar while the two variants run. Raises ValueError (listing the valid ids) for an unknown id.
    """
    key = _as_name(mistake_id)
    if exercise is not None:
        entry = derived_mistakes().get((_as_name(exercise), key))
        if entry is None:
            names = exercises_naming(key) if key else []
            raise ValueError(f"The exercise {safe_str(exercise, 60)!r} has no mistake called {safe_str(mistake_id, 60)!r}."
                             + (f" It is named by: {', '.join(names)}." if names else ""))
        return entry.run(progress)
    if key is None or key not in all_mistakes():
        raise ValueError(_unknown("mistake", mistake_id, sorted(all_mistakes())).replace("The mistakes are", "Valid ids"))
    return all_mistakes()[key].run(progress)


def show_symptom(mistake_id: str, exercise: str | None = None) -> None:
    """Display a mistake next to its fix, with the measured symptom and a plot where one helps."""
    try:
        report = run_symptom(mistake_id, exercise, progress=True)
    except ValueError as exc:
        print(exc)
        return
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display(report)
    else:
        print(report.to_text())
