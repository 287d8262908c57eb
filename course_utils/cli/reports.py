"""What `course grade` prints and writes: a table, a per-exercise summary for a class, a learner's progress,
and reports as JSON, CSV or JUnit XML (chosen by the file's extension)."""
from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from xml.etree import ElementTree as ET

from ..registry import all_exercises

FIELDS = ("notebook", "exercise", "status", "mistake", "message", "seconds", "outcome")
MARK = {"passed": "✔", "failed": "✘", "not_attempted": "·", "error": "!"}


def report_rows(grades) -> list[dict]:
    """One flat row per (notebook, exercise), plus one row for a notebook with no exercise at all."""
    rows = []
    for grade in grades:
        for row in grade.rows or [{"exercise": "", "status": "error" if grade.outcome != "ran" else "not_attempted",
                                   "mistake": None, "message": grade.detail, "seconds": 0.0}]:
            rows.append({"notebook": grade.notebook, **row, "outcome": f"{grade.outcome}: {grade.detail}"})
    return rows


def print_table(grades) -> None:
    """Per notebook: how it ran, then one line per exercise with its status, mistake and time."""
    for grade in grades:
        print(f"\n{grade.notebook}: {grade.outcome}, {grade.detail} ({grade.seconds:.1f} s)")
        for error in grade.cell_errors[:3]:
            print(f"    cell {error['cell']} (`{error['source']}`): {error['error']}")
        for row in grade.rows:
            mistake = f"  [{row['mistake']}]" if row["mistake"] else ""
            print(f"  {MARK.get(row['status'], '?')} {row['exercise']:24s} {row['status']:14s}{mistake}")


def print_summary(grades) -> None:
    """Across submissions: each exercise's pass rate and its most common named mistakes."""
    by_exercise: dict[str, list[dict]] = {}
    for grade in grades:
        for row in grade.rows:
            by_exercise.setdefault(row["exercise"], []).append(row)
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


def _junit(grades) -> ET.ElementTree:
    suites = ET.Element("testsuites", name="course grade")
    for grade in grades:
        rows = grade.rows
        suite = ET.SubElement(suites, "testsuite", name=grade.notebook, tests=str(len(rows)),
                              failures=str(sum(r["status"] == "failed" for r in rows)),
                              errors=str(sum(r["status"] == "error" for r in rows)),
                              skipped=str(sum(r["status"] == "not_attempted" for r in rows)),
                              time=f"{grade.seconds:.3f}")
        ET.SubElement(suite, "system-out").text = f"{grade.outcome}: {grade.detail}"
        for row in rows:
            case = ET.SubElement(suite, "testcase", classname=Path(grade.notebook).stem, name=row["exercise"],
                                 time=f"{row['seconds']:.3f}")
            kind = {"failed": "failure", "error": "error", "not_attempted": "skipped"}.get(row["status"])
            if kind:
                ET.SubElement(case, kind, message=row["mistake"] or row["status"]).text = row["message"]
    return ET.ElementTree(suites)


def write_report(grades, path: Path) -> None:
    """JSON (a list of row objects), CSV (one row per notebook and exercise) or JUnit XML, by extension."""
    rows = report_rows(grades)
    suffix = path.suffix.lower()
    if suffix == ".json":
        path.write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n")
    elif suffix == ".csv":
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=FIELDS)
            writer.writeheader()
            writer.writerows(rows)
    elif suffix == ".xml":
        _junit(grades).write(path, encoding="unicode", xml_declaration=True)
    else:
        raise ValueError(f"report {path}: use .json, .csv or .xml")
