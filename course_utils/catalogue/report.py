"""SymptomReport: the measured evidence of one catalogue entry, as data, text, and an HTML box with a plot."""
from __future__ import annotations

import base64
import difflib
import io
from dataclasses import dataclass
from ..display import BROKEN, CODE_BACKGROUND, FIXED, HIGHLIGHT, MUTED, Display, box_html, code_html, escape
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

    @property
    def reveals_fix(self) -> bool:
        """Scripted entries show both versions; entries derived from an exercise never show its solution."""
        return getattr(self.mistake, "reveals_fix", True)

    @staticmethod
    def _outcome(variant: Variant) -> str:
        if variant.error:
            return f"raised {variant.error}"
        return variant.values.get("outcome", "ran without error")

    def _lines(self) -> list[str]:
        lines = getattr(self.mistake, "mistaken_lines", [])
        return lines or ["(no line is wrong by itself: a step is missing; see the fix below)"]

    def to_text(self) -> str:
        m = self.mistake
        if self.reveals_fix:
            setup = " (shared setup not shown)" if m.setup.strip() else ""
            code = [f"Code difference{setup}:", self.diff, "", f"Broken variant: {self._outcome(self.broken)}",
                    f"Fixed variant:  {self._outcome(self.fixed)}", "", f"Why the fix works: {m.explanation}"]
        else:
            code = ["The lines that commit it:", *(f"    {line}" for line in self._lines()), "",
                    f"This answer {self._outcome(self.broken)}", "", f"The fix, in words: {m.explanation}"]
        return "\n".join([f"Mistake `{m.id}` (lesson {m.lesson}): {m.title}", f"Measured symptom: {self.symptom}",
                          "", *code])

    def _diff_html(self) -> str:
        """The unified diff, one full-width block: removed lines red, added lines green, long lines wrapped."""
        colours = {"-": "#fdecea", "+": "#e8f6ec", "@": "#eef1f5"}
        rows = []
        for line in self.diff.splitlines()[2:]:  # the '--- broken' / '+++ fixed' header is said in words
            background = colours.get(line[:1], "transparent")
            rows.append(f'<div style="background:{background}">{escape(line) or "&nbsp;"}</div>')
        return (f'<div style="background:{CODE_BACKGROUND};padding:6px;margin:4px 0;font-family:monospace;'
                f'font-size:90%;white-space:pre-wrap;overflow-wrap:anywhere">{"".join(rows)}</div>')

    def to_html(self) -> str:
        m = self.mistake
        png = self.figure_png()
        image = (f'<img src="data:image/png;base64,{base64.b64encode(png).decode()}" style="max-width:480px">'
                 if png else "")

        def outcome(label: str, variant: Variant, colour: str) -> str:
            return (f'<div><b style="color:{colour}">{label}:</b> {escape(self._outcome(variant))} '
                    f'<span style="color:{MUTED}">({variant.seconds:.2f} s)</span></div>')

        symptom = (f'<div style="margin:6px 0;padding:6px;background:{HIGHLIGHT}"><b>Measured symptom:</b> '
                   f'{escape(self.symptom)}</div>')
        if self.reveals_fix:
            setup = (f'<details><summary>Shared setup (run before both)</summary>{code_html(m.setup.strip())}'
                     f'</details>' if m.setup.strip() else "")
            full = (f'<details><summary>Both versions in full</summary><div style="color:{BROKEN}">broken</div>'
                    f'{code_html(self.broken.code.strip())}<div style="color:{FIXED}">fixed</div>'
                    f'{code_html(self.fixed.code.strip())}</details>')
            body = (f'{symptom}<div><b>What changes</b> (<span style="color:{BROKEN}">− broken</span>, '
                    f'<span style="color:{FIXED}">+ fixed</span>):</div>{self._diff_html()}'
                    f'{outcome("Broken", self.broken, BROKEN)}{outcome("Fixed", self.fixed, FIXED)}{full}{setup}'
                    f'{image}<div style="margin-top:6px"><b>Why the fix works:</b> {escape(m.explanation)}</div>')
        else:
            lines = "\n".join(self._lines())
            body = (f'{symptom}<div><b style="color:{BROKEN}">The lines that commit it:</b></div>'
                    f'<div style="background:{CODE_BACKGROUND};padding:6px;margin:4px 0;font-family:monospace;'
                    f'font-size:90%;white-space:pre-wrap">{escape(lines)}</div>'
                    f'{outcome("This answer", self.broken, BROKEN)}'
                    f'<div style="margin-top:6px"><b>The fix, in words:</b> {escape(m.explanation)}</div>')
        return box_html("symptom", f"{escape(m.title)} <code>{escape(m.id)}</code>", body)
