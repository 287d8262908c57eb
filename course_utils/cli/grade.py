"""`course grade`: every notebook in its own fresh process, killed at a wall-clock limit, several at once; a table,
a summary per exercise across submissions, reports, and the learner's progress when no path is given.

On Linux the processes are forked from a server that imported PyTorch, the checker and IPython once
(multiprocessing's forkserver, cli/workers.py): each notebook still starts from a clean copy of the library,
without paying about 4 s of imports. Elsewhere each is a new interpreter."""
from __future__ import annotations

import json
import math
import os
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import nbformat
from tqdm.auto import tqdm

from ..paths import CHECKOUT
from ..runtime import cpu_count
from .exercises_of import exercises_in
from .grade_worker import grade_in_forked_worker
from .workers import kill, running, worker_context, worker_env
from .reports import print_progress, print_summary, print_table, write_report
from .shards import parse_shard, shard_of


@dataclass
class NotebookGrade:
    """What happened to one notebook: how it ran ("ran", "died", "timed out", "unreadable") and a row per exercise."""

    notebook: str
    outcome: str
    detail: str
    seconds: float
    rows: list[dict] = field(default_factory=list)
    cell_errors: list[dict] = field(default_factory=list)
    checked_in_notebook: list[str] = field(default_factory=list)


def _ended(code: int) -> str:
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"


def _rows_for(names: list[str], status: str, message: str) -> list[dict]:
    return [{"exercise": n, "status": status, "mistake": None, "message": message, "seconds": 0.0} for n in names]


class _Messages:
    """The worker's JSON lines, read as they come: where it is, the rows it sent, and its final summary."""

    def __init__(self, stream, names: list[str]):
        self.names, self.rows, self.done, self.where = names, {}, None, "before its first cell"
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for raw in stream:
            try:
                message = json.loads(raw)
                kind = message["kind"]
            except (ValueError, TypeError, KeyError):
                continue  # not a line the worker wrote
            if kind == "cell":
                self.where = f"in cell {message.get('cell')} of {message.get('cells')} (`{message.get('source')}`)"
            elif kind == "checking":
                self.where = f"while checking `{message.get('exercise')}` after the last cell"
            elif kind == "row" and message.get("exercise") in self.names and message.get("status") in STATUSES:
                row = {key: message.get(key) for key in ROW_KEYS}
                row["mistake"] = row["mistake"] if isinstance(row["mistake"], str) else None
                row["message"] = str(row["message"])
                row["seconds"] = row["seconds"] if isinstance(row["seconds"], (int, float)) else 0.0
                self.rows[message["exercise"]] = row
            elif kind == "done":
                self.done = message

    def finish(self) -> None:
        self._thread.join(5)


ROW_KEYS = ("exercise", "status", "mistake", "message", "seconds")
STATUSES = ("passed", "failed", "not_attempted", "error")
def grade_notebook(path: Path, timeout: float, threads: int | None = None, content: bytes | None = None,
                   context=None) -> NotebookGrade:
    """Run and grade one notebook (``content``: its bytes, read before any grading began) in a fresh process
    (started by ``context``, from _context; made here when not given)."""
    start = time.perf_counter()
    try:
        content = path.read_bytes() if content is None else content
        nb = nbformat.reads(content.decode("utf-8"), as_version=4)
    except Exception as exc:  # noqa: BLE001  (any unreadable file is reported, not raised)
        names = exercises_in(path)
        detail = f"not a readable notebook ({type(exc).__name__}: {str(exc)[:200]})"
        return NotebookGrade(str(path), "unreadable", detail, 0.0, _rows_for(names, "error", f"not graded: {detail}"))
    names = exercises_in(path, nb)
    env = worker_env(threads)
    with tempfile.TemporaryDirectory(prefix="course-grade-", ignore_cleanup_errors=True) as scratch:
        workdir = Path(scratch) / "work"  # the notebook runs on a copy, in a folder of its own
        workdir.mkdir()
        copy = workdir / path.name
        copy.write_bytes(content)
        context = context or worker_context(env)
        reader, writer = context.Pipe(duplex=False)
        process = context.Process(target=grade_in_forked_worker, name=f"course grade {path.name}",
                                  args=(str(copy), max(1.0, timeout * 0.5), str(Path(scratch) / "checks.log"),
                                        writer, str(workdir), env))
        try:
            process.start()
        finally:
            writer.close()  # the worker holds the only writing end: its death ends the stream
        stream = os.fdopen(os.dup(reader.fileno()), "r", encoding="utf-8", errors="replace")
        reader.close()
        running.add(process)
        messages = _Messages(stream, names)
        try:
            process.join(timeout)
            timed_out = process.exitcode is None
        finally:
            kill(process)  # also whatever it left running in its group
            process.join(30)
            if process.exitcode is None:  # not even SIGKILL ended it yet: once more, then wait
                kill(process)
                process.join()
            running.discard(process)
            messages.finish()
            stream.close()
        code = process.exitcode
    seconds = time.perf_counter() - start
    rows = [messages.rows.get(n) for n in names]
    if timed_out or code != 0 or messages.done is None:
        detail = f"killed after {timeout:g} s" if timed_out else (
            _ended(code) if code != 0 else "ended without finishing its report")
        detail += f" {messages.where}"
        missing = f"not graded: the notebook {detail}"
        rows = [row or _rows_for([n], "error", missing)[0] for row, n in zip(rows, names)]
        return NotebookGrade(str(path), "timed out" if timed_out else "died", detail, seconds, rows)
    done = messages.done
    errors = done.get("cell_errors") if isinstance(done.get("cell_errors"), list) else []
    checked = done.get("checked_in_notebook") if isinstance(done.get("checked_in_notebook"), list) else []
    detail = f"{done.get('cells')} cells executed" + (f", {len(errors)} of them raised an error" if errors else "")
    if names and not checked:
        detail += "; it never called check_exercise (graded anyway)"
    if not names:
        detail += "; no course exercise found in it"
    rows = [row or _rows_for([n], "error", "not graded: the worker sent no result for it")[0]
            for row, n in zip(rows, names)]
    return NotebookGrade(str(path), "ran", detail, seconds, rows, errors, checked)


def notebooks_from(paths: list[str]) -> list[Path]:
    """The notebooks named, folders expanded to the notebooks they hold (sorted, checkpoints skipped)."""
    found = []
    for item in map(Path, paths):
        if item.is_dir():
            found += sorted(p for p in item.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        elif item.is_file():
            found.append(item)
        else:
            raise FileNotFoundError(f"{item} does not exist: give notebooks (.ipynb) or folders that hold them")
    return found


def grade_all(notebooks: list[Path], timeout: float, jobs: int | None = None, progress: bool = True) -> list[NotebookGrade]:
    """Grade several notebooks, ``jobs`` at a time (each process then uses fewer threads), in the given order.
    Every file is read before the first one runs, so a notebook cannot change another's submission."""
    contents = {}
    for path in notebooks:
        try:
            contents[path] = path.read_bytes()
        except OSError:
            contents[path] = b""
    jobs = max(1, min(jobs or cpu_count(), len(notebooks) or 1))
    threads = max(1, cpu_count() // jobs) if jobs > 1 else None
    grades: dict[Path, NotebookGrade] = {}
    context = worker_context(worker_env(threads))  # before any thread exists: it may change os.environ for a moment
    pool = ThreadPoolExecutor(jobs)
    try:
        futures = {pool.submit(grade_notebook, path, timeout, threads, contents[path], context): path
                   for path in notebooks}
        for future in tqdm(as_completed(futures), total=len(futures), desc="grading", unit="notebook",
                           disable=not progress):
            grades[futures[future]] = future.result()
    except BaseException:  # Ctrl-C or SIGTERM: stop every worker and what it started, then stop
        pool.shutdown(wait=False, cancel_futures=True)
        for process in list(running):
            kill(process)
        raise
    pool.shutdown()
    return [grades[path] for path in notebooks]


def _own_exercises() -> Path | None:
    for root in (Path.cwd(), CHECKOUT):
        if (root / "exercises").is_dir():
            return root / "exercises"
    return None


def _stop_on_sigterm(signum, frame):
    raise KeyboardInterrupt  # the same cleanup as Ctrl-C: workers killed, temporary folders removed


def _argument_problem(timeout: float, reports: Sequence[str]) -> str | None:
    if not (math.isfinite(timeout) and timeout > 0):
        return "--timeout must be a finite, positive number of seconds"
    for report in reports:
        target = Path(report)
        if target.suffix.lower() not in (".json", ".csv", ".xml"):
            return f"--report {report}: use a .json, .csv or .xml (JUnit) file name"
        if not target.resolve().parent.is_dir():
            return f"--report {report}: the folder {target.resolve().parent} does not exist"
    return None


def run_grade(paths: list[str], timeout: float = 300, report: str | Sequence[str] | None = None,
              jobs: int | None = None, shard: str | None = None) -> int:
    """The `course grade` command. Exit codes: 0 every exercise passed, 1 some did not (or a notebook died, timed
    out, could not be read or held no exercise), 2 nothing to grade or a bad argument, 130 interrupted.
    ``report``: one file name or several (one report per format, from the same run)."""
    reports = [report] if isinstance(report, str) else list(report or ())
    problem = _argument_problem(timeout, reports)
    if problem:
        print(f"course grade: {problem}", file=sys.stderr)
        return 2
    own = not paths
    if own:
        folder = _own_exercises()
        if folder is None:
            print("course grade: no path given and no exercises/ folder here; run it in the course folder or "
                  "name the notebooks to grade", file=sys.stderr)
            return 2
        paths = [str(folder)]
    try:
        notebooks = notebooks_from(paths)
    except FileNotFoundError as exc:
        print(f"course grade: {exc}", file=sys.stderr)
        return 2
    if not notebooks:
        print(f"course grade: no notebooks found in {', '.join(paths)}", file=sys.stderr)
        return 2
    if shard:
        try:
            k, n = parse_shard(shard)
        except ValueError as exc:
            print(f"course grade: {exc}", file=sys.stderr)
            return 2
        total, notebooks = len(notebooks), shard_of(notebooks, k, n)
        print(f"shard {k}/{n}: {len(notebooks)} of {total} notebooks")
        if not notebooks:  # more shards than notebooks: an empty report, so that the merge job finds every file
            for report in reports:
                write_report([], Path(report))
            return 0
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        grades = grade_all(notebooks, timeout, jobs)
    except KeyboardInterrupt:
        print("course grade: interrupted; every notebook still running was stopped", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    print_table(grades)
    if len(grades) > 1 and not own:
        print_summary(grades)
    if own:
        print_progress(grades)
    for report in reports:
        write_report(grades, Path(report))
        print(f"report written to {report}")
    every = [row for grade in grades for row in grade.rows]
    complete = all(g.outcome == "ran" and g.rows for g in grades)
    return 0 if complete and every and all(row["status"] == "passed" for row in every) else 1
