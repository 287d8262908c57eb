"""A scripted catalogue entry: broken and fixed code, run side by side in fresh namespaces, values recorded."""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..checking.state import preserved_global_state
from ..data.demo import demo_image
from .contract import Variant, variant_bar
from .report import SymptomReport
from .store import recalled, remember


@dataclass(frozen=True)
class Mistake:
    """One deliberately broken variant next to its fix.

    ``setup`` runs before each variant in a fresh namespace with torch, nn, F, np and demo_image and
    every seed fixed; the code shown to learners is exactly the code that runs. After each variant the
    variables named in ``record`` are kept as its measured evidence, and ``summarize(broken, fixed)``
    states the measured fingerprint in one sentence.
    """

    id: str
    title: str
    setup: str
    broken_code: str
    fixed_code: str
    record: tuple[str, ...]
    summarize: Callable[[Variant, Variant], str]
    explanation: str
    plot: Callable[[Any, Variant, Variant], None] | None = field(default=None, compare=False)
    quick: bool = False  # no progress bar: for entries that only raise or reshape (their cells' outputs are checked)
    lesson: str = ""  # filled in by the registry from the lesson package that declares the entry

    def _run_variant(self, code: str) -> Variant:
        namespace = {"np": np, "torch": torch, "nn": nn, "F": F, "demo_image": demo_image, "__name__": "__symptom__"}
        error = None
        start = time.perf_counter()
        with preserved_global_state():
            random.seed(0)
            np.random.seed(0)
            torch.manual_seed(0)
            try:
                exec(compile(self.setup, f"<{self.id}: setup>", "exec"), namespace)
                exec(compile(code, f"<{self.id}>", "exec"), namespace)
            except Exception as exc:  # noqa: BLE001  (the error is the evidence)
                error = f"{type(exc).__name__}: {exc}"
        values = {name: namespace[name] for name in self.record if name in namespace}
        return Variant(code=code, error=error, values=values, seconds=time.perf_counter() - start)

    def run(self, progress: bool = False) -> SymptomReport:
        measured = None if self.quick else recalled(self)  # within a test run only: catalogue/store.py
        if measured is None:
            with variant_bar(self.id, progress and not self.quick) as bar:
                broken = self._run_variant(self.broken_code)
                bar.next("fixed")
                fixed = self._run_variant(self.fixed_code)
                bar.next()
            if not self.quick:
                remember(self, broken, fixed)
        else:
            broken, fixed = measured
        return SymptomReport(self, broken, fixed, self.summarize(broken, fixed))
