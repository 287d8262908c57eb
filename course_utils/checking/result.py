"""CheckResult: the one type every check returns, rendered as coloured HTML or plain text."""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Literal

Status = Literal["passed", "failed", "not_attempted", "error"]

# One place decides how each outcome looks; checkers only choose the status and the words.
# "failed" covers everything the answer did (wrong values, an exception, an endless loop);
# "error" means the check itself could not run (an unknown exercise name, a fault in the checker).
_STYLE = {
    "passed": ("Correct", "#1b7f3b", "#e8f6ec", "✔"),
    "failed": ("Not yet", "#b3261e", "#fdecea", "✘"),
    "not_attempted": ("Not attempted yet", "#55606e", "#eef1f5", "✎"),
    "error": ("Could not finish the check", "#a15c00", "#fff4e5", "!"),
}


@dataclass(frozen=True)
class CheckResult:
    """Outcome of ``check_exercise``: status, explanation and the recognised mistake, if any."""

    name: str
    status: Status
    message: str
    mistake: str | None = None

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def __bool__(self) -> bool:
        return self.passed

    def to_text(self) -> str:
        title, _, _, icon = _STYLE[self.status]
        lines = [f"[{icon}] {self.name}: {title}"]
        lines += ["    " + line if line else "" for line in self.message.splitlines()]
        if self.mistake:
            lines.append(f"    Recognised mistake: {self.mistake}")
        return "\n".join(lines)

    __str__ = to_text

    def __repr__(self) -> str:
        return self.to_text()

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(self.to_text())

    def _repr_html_(self) -> str:
        title, fg, bg, icon = _STYLE[self.status]
        body = html.escape(self.message).replace("\n", "<br>")
        mistake = (
            f'<div style="margin-top:4px;font-size:90%">Recognised mistake: <code>{html.escape(self.mistake)}</code></div>'
            if self.mistake
            else ""
        )
        return (
            f'<div style="border-left:6px solid {fg};background:{bg};padding:8px 12px;'
            f'margin:4px 0;font-family:sans-serif;color:#1f2328">'
            f'<div style="font-weight:bold;color:{fg}">{icon} <code>{html.escape(self.name)}</code>: {title}</div>'
            f'<div style="margin-top:4px;white-space:normal">{body}</div>{mistake}</div>'
        )
