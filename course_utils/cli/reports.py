"""What `course grade` prints and writes: a table, a per-exercise summary for a class, a learner's progress,
and reports as JSON, CSV or JUnit XML (chosen by the file's extension)."""
from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path
from xml.etree import ElementTree as ET

from ..registry import all_exercises

FIELDS = ("notebook", "exercise", "status", "mistake", "message", "seconds", "outcome")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # not allowed in XML, harmful on a terminal


def clean(text) -> str:
    """Printable text: file names that are not valid UTF-8 shown with escapes, control characters replaced."""
    text = "" if text is None else str(text)
    return _CONTROL.sub("\ufffd", text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace"))
MARK = {"passed": "✔", "failed": "✘", "not_attempted": "·", "error": "!"}


def _rows_of(grade) -> list[dict]:
    """The notebook's rows, or one error row standing for a notebook in which nothing could be graded."""
    return grade.rows or [{"exercise": "", "status": "error", "mistake": None, "seconds": 0.0,
                           "message": f"nothing graded: {grade.detail}"}]


def report_rows(grades) -> list[dict]:
    """One flat row per (notebook, exercise), plus one error row for a notebook with no exercise at all."""
    return [{"notebook": clean(grade.notebook), **{k: clean(v) if isinstance(v, str) else v for k, v in row.items()},
             "outcome": clean(f"{grade.outcome}: {grade.detail}")} for grade in grades for row in _rows_of(grade)]


def print_table(grades) -> None:
    """Per notebook: how it ran, then one line per exercise with its status, mistake and time."""
    for grade in grades:
        print(f"\n{clean(grade.notebook)}: {grade.outcome}, {clean(grade.detail)} ({grade.seconds:.1f} s)")
        for error in grade.cell_errors[:3]:
            if isinstance(error, dict):
                print(clean(f"    cell {error.get('cell')} (`{error.get('source')}`): {error.get('error')}"))
        for row in grade.rows:
            mistake = f"  [{row['mistake']}]" if row["mistake"] else ""
            print(clean(f"  {MARK.get(row['status'], '?')} {row['exercise']:24s} {row['status']:14s}{mistake}"))


def print_summary(grades) -> None:
    """Across submissions: each exercise's pass rate and its most common named mistakes."""
    by_exercise: dict[str, list[dict]] = {}
    for grade in grades:
        for row in grade.rows:
            by_exercise.setdefault(row["exercise"], []).append(row)
    if not by_exercise:
        return
    print("\nSummary per exercise")
    for name, rows in by_exercise.items():
        passed = sum(r["status"] == "passed" for r in rows)
        print(f"  {name:24s} {passed}/{len(rows)} passed ({passed / len(rows):.0%})")
        for mistake, count in Counter(r["mistake"] for r in rows if r["mistake"]).most_common(3):
            print(f"      {count} x {mistake}: show_symptom({mistake!r}, {name!r})")


def print_progress(grades) -> None:
    """The learner's own exercises: how many of the course's exercises pass, and what to do next."""
    status = {row["exercise"]: row for grade in grades for row in grade.rows}
    names = list(all_exercises())
    passed = [n for n in names if status.get(n, {}).get("status") == "passed"]
    print(f"\nProgress: {len(passed)} of {len(names)} exercises passed.")
    todo = [n for n in names if n not in passed]
    if not todo:
        print("Every exercise passes: the course is done.")
        return
    name = todo[0]
    lesson = all_exercises()[name].lesson
    row = status.get(name)
    state = "not attempted yet" if row is None or row["status"] == "not_attempted" else row["status"]
    print(f"Next: `{name}` in exercises/{lesson}.ipynb ({state}). Stuck? hint({name!r}) in that notebook.")


def _junit(rows: list[dict], times: dict[str, float]) -> ET.ElementTree:
    """JUnit XML: a test suite per notebook (its wall time from ``times``, else its rows' seconds summed), a test
    case per exercise."""
    suites = ET.Element("testsuites", name="course grade")
    by_notebook: dict[str, list[dict]] = {}
    for row in rows:
        by_notebook.setdefault(row["notebook"], []).append(row)
    for notebook, group in by_notebook.items():
        seconds = times.get(notebook, sum(float(r["seconds"] or 0) for r in group))
        suite = ET.SubElement(suites, "testsuite", name=notebook, tests=str(len(group)),
                              failures=str(sum(r["status"] == "failed" for r in group)),
                              errors=str(sum(r["status"] == "error" for r in group)),
                              skipped=str(sum(r["status"] == "not_attempted" for r in group)),
                              time=f"{seconds:.3f}")
        ET.SubElement(suite, "system-out").text = group[0]["outcome"]
        for row in group:
            case = ET.SubElement(suite, "testcase", classname=Path(notebook).stem,
                                 name=row["exercise"] or "(the notebook)", time=f"{float(row['seconds'] or 0):.3f}")
            kind = {"failed": "failure", "error": "error", "not_attempted": "skipped"}.get(row["status"])
            if kind:
                ET.SubElement(case, kind, message=row["mistake"] or row["status"]).text = row["message"]
    return ET.ElementTree(suites)


def write_report(grades, path: Path) -> None:
    """JSON (a list of row objects), CSV (one row per notebook and exercise) or JUnit XML, by extension."""
    write_rows(report_rows(grades), path, {clean(grade.notebook): grade.seconds for grade in grades})


def write_rows(rows: list[dict], path: Path, times: dict[str, float] | None = None) -> None:
    """Report rows written as JSON, CSV or JUnit XML, by ``path``'s extension."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        path.write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    elif suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=FIELDS)
            writer.writeheader()
            writer.writerows(rows)
    elif suffix == ".xml":
        _junit(rows, times or {}).write(path, encoding="utf-8", xml_declaration=True)
    else:
        raise ValueError(f"report {path}: use .json, .csv or .xml")


def read_rows(path: Path) -> list[dict]:
    """The rows of a report `course grade` wrote as JSON or CSV (seconds as numbers, empty mistakes as None)."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        rows = json.loads(path.read_text(encoding="utf-8"))
    elif suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            rows = [dict(row) for row in csv.DictReader(handle)]
        for row in rows:
            row["mistake"] = row["mistake"] or None
            row["seconds"] = float(row["seconds"] or 0)
    else:
        raise ValueError(f"{path}: merge reads the .json or .csv reports of `course grade --report`")
    if not isinstance(rows, list) or any(not isinstance(r, dict) or set(FIELDS) - set(r) for r in rows):
        raise ValueError(f"{path} is not a `course grade` report (rows with {', '.join(FIELDS)})")
    return rows


def merge_reports(paths: list[Path]) -> list[dict]:
    """The rows of several shards' reports as one report: ordered by notebook as one unsharded run of the sorted
    notebooks gives them (each notebook's rows in their own order); a notebook in two reports is an error."""
    by_notebook: dict[str, list[dict]] = {}
    for path in paths:
        seen_here: dict[str, list[dict]] = {}
        for row in read_rows(path):
            seen_here.setdefault(row["notebook"], []).append(row)
        for notebook, rows in seen_here.items():
            if notebook in by_notebook:
                raise ValueError(f"{notebook} is in two reports ({path} and another): merge each shard's report once")
            by_notebook[notebook] = rows
    return [row for notebook in sorted(by_notebook) for row in by_notebook[notebook]]
