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


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(5, round(seconds / 5) * 5):.0f} s"
    return f"{round(seconds / 60):.0f} min"


def expect_time(seconds: float, why: str) -> None:
    """One line before a slow cell: roughly how long it takes on a 2-core laptop CPU, and why."""
    print(f"⏳ about {_duration(seconds)} on a 2-core laptop CPU (up to 4x longer on a slow or busy one): {why}")


class MissingStep(RuntimeError):
    """A cell needs a result that an earlier section makes: says which section, instead of a NameError."""


def needs(*names: str, made_by: str) -> None:
    """Stop with a clear message when the notebook has not defined ``names`` yet (a skipped section, a restart)."""
    import inspect

    frame = inspect.currentframe().f_back
    try:
        missing = [name for name in names if name not in frame.f_globals]
    finally:
        del frame
    if missing:
        raise MissingStep(f"This cell uses {', '.join(f'`{n}`' for n in missing)}, made by {made_by}. Run that "
                          f"first (after a restart: the imports cell at the top, then that section).")
