"""`course grade`: every notebook in its own fresh process, killed at a wall-clock limit, several at once; a table,
a summary per exercise across submissions, reports, and the learner's progress when no path is given."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from tqdm.auto import tqdm

from .exercises_of import exercises_in
from .reports import print_progress, print_summary, print_table, write_report


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


def _where(progress: Path) -> str:
    try:
        cell = json.loads(progress.read_text())
    except (OSError, ValueError):
        return "before its first cell"
    return f"in cell {cell['cell']} of {cell['cells']} (`{cell['source']}`)"


def _ended(code: int) -> str:
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"


def _rows_for(names: list[str], status: str, message: str) -> list[dict]:
    return [{"exercise": n, "status": status, "mistake": None, "message": message, "seconds": 0.0} for n in names]


def grade_notebook(path: Path, timeout: float, threads: int | None = None) -> NotebookGrade:
    """Run and grade one notebook in a fresh process; never raises because of the notebook."""
    start = time.perf_counter()
    try:
        names = exercises_in(path, nbformat.read(path, as_version=4))
    except Exception as exc:  # noqa: BLE001  (any unreadable file is reported, not raised)
        return NotebookGrade(str(path), "unreadable", f"not a readable notebook ({type(exc).__name__}: {exc})", 0.0)
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONUNBUFFERED="1")
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    with tempfile.TemporaryDirectory(prefix="course-grade-") as scratch:
        out = Path(scratch) / "result.json"
        workdir = Path(scratch) / "work"  # the notebook's files land here, not next to other submissions
        workdir.mkdir()
        command = [sys.executable, "-m", "course_utils.cli.grade_worker", str(path.resolve()), str(out),
                   str(max(1.0, timeout * 0.5)), str(workdir)]
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, env=env, start_new_session=True)
        try:
            code = process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            detail = f"timed out after {timeout:g} s {_where(out.with_suffix('.progress'))}"
            return NotebookGrade(str(path), "timed out", detail, time.perf_counter() - start,
                                 _rows_for(names, "error", f"not graded: the notebook {detail}"))
        if code != 0 or not out.is_file():
            detail = f"{_ended(code)} {_where(out.with_suffix('.progress'))}"
            return NotebookGrade(str(path), "died", detail, time.perf_counter() - start,
                                 _rows_for(names, "error", f"not graded: the notebook {detail}"))
        result = json.loads(out.read_text())
    detail = f"ran {result['cells']} cells"
    if result["cell_errors"]:
        detail += f", {len(result['cell_errors'])} raised an error"
    if names and not result["checked_in_notebook"]:
        detail += "; it never called check_exercise (graded anyway)"
    if not names:
        detail += "; no course exercise found in it"
    return NotebookGrade(str(path), "ran", detail, time.perf_counter() - start, result["rows"],
                         result["cell_errors"], result["checked_in_notebook"])


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
    """Grade several notebooks, ``jobs`` at a time (each process then uses fewer threads), in the given order."""
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(notebooks) or 1))
    threads = max(1, (os.cpu_count() or 1) // jobs) if jobs > 1 else None
    grades: dict[Path, NotebookGrade] = {}
    with ThreadPoolExecutor(jobs) as pool:
        futures = {pool.submit(grade_notebook, path, timeout, threads): path for path in notebooks}
        for future in tqdm(as_completed(futures), total=len(futures), desc="grading", unit="notebook",
                           disable=not progress):
            grades[futures[future]] = future.result()
    return [grades[path] for path in notebooks]


def _own_exercises() -> Path | None:
    for root in (Path.cwd(), Path(__file__).resolve().parents[2]):
        if (root / "exercises").is_dir():
            return root / "exercises"
    return None


def run_grade(paths: list[str], timeout: float = 300, report: str | None = None, jobs: int | None = None) -> int:
    """The `course grade` command. Exit codes: 0 every exercise passed, 1 some did not (or a notebook died or
    timed out), 2 nothing to grade or a bad argument."""
    if timeout <= 0:
        print("course grade: --timeout must be a positive number of seconds", file=sys.stderr)
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
    if report and Path(report).suffix.lower() not in (".json", ".csv", ".xml"):
        print(f"course grade: --report {report}: use a .json, .csv or .xml (JUnit) file name", file=sys.stderr)
        return 2
    grades = grade_all(notebooks, timeout, jobs)
    print_table(grades)
    if len(grades) > 1 and not own:
        print_summary(grades)
    if own:
        print_progress(grades)
    if report:
        write_report(grades, Path(report))
        print(f"report written to {report}")
    every = [row for grade in grades for row in grade.rows]
    return 0 if every and all(row["status"] == "passed" for row in every) and \
        all(g.outcome == "ran" for g in grades) else 1
