"""Notebook conveniences: errors that show the learner's own lines, not dozens of lines of PyTorch internals."""
from __future__ import annotations

import sys
from types import TracebackType

from .paths import is_library_file

FULL_TRACEBACK_HINT = "(Library frames hidden: run %tb in a new cell to see the full traceback.)"


def _own_frames(tb: TracebackType | None) -> tuple[TracebackType | None, int]:
    """A traceback chain with only the frames of notebook code, and how many frames were left out."""
    kept: list[TracebackType] = []
    hidden = 0
    while tb is not None:
        if is_library_file(tb.tb_frame.f_code.co_filename):
            hidden += 1
        else:
            kept.append(tb)
        tb = tb.tb_next
    chain = None
    for item in reversed(kept):
        chain = TracebackType(chain, item.tb_frame, item.tb_lasti, item.tb_lineno)
    return chain, hidden


def _short_traceback(shell, etype, value, tb, tb_offset=None):
    chain, hidden = _own_frames(tb)
    lines = shell.InteractiveTB.structured_traceback(etype, value, chain, tb_offset=tb_offset)
    if hidden:
        lines = lines + [FULL_TRACEBACK_HINT]
    sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb  # %tb shows everything
    shell._showtraceback(etype, value, lines)  # noqa: SLF001  (IPython's documented way for custom handlers)
    return lines


def short_tracebacks(shell=None) -> None:
    """In IPython/Jupyter, show errors with the notebook's own frames only (elsewhere, do nothing)."""
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return
        shell = get_ipython()
    if shell is not None:
        shell.set_custom_exc((Exception,), _short_traceback)
