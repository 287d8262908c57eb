"""CheckResult: the one type every check returns, rendered through the course's display base."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..display import PALETTE, Display, box_html, escape, text_html

Status = Literal["passed", "failed", "not_attempted", "error"]

# "failed" covers everything the answer did (wrong values, an exception, an endless loop);
# "error" means the check itself could not run (an unknown name, a patched library, a fault in the checker).
TITLES = {"passed": "Correct", "failed": "Not yet", "not_attempted": "Not attempted yet",
          "error": "Could not finish the check"}


@dataclass(frozen=True, repr=False)
class CheckResult(Display):
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
        icon = PALETTE[self.status][2]
        lines = [f"[{icon}] {self.name}: {TITLES[self.status]}"]
        lines += ["    " + line if line else "" for line in self.message.splitlines()]
        if self.mistake:
            lines.append(f"    Recognised mistake: {self.mistake}")
        return "\n".join(lines)

    def to_html(self) -> str:
        mistake = (f'<div style="margin-top:4px;font-size:90%">Recognised mistake: <code>{escape(self.mistake)}</code></div>'
                   if self.mistake else "")
        return box_html(self.status, f"<code>{escape(self.name)}</code>: {TITLES[self.status]}",
                        text_html(self.message) + mistake)
