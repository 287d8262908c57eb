"""run_symptom executes a catalogue entry's broken and fixed code; show_symptom displays the evidence."""
from __future__ import annotations

import base64
import difflib
import html
import io
import random
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..checking.sandbox import preserved_global_state
from ..images import demo_image
from . import Mistake, Variant, all_mistakes

PRELUDE = ("import numpy as np, torch, torch.nn.functional as F; from torch import nn; "
           "from course_utils.images import demo_image; torch.manual_seed(0)")


def _run_variant(mistake: Mistake, code: str) -> Variant:
    namespace = {"np": np, "torch": torch, "nn": nn, "F": F, "demo_image": demo_image, "__name__": "__symptom__"}
    error = None
    start = time.perf_counter()
    with preserved_global_state():
        random.seed(0)
        np.random.seed(0)
        torch.manual_seed(0)
        try:
            exec(compile(mistake.setup, f"<{mistake.id}: setup>", "exec"), namespace)
            exec(compile(code, f"<{mistake.id}>", "exec"), namespace)
        except Exception as exc:  # the error is the evidence
            error = f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - start
    values = {name: namespace[name] for name in mistake.record if name in namespace}
    return Variant(code=code, error=error, values=values, seconds=seconds)


@dataclass(frozen=True)
class SymptomReport:
    """Measured evidence for one mistake: both variants, the code difference, the fingerprint."""

    mistake: Mistake
    broken: Variant
    fixed: Variant
    symptom: str

    @property
    def diff(self) -> str:
        lines = difflib.unified_diff(self.mistake.broken.strip().splitlines(), self.mistake.fixed.strip().splitlines(),
                                     "broken", "fixed", lineterm="", n=2)
        return "\n".join(lines)

    def figure_png(self) -> bytes | None:
        if self.mistake.plot is None:
            return None
        from matplotlib.figure import Figure  # no pyplot: nothing global changes, nothing pops up twice

        figure = Figure(figsize=(6.4, 2.4), dpi=72, layout="constrained")
        self.mistake.plot(figure, self.broken, self.fixed)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()

    @staticmethod
    def _outcome(variant: Variant) -> str:
        return f"raised {variant.error}" if variant.error else "ran without error"

    def to_text(self) -> str:
        m = self.mistake
        return "\n".join([
            f"Mistake `{m.id}` (lesson {m.lesson}): {m.title}",
            f"Measured symptom: {self.symptom}",
            "",
            "Code difference (shared setup not shown):",
            self.diff,
            "",
            f"Broken variant: {self._outcome(self.broken)}",
            f"Fixed variant:  {self._outcome(self.fixed)}",
            "",
            f"Why the fix works: {m.explanation}",
        ])

    __str__ = __repr__ = to_text

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(self.to_text())

    def _repr_html_(self) -> str:
        m, esc = self.mistake, html.escape
        png = self.figure_png()
        image = f'<img src="data:image/png;base64,{base64.b64encode(png).decode()}" style="max-width:480px">' if png else ""

        def column(label: str, variant: Variant, colour: str) -> str:
            return (f'<div style="flex:1;min-width:0"><div style="font-weight:bold;color:{colour}">{label} '
                    f'<span style="font-weight:normal;color:#57606a">({variant.seconds:.2f} s)</span></div>'
                    f'<pre style="background:#f6f8fa;padding:6px;overflow-x:auto">{esc(variant.code.strip())}</pre>'
                    f'<div>{esc(self._outcome(variant))}</div></div>')

        return (
            f'<div style="font-family:sans-serif;border:1px solid #d0d7de;padding:10px;color:#1f2328">'
            f'<div style="font-size:110%;font-weight:bold">{esc(m.title)} <code>{esc(m.id)}</code></div>'
            f'<div style="margin:6px 0;padding:6px;background:#fff8c5"><b>Measured symptom:</b> {esc(self.symptom)}</div>'
            f'<details><summary>Shared setup</summary><pre style="background:#f6f8fa;padding:6px">{esc(m.setup.strip())}</pre></details>'
            f'<div style="display:flex;gap:12px">{column("Broken", self.broken, "#b3261e")}'
            f'{column("Fixed", self.fixed, "#1b7f3b")}</div>{image}'
            f'<div style="margin-top:6px"><b>Why the fix works:</b> {esc(m.explanation)}</div></div>'
        )


def _lookup(mistake_id: str) -> Mistake:
    catalogue = all_mistakes()
    if mistake_id not in catalogue:
        close = difflib.get_close_matches(str(mistake_id), list(catalogue), n=3, cutoff=0.5)
        suggestion = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"No mistake called {mistake_id!r} in the catalogue.{suggestion} "
                         f"Valid ids: {', '.join(sorted(catalogue))}.")
    return catalogue[mistake_id]


def run_symptom(mistake_id: str) -> SymptomReport:
    """Run the broken variant and its fix; return the measured evidence as data."""
    mistake = _lookup(mistake_id)
    broken = _run_variant(mistake, mistake.broken)
    fixed = _run_variant(mistake, mistake.fixed)
    return SymptomReport(mistake, broken, fixed, mistake.summarize(broken, fixed))


def show_symptom(mistake_id: str) -> None:
    """Display the broken variant next to its fix, with the measured symptom and a plot where one helps."""
    try:
        report = run_symptom(mistake_id)
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
