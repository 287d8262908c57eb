"""One notebook, graded inside this fresh process: run its code cells in an IPython shell, then check every exercise
of its lesson against the functions it defined. `course grade` forks these workers from a server that has PyTorch
and the checker imported already (grade_in_forked_worker); `python -m course_utils.cli.grade_worker NOTEBOOK
CELL_LIMIT LOG` runs one in a process of its own.

The worker reports to its parent as JSON lines on a private, non-inheritable descriptor (a pipe from the grader,
or a copy of its original stdout); the notebook's own output (fd 1 and 2) goes to /dev/null. Everything the
grading needs (the checker, the JSON writer, the patch detector's baseline) is taken before any cell runs, and
the process ends with os._exit right after its last line, so no exit handler of the notebook runs after it.
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
from ..checking import integrity
from .exercises_of import exercises_in

_dumps, _exit, _perf = json.dumps, os._exit, time.perf_counter  # taken before the notebook could patch them


def _first_line(source: str) -> str:
    lines = [line for line in source.strip().splitlines() if line.strip()]
    return lines[0][:80] if lines else ""


class _Channel:
    """JSON lines to the parent on a private, non-inheritable descriptor (``fd``, or a copy of the original stdout);
    the notebook's own stdout and stderr go to /dev/null."""

    def __init__(self, fd: int | None = None):
        fd = os.dup(1) if fd is None else fd
        self._file = os.fdopen(fd, "w", buffering=1, encoding="utf-8", errors="backslashreplace")
        quiet = os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, 1)
        os.dup2(quiet, 2)
        sys.stdout = sys.stderr = open(os.devnull, "w")

    def send(self, **message) -> None:
        self._file.write(_dumps(message) + "\n")


def _run_cells(shell, cells, channel: _Channel, cell_limit: float) -> list[dict]:
    """Run every code cell; a cell still running after cell_limit seconds is interrupted (Python code only)."""
    errors = []
    for index, cell in enumerate(cells, 1):
        channel.send(kind="cell", cell=index, cells=len(cells), source=_first_line(cell.source))
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


def _check_all(shell, names: list[str], channel: _Channel) -> None:
    """check_exercise for every exercise, looking each function up in the notebook's namespace; a row each."""
    for name in names:
        channel.send(kind="checking", exercise=name)
        start = _perf()
        result = eval("__course_check(__course_name)", shell.user_ns,  # noqa: S307  (our own expression)
                      {"__course_check": check_exercise, "__course_name": name})
        channel.send(kind="row", exercise=name, status=result.status, mistake=result.mistake,
                     message=result.message, seconds=round(_perf() - start, 3))


def _checked_by_notebook(log: Path, upto: int) -> list[str]:
    """Exercises the notebook's own cells checked: the log's lines written before grading began."""
    names = set()
    for line in log.read_bytes()[:upto].decode("utf-8", "replace").splitlines():
        try:
            names.add(json.loads(line)["exercise"])
        except (ValueError, KeyError, TypeError):
            continue
    return sorted(names)


def grade_in_this_process(notebook: Path, cell_limit: float, log: Path, channel_fd: int | None = None) -> None:
    """Run the notebook's cells in the current folder, then grade its exercises, reporting on the channel."""
    channel = _Channel(channel_fd)
    nb = nbformat.read(notebook, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    names = exercises_in(notebook, nb)
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    with shell.builtin_trap:  # with the builtins the cells will see (get_ipython, exit, quit)
        integrity.changed_names()  # the patch detector's baseline: the library as it is before any cell runs
    log.write_text("")
    os.environ[GRADE_LOG_ENV] = str(log)
    errors = _run_cells(shell, cells, channel, cell_limit)
    notebook_checks = log.stat().st_size
    with shell.builtin_trap:  # the builtins the cells ran with (get_ipython), as the checker saw them then
        _check_all(shell, names, channel)
    channel.send(kind="done", cells=len(cells), cell_errors=errors,
                 checked_in_notebook=_checked_by_notebook(log, notebook_checks))
    _exit(0)


def grade_in_forked_worker(notebook: str, cell_limit: float, log: str, channel, workdir: str,
                           env: dict[str, str]) -> None:
    """The entry point of a worker forked by `course grade`'s preloaded server (cli/grade.py): a session of its
    own (killed as a group), the notebook's folder, the grader's environment and thread count, then the grading."""
    os.setsid()
    fd = os.dup(channel.fileno())  # non-inheritable: the notebook's own child processes cannot write to it
    channel.close()
    _as_a_fresh_process(notebook, workdir, env)
    grade_in_this_process(Path(notebook), cell_limit, Path(log), fd)


def _as_a_fresh_process(notebook: str, workdir: str, env: dict[str, str]) -> None:
    """What a forked worker shares with its server, put back to what a new interpreter would have: stdin reads
    nothing, no descriptor but 0-2 passes to the notebook's own processes, the folder, sys.path, argv, environment,
    thread count, random generators (seeded from the OS) and multiprocessing's key."""
    import multiprocessing
    import random

    import numpy as np
    import torch

    quiet = os.open(os.devnull, os.O_RDONLY)
    os.dup2(quiet, 0)
    os.close(quiet)
    for name in os.listdir("/proc/self/fd") if os.path.isdir("/proc/self/fd") else ():
        if name.isdigit() and int(name) > 2:
            try:
                os.set_inheritable(int(name), False)
            except OSError:
                pass  # the listing's own descriptor, closed by now
    os.chdir(workdir)
    sys.path[:1] = [workdir]  # as `python -m` in that folder: the grader's own folder is not importable
    sys.argv = [notebook]
    os.environ.clear()
    os.environ.update(env)
    if env.get("OMP_NUM_THREADS", "").isdigit():
        torch.set_num_threads(max(1, int(env["OMP_NUM_THREADS"])))
    random.seed()
    np.random.seed()
    torch.seed()
    multiprocessing.current_process().authkey = os.urandom(32)


if __name__ == "__main__":
    grade_in_this_process(Path(sys.argv[1]).resolve(), float(sys.argv[2]), Path(sys.argv[3]).resolve())
