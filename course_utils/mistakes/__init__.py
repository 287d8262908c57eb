"""The mistake catalogue: each entry is data (broken code, fixed code, what to record, why the fix works)."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable

from ..registry import collect

# One module per lesson, in course order; each defines MISTAKES: tuple[Mistake, ...].
LESSON_MODULES = ("lesson01", "lesson02", "lesson03", "lesson04")


@dataclass(frozen=True)
class Mistake:
    """One deliberately broken variant next to its fix.

    ``setup`` runs before each variant in a fresh namespace with torch, nn, np and the seed
    fixed; the code shown to learners is exactly the code that runs. After each variant the
    variables named in ``record`` are kept as its measured evidence.
    """

    id: str
    lesson: str
    title: str
    setup: str
    broken: str
    fixed: str
    record: tuple[str, ...]
    summarize: Callable[["Variant", "Variant"], str]  # (broken, fixed) -> measured fingerprint sentence
    explanation: str
    plot: Callable[[Any, "Variant", "Variant"], None] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Variant:
    """What one variant did: the error it raised (if any), the recorded values, and how long it took."""

    code: str
    error: str | None
    values: dict[str, Any]
    seconds: float


@lru_cache(maxsize=None)
def all_mistakes() -> dict[str, Mistake]:
    return collect(__name__, LESSON_MODULES, "MISTAKES", "id")


from .run import SymptomReport, run_symptom, show_symptom  # noqa: E402  (needs the types above)

__all__ = ["Mistake", "Variant", "SymptomReport", "all_mistakes", "run_symptom", "show_symptom"]
