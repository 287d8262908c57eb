"""One look for everything the course shows: a colour palette, and a base class rendering text and HTML boxes."""
from __future__ import annotations

import html

# accent colour, background colour, icon, for each kind of box
PALETTE = {
    "passed": ("#1b7f3b", "#e8f6ec", "✔"),
    "failed": ("#b3261e", "#fdecea", "✘"),
    "not_attempted": ("#55606e", "#eef1f5", "✎"),
    "error": ("#a15c00", "#fff4e5", "!"),
    "hint": ("#0b61a4", "#eaf3fb", "?"),
    "solution": ("#6639ba", "#f3effb", "★"),
    "symptom": ("#57606a", "#ffffff", "⚑"),
}
TEXT, MUTED, CODE_BACKGROUND, HIGHLIGHT = "#1f2328", "#57606a", "#f6f8fa", "#fff8c5"
BROKEN, FIXED = PALETTE["failed"][0], PALETTE["passed"][0]


def escape(text: str) -> str:
    return html.escape(text)


def code_html(code: str) -> str:
    """A code block that keeps its lines whole and scrolls sideways instead of wrapping mid-identifier."""
    return (f'<pre style="background:{CODE_BACKGROUND};padding:6px;margin:4px 0;white-space:pre;overflow-x:auto;'
            f'font-size:90%">{escape(code)}</pre>')


def text_html(text: str) -> str:
    """Plain text with its line breaks kept (long lines wrap at spaces, as prose does)."""
    return escape(text).replace("\n", "<br>")


def box_html(kind: str, title_html: str, body_html: str) -> str:
    accent, background, icon = PALETTE[kind]
    return (f'<div style="border-left:6px solid {accent};background:{background};padding:8px 12px;margin:4px 0;'
            f'font-family:sans-serif;color:{TEXT}">'
            f'<div style="font-weight:bold;color:{accent}">{icon} {title_html}</div>'
            f'<div style="margin-top:4px">{body_html}</div></div>')


class Display:
    """Base for results, hints, solutions and symptom reports: plain text everywhere, HTML in Jupyter."""

    def to_text(self) -> str:
        raise NotImplementedError

    def to_html(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return self.to_text()

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(self.to_text())

    def _repr_html_(self) -> str:
        return self.to_html()
