"""judge: run one exercise's checker on an answer, safely, and turn whatever happens into one CheckResult.

Order of events: refuse a patched session, then (inside preserved global state and one time limit)
run the checker, which computes its expectations, calls the answer on copies of its inputs and
compares; build every message from plain text; check for patches again; restore the state.
"""
from __future__ import annotations

import textwrap
from typing import Any, Callable

import torch

from . import integrity
from .exercise import Exercise
from .explain import explain_error
from .result import CheckResult
from .integrity import Tampered
from .sandbox import (LearnerError, Mismatch, NotAttempted, learner_caused, learner_error, safe_str, type_name,
                      verify_untouched, watching)
from .state import preserved_global_state
from .timelimit import WALL_FACTOR, Expired, TimeLimitExceeded, run_with_time_limit, stop_surely, validate_time_limit

MISSING = object()


def next_hint(name: str) -> str:
    return f"Stuck? hint({name!r}) gives a nudge; solution({name!r}) shows one answer."


def _failed_run(name: str, err: LearnerError, pointer: Callable[[str | None], str]) -> CheckResult:
    explanation, related = explain_error(err.original_text)
    if err.kind == "RecursionError" and explanation is None:
        explanation, _ = explain_error("maximum recursion depth exceeded")
    where = f"\nIn your code, {err.learner_line}" if err.learner_line else ""
    why = f"\nWhat it means: {explanation}" if explanation else ""
    message = f"Running `{name}` on the checker's test input raised\n  {err}{where}{why}\n{next_hint(name)}"
    return CheckResult(name, "failed", message + pointer(related))


def _verdict(exercise: Exercise, answer: Any, pointer: Callable[[str | None], str]) -> CheckResult:
    """Runs inside the time limit: the checker, and every message built from what it found."""
    name = exercise.name
    if not callable(answer):
        shown = textwrap.shorten(safe_str(answer, 200), 60)
        return CheckResult(name, "failed", f"Expected `{name}` to be a function, but it is a {type_name(answer)} "
                                           f"({shown}).\nDefine it with `def {name}(...):` and run that cell.")
    try:
        remark = exercise.check(answer)
    except NotAttempted:
        return CheckResult(name, "not_attempted",
                           f"`{name}` still raises NotImplementedError: replace the placeholder line with your code, "
                           f"run the cell, then check again.\n{next_hint(name)}")
    except Mismatch as m:
        message = f"Expected: {m.expected}\nYour answer: {m.got}\nTry: {m.advice}{pointer(m.mistake)}"
        return CheckResult(name, "failed", message, m.mistake)
    except LearnerError as err:
        return _failed_run(name, err, pointer)
    task = exercise.task[0].upper() + exercise.task[1:]
    note = f"\nNote: {remark}" if isinstance(remark, str) and remark else ""
    return CheckResult(name, "passed", f"{task}: your answer does exactly that.{note}")


def _timed_out(name: str, expired: Expired) -> CheckResult:
    if expired.by_wall:
        return CheckResult(name, "failed",
                           f"`{name}` did not finish: after {expired.wall_seconds:g} s on the clock the check was "
                           f"still running on a tiny input, though it had computed for less than its "
                           f"{expired.seconds:g} s limit. Your code sleeps or waits for something that never comes "
                           f"(input, a lock, a thread, a file): remove the wait and check again. (Only on a heavily "
                           f"overloaded machine can a correct answer take that long: close other work and retry.)")
    return CheckResult(name, "failed",
                       f"`{name}` did not finish within {expired.seconds:g} s of computing time on a tiny input (a "
                       f"correct answer needs well under a second, however busy the machine). Look for a loop that "
                       f"never ends (a `while` whose condition never changes), a slow operation repeated many times, "
                       f"or an object whose repr/str/== never returns.")


def _escaped(name: str, exc: BaseException) -> CheckResult:
    """Something escaped the checker's own handling: the learner's object misbehaving, or a checker fault."""
    if learner_caused(exc):
        err = learner_error(exc)
        where = f"\nIn your code, {err.learner_line}" if err.learner_line else ""
        return CheckResult(name, "failed",
                           f"While the checker examined what `{name}` returned, your code raised\n  {err}{where}\n"
                           f"Return plain values (tensors, numbers, modules) whose printing and comparison work.")
    return CheckResult(name, "error",
                       f"The checker itself failed ({type_name(exc)}: {safe_str(exc)}). Your work is safe; please "
                       f"report this to the course maintainers.")


class _CheckerFailed(Exception):
    """The checker's own preparation failed: no answer was run."""


def _prepare(exercise: Exercise) -> None:
    """Build the checker's reusable references before the time limit starts (cached: later checks pay nothing)."""
    if exercise.prepare is None:
        return
    try:
        exercise.prepare()
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001  (no learner code has run yet: this is the course's fault)
        raise _CheckerFailed(f"{type_name(exc)}: {safe_str(exc)}") from None


def _protected(exercise: Exercise, answer: Any, pointer: Callable[[str | None], str]) -> CheckResult:
    try:
        with watching():
            verify_untouched()  # a mode left on by an earlier cell, or a patch since the last check
            result = _verdict(exercise, answer, pointer)
            verify_untouched()
        return result
    except (TimeLimitExceeded, KeyboardInterrupt, Tampered):
        raise
    except BaseException as exc:  # noqa: BLE001  (classified, inside the time limit)
        return _escaped(exercise.name, exc)


def judge(exercise: Exercise, answer: Any, time_limit: Any = None,
          pointer: Callable[[str | None], str] = lambda mistake: "", wall_seconds: float | None = None) -> CheckResult:
    """Check ``answer`` against ``exercise``; never raises because of the answer (Ctrl-C still stops it)."""
    name = exercise.name
    limit = exercise.time_limit if time_limit is None else time_limit
    problem = validate_time_limit(limit)
    if problem:
        return CheckResult(name, "error", f"{problem}. Leave time_limit out to use the exercise's "
                                          f"{exercise.time_limit:g} s.")
    patched = integrity.changed_names()
    if patched:
        return CheckResult(name, "error", integrity.describe_changes(patched))
    if answer is MISSING:
        return CheckResult(name, "not_attempted",
                           f"No `{name}` is defined yet. Run the cell that defines it, then check again.")
    if answer is None or answer is Ellipsis:
        return CheckResult(name, "not_attempted",
                           f"`{name}` is still empty. Write it in the cell above, run that cell, then check again.")
    try:
        with preserved_global_state():
            if torch.get_num_threads() != 1:  # tiny inputs: as fast on one thread, and unaffected by a busy machine
                torch.set_num_threads(1)
            _prepare(exercise)
            result = run_with_time_limit(lambda: _protected(exercise, answer, pointer), float(limit), wall_seconds)
    except Expired as expired:
        result = _timed_out(name, expired)
    except TimeLimitExceeded:  # a late interruption landed while the limit was being switched off
        stop_surely()
        result = _timed_out(name, Expired(float(limit), False, float(limit) * WALL_FACTOR))
    except Tampered as tampered:
        return CheckResult(name, "error", integrity.describe_changes(tampered.names))
    except _CheckerFailed as failed:
        return CheckResult(name, "error", f"The checker could not prepare its test inputs ({failed}). Your work "
                                          f"is safe; please report this to the course maintainers.")
    except KeyboardInterrupt:
        raise
    except BaseException:  # noqa: BLE001  (even the classification failed: say so without touching the answer)
        result = CheckResult(name, "failed", f"`{name}` returned or raised something that cannot even be "
                                             f"described safely. Return plain values and check again.")
    patched = integrity.changed_names()
    if patched:
        return CheckResult(name, "error", integrity.describe_changes(patched))
    return result
