"""What every catalogue entry offers (scripted or derived from an exercise) and what running one variant gives."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol


@dataclass(frozen=True)
class Variant:
    """What one variant did: the error it raised (if any), the recorded values, and how long it took."""

    code: str
    error: str | None
    values: dict[str, Any]
    seconds: float


class CatalogueEntry(Protocol):
    """One entry show_symptom can show: ids and texts, the two pieces of code, and how to run them."""

    id: str
    lesson: str
    title: str
    setup: str  # shared code run before each variant ("" when none)
    broken_code: str
    fixed_code: str
    explanation: str
    plot: Callable[[Any, Variant, Variant], None] | None

    def run(self) -> Any:  # a SymptomReport
        ...
