"""What every catalogue entry offers (scripted or derived from an exercise) and what running one variant gives."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Protocol

from tqdm.auto import tqdm


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
    quick: bool  # runs in well under a second anywhere: no progress bar, so its output is the same on every run

    def run(self, progress: bool = False) -> Any:  # a SymptomReport
        ...


class _VariantBar:
    def __init__(self, bar, mistake_id: str):
        self.bar, self.mistake_id = bar, mistake_id

    def next(self, variant: str | None = None) -> None:
        """One variant done; name the one that runs now (none: both done)."""
        self.bar.set_description_str(f"{self.mistake_id}: {variant} variant" if variant else f"{self.mistake_id}: ran")
        self.bar.update()


@contextmanager
def variant_bar(mistake_id: str, progress: bool) -> Iterator[_VariantBar]:
    """A two-step progress bar (broken, then fixed variant) with elapsed time and an estimate of what is left."""
    with tqdm(total=2, desc=f"{mistake_id}: broken variant", disable=not progress,
              bar_format="{l_bar}{bar}| {n}/{total} variants [{elapsed}<{remaining}]") as bar:
        yield _VariantBar(bar, mistake_id)
