"""Catalogue entries derived from an exercise's known wrong answers: the broken answer next to the reference,
both judged by the exercise's checker on the same small inputs, with what each produced."""
from __future__ import annotations

import ast
import inspect
import re
import textwrap
import time
from dataclasses import dataclass
from typing import Callable

from ..checking.exercise import Exercise
from ..checking.judge import judge
from .contract import Variant
from .report import SymptomReport

_DEF = re.compile(r"^(\s*def\s+)\w+(\s*\()", re.MULTILINE)


def shown_source(function: Callable, name: str) -> str:
    """The function's source as a learner would have written it: no course decorators, its def renamed to the
    exercise's name."""
    source = textwrap.dedent(inspect.getsource(function))
    definition = ast.parse(source).body[0]
    source = "\n".join(source.splitlines()[definition.lineno - 1:]).strip()  # lineno is the def's, after decorators
    return _DEF.sub(lambda m: f"{m.group(1)}{name}{m.group(2)}", source, count=1) + "\n"


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

    @property
    def lesson(self) -> str:
        return self.exercise.lesson

    @property
    def title(self) -> str:
        return f"{self.id.replace('_', ' ').capitalize()} in `{self.exercise.name}`"

    @property
    def broken_code(self) -> str:
        return shown_source(self.answer, self.exercise.name)

    @property
    def fixed_code(self) -> str:
        return shown_source(self.exercise.solution, self.exercise.name)

    @property
    def explanation(self) -> str:
        return (f"The checker runs both functions on the same small inputs it builds itself. "
                f"{self._advice or 'The fix changes only what the difference shows.'}")

    _advice: str = ""

    def _judged(self, answer: Callable, code: str) -> Variant:
        start = time.perf_counter()
        result = judge(self.exercise, answer)
        outcome = (f"the checker says: {result.status}" if result.passed else
                   f"the checker says: {_line(result.message, 'Your answer:') or result.message.splitlines()[0]}")
        return Variant(code=code, error=None, values={"result": result, "outcome": outcome},
                       seconds=time.perf_counter() - start)

    def run(self) -> SymptomReport:
        broken, fixed = self._judged(self.answer, self.broken_code), self._judged(self.exercise.solution, self.fixed_code)
        message = broken.values["result"].message
        entry = CheckedMistake(self.id, self.exercise, self.answer, _advice=_line(message, "Try:"))
        symptom = (f"on the checker's inputs the broken `{self.exercise.name}` gives "
                   f"{_line(message, 'Your answer:') or message.splitlines()[0]}; expected "
                   f"{_line(message, 'Expected:') or 'a passing answer'}. The fixed version passes: "
                   f"{fixed.values['result'].status}.")
        return SymptomReport(entry, broken, fixed, symptom)
