"""SymptomReport: the measured evidence of one catalogue entry, as data, text, and an HTML box with a plot."""
from __future__ import annotations

import base64
import difflib
import io
from dataclasses import dataclass
from ..display import BROKEN, FIXED, HIGHLIGHT, MUTED, Display, box_html, code_html, escape
from .contract import CatalogueEntry, Variant


@dataclass(frozen=True, repr=False)
class SymptomReport(Display):
    """Measured evidence for one mistake: both variants, the code difference, the fingerprint."""

    mistake: CatalogueEntry  # a scripted Mistake, or one derived from an exercise's wrong answer
    broken: Variant
    fixed: Variant
    symptom: str

    @property
    def diff(self) -> str:
        lines = difflib.unified_diff(self.mistake.broken_code.strip().splitlines(),
                                     self.mistake.fixed_code.strip().splitlines(),
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
        if variant.error:
            return f"raised {variant.error}"
        return variant.values.get("outcome", "ran without error")

    def to_text(self) -> str:
        m = self.mistake
        setup = " (shared setup not shown)" if m.setup.strip() else ""
        return "\n".join([
            f"Mistake `{m.id}` (lesson {m.lesson}): {m.title}",
            f"Measured symptom: {self.symptom}",
            "",
            f"Code difference{setup}:",
            self.diff,
            "",
            f"Broken variant: {self._outcome(self.broken)}",
            f"Fixed variant:  {self._outcome(self.fixed)}",
            "",
            f"Why the fix works: {m.explanation}",
        ])

    def to_html(self) -> str:
        m = self.mistake
        png = self.figure_png()
        image = (f'<img src="data:image/png;base64,{base64.b64encode(png).decode()}" style="max-width:480px">'
                 if png else "")

        def column(label: str, variant: Variant, colour: str) -> str:
            return (f'<div style="flex:1 1 320px;min-width:0"><div style="font-weight:bold;color:{colour}">{label} '
                    f'<span style="font-weight:normal;color:{MUTED}">({variant.seconds:.2f} s)</span></div>'
                    f'{code_html(variant.code.strip())}<div>{escape(self._outcome(variant))}</div></div>')

        setup = (f'<details><summary>Shared setup</summary>{code_html(m.setup.strip())}</details>'
                 if m.setup.strip() else "")
        body = (f'<div style="margin:6px 0;padding:6px;background:{HIGHLIGHT}"><b>Measured symptom:</b> '
                f'{escape(self.symptom)}</div>{setup}'
                f'<div style="display:flex;flex-wrap:wrap;gap:12px">{column("Broken", self.broken, BROKEN)}'
                f'{column("Fixed", self.fixed, FIXED)}</div>{image}'
                f'<div style="margin-top:6px"><b>Why the fix works:</b> {escape(m.explanation)}</div>')
        return box_html("symptom", f"{escape(m.title)} <code>{escape(m.id)}</code>", body)
