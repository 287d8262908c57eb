"""One notebook, graded inside this fresh process: run its code cells in an IPython shell, then check every exercise
of its lesson against the functions it defined. `python -m course_utils.cli.grade_worker NOTEBOOK RESULT.json`.

Progress (the cell being run) is written next to RESULT.json before each cell, so that the parent, which kills
this process at its wall-clock limit, can say where a notebook died or hung.
"""
from __future__ import annotations

import _thread
import json
import os
import sys
import threading
import time
from pathlib import Path

import nbformat

from ..api import GRADE_LOG_ENV, check_exercise
from .exercises_of import exercises_in


def _first_line(source: str) -> str:
    lines = [line for line in source.strip().splitlines() if line.strip()]
    return lines[0][:80] if lines else ""


def _write(path: Path, data: dict) -> None:
    path.with_suffix(".tmp").write_text(json.dumps(data))
    path.with_suffix(".tmp").replace(path)


def _run_cells(shell, cells, progress: Path, cell_limit: float) -> list[dict]:
    """Run every code cell; a cell still running after cell_limit seconds is interrupted (Python code only)."""
    errors = []
    for index, cell in enumerate(cells, 1):
        _write(progress, {"cell": index, "cells": len(cells), "source": _first_line(cell.source)})
        timer = threading.Timer(cell_limit, _thread.interrupt_main)
        timer.start()
        try:
            result = shell.run_cell(cell.source, store_history=False)
        except KeyboardInterrupt:  # arrived between statements the shell itself runs
            result = None
        finally:
            timer.cancel()
        error = None if result is None else (result.error_before_exec or result.error_in_exec)
        if result is None or error is not None:
            kind = "KeyboardInterrupt" if error is None else type(error).__name__
            text = f"interrupted after {cell_limit:g} s" if kind == "KeyboardInterrupt" else str(error)[:200]
            errors.append({"cell": index, "source": _first_line(cell.source), "error": f"{kind}: {text}"})
    return errors


def _check_all(shell, names: list[str]) -> list[dict]:
    """check_exercise for every exercise, looking each function up in the notebook's namespace."""
    os.environ.pop(GRADE_LOG_ENV, None)  # from here on the checks are the grader's, not the notebook's
    rows = []
    for name in names:
        start = time.perf_counter()
        result = eval("__course_check(__course_name)", shell.user_ns,  # noqa: S307  (our own expression)
                      {"__course_check": check_exercise, "__course_name": name})  # imported before the cells ran
        rows.append({"exercise": name, "status": result.status, "mistake": result.mistake,
                     "message": result.message, "seconds": round(time.perf_counter() - start, 3)})
    return rows


def grade_in_this_process(notebook: Path, out: Path, cell_limit: float, workdir: Path) -> None:
    """Run the notebook's cells with ``workdir`` as the current folder, then grade its exercises."""
    nb = nbformat.read(notebook, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    names = exercises_in(notebook, nb)  # decided, and the checker loaded, before any of the notebook's code runs
    log = out.with_suffix(".checks")
    log.write_text("")
    os.environ[GRADE_LOG_ENV] = str(log)
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    os.chdir(workdir)
    started = time.perf_counter()
    errors = _run_cells(shell, cells, out.with_suffix(".progress"), cell_limit)
    ran = time.perf_counter() - started
    with shell.builtin_trap:  # the builtins the cells ran with (get_ipython), as the checker saw them then
        rows = _check_all(shell, names)
    checked = sorted({json.loads(line)["exercise"] for line in log.read_text().splitlines() if line.strip()})
    _write(out, {"rows": rows, "cell_errors": errors, "checked_in_notebook": checked, "cells": len(cells),
                 "run_seconds": round(ran, 3)})


if __name__ == "__main__":
    sys.stdout = sys.stderr = open(os.devnull, "w")  # the notebook's own output is not the grade
    grade_in_this_process(Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve(), float(sys.argv[3]),
                          Path(sys.argv[4]).resolve())
