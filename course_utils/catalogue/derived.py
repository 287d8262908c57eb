"""Catalogue entries derived from an exercise's known wrong answers: the broken answer next to the reference,
both judged by the exercise's checker on the same small inputs, with what each produced."""
from __future__ import annotations

import ast
import difflib
import inspect
import re
import textwrap
import time
from dataclasses import dataclass
from typing import Callable

from ..checking.exercise import Exercise
from ..checking.judge import judge
from .contract import Variant, variant_bar
from .report import SymptomReport

_DEF = re.compile(r"^(\s*def\s+)\w+(\s*\()", re.MULTILINE)


def shown_source(function: Callable, name: str, docstring: bool = True) -> str:
    """The function's source as a learner would have written it: no course decorators (nor, with
    ``docstring=False``, its docstring), its def renamed to the exercise's name."""
    source = textwrap.dedent(inspect.getsource(function))
    definition = ast.parse(source).body[0]
    lines = source.splitlines()
    first = definition.body[0]
    if not docstring and isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant) \
            and isinstance(first.value.value, str):
        del lines[first.lineno - 1:first.end_lineno]
    source = "\n".join(lines[definition.lineno - 1:]).strip()  # lineno is the def's, after decorators
    return _DEF.sub(lambda m: f"{m.group(1)}{name}{m.group(2)}", source, count=1) + "\n"


def _statement(line: str) -> str:
    """A line as compared: without its comment and surrounding spaces."""
    return line.split("#", 1)[0].strip()


def mistaken_lines(broken: str, reference: str) -> list[str]:
    """The lines of ``broken`` that no correct line matches (comments and the def line aside), in order, with
    '...' where lines were skipped: what commits the mistake, without showing the reference's code."""
    body = lambda code: [line for line in code.splitlines()[1:] if _statement(line)]  # noqa: E731
    theirs, ours = body(broken), body(reference)
    matcher = difflib.SequenceMatcher(a=[_statement(x) for x in theirs], b=[_statement(x) for x in ours],
                                      autojunk=False)
    shown, last = [], None
    for tag, a0, a1, _, _ in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            if last is not None and a0 > last:
                shown.append("...")
            shown += theirs[a0:a1]
            last = a1
    return textwrap.dedent("\n".join(shown)).splitlines()


def _line(message: str, prefix: str) -> str:
    return next((line[len(prefix):].strip() for line in message.splitlines() if line.startswith(prefix)), "")


@dataclass(frozen=True)
class CheckedMistake:
    """A mistake the checker names, shown by running a wrong answer that commits it next to the reference."""

    id: str
    exercise: Exercise
    answer: Callable
    plot: None = None
    setup: str = ""
    quick = False  # the checker may train: always a progress bar

    @property
    def lesson(self) -> str:
        return self.exercise.lesson

    reveals_fix = False  # the reference solution is the exercise's answer: shown in words, never as code

    @property
    def title(self) -> str:
        doc = (inspect.getdoc(self.answer) or "").strip().splitlines()
        what = doc[0].rstrip(".") if doc else self.id.replace("_", " ").capitalize()
        return f"{what} (in `{self.exercise.name}`)"

    @property
    def broken_code(self) -> str:
        return shown_source(self.answer, self.exercise.name, docstring=False)

    @property
    def fixed_code(self) -> str:
        return shown_source(self.exercise.solution, self.exercise.name)

    @property
    def mistaken_lines(self) -> list[str]:
        return mistaken_lines(self.broken_code, self.fixed_code)

    @property
    def explanation(self) -> str:
        return self._advice or "A correct answer differs only in what the checker's message names."

    _advice: str = ""

    def _judged(self, answer: Callable, code: str) -> Variant:
        start = time.perf_counter()
        result = judge(self.exercise, answer)
        outcome = "passes the checker" if result.passed else f"fails the checker ({result.status})"
        return Variant(code=code, error=None, values={"result": result, "outcome": outcome},
                       seconds=time.perf_counter() - start)

    def run(self, progress: bool = False) -> SymptomReport:
        with variant_bar(self.id, progress) as bar:
            broken = self._judged(self.answer, self.broken_code)
            bar.next("fixed")
            fixed = self._judged(self.exercise.solution, self.fixed_code)
            bar.next()
        message = broken.values["result"].message
        entry = CheckedMistake(self.id, self.exercise, self.answer, _advice=_line(message, "Try:"))
        found = _line(message, "Your answer:") or message.splitlines()[0]
        expected = _line(message, "Expected:") or "a passing answer"
        symptom = (f"the checker ran a `{self.exercise.name}` with this mistake on inputs it built itself. Found: "
                   f"{found.rstrip('.')}. Expected: {expected.rstrip('.')}. "
                   f"The course's correct `{self.exercise.name}` {fixed.values['outcome']} on the same inputs.")
        return SymptomReport(entry, broken, fixed, symptom)
