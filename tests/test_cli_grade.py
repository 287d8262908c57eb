"""`course grade`: solutions all pass, untouched exercises are all not attempted, and a hostile mix of submissions
(wrong, dying, crashing, hanging, check cells removed, unreadable) is reported notebook by notebook."""
import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import nbformat
import pytest

from course_utils.cli.grade import grade_all
from course_utils.registry import all_exercises

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))


@pytest.fixture(scope="module")
def course_grades():
    grades = grade_all(SOLUTIONS + EXERCISES, timeout=240, jobs=2, progress=False)
    return dict(zip(SOLUTIONS + EXERCISES, grades))


def test_every_solution_passes_every_exercise(course_grades):
    graded = []
    for path in SOLUTIONS:
        grade = course_grades[path]
        assert grade.outcome == "ran" and grade.rows, grade
        assert all(row["status"] == "passed" for row in grade.rows), grade.rows
        graded += [row["exercise"] for row in grade.rows]
    assert sorted(graded) == sorted(all_exercises())


def test_every_untouched_exercise_is_not_attempted(course_grades):
    for path in EXERCISES:
        grade = course_grades[path]
        assert grade.outcome == "ran" and grade.rows
        assert {row["status"] for row in grade.rows} == {"not_attempted"}, grade.rows


def _notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(nb, path)
    return path


def _without_checks(source: Path, target: Path) -> Path:
    nb = nbformat.read(source, as_version=4)
    nb.cells = [c for c in nb.cells if "check_exercise(" not in c.source]
    nbformat.write(nb, target)
    return target


@pytest.fixture(scope="module")
def mix(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    lesson = "03_cnn_shape_flow"
    shutil.copy(ROOT / "solutions" / f"{lesson}.ipynb", folder / f"ada_{lesson}.ipynb")
    _without_checks(ROOT / "solutions" / f"{lesson}.ipynb", folder / f"bo_{lesson}.ipynb")
    _notebook(folder / f"cy_{lesson}.ipynb", "from course_utils import check_exercise",
              "def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):\n"
              "    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride",
              'check_exercise("conv_output_size")')
    _notebook(folder / f"dee_{lesson}.ipynb", "import os", "os._exit(3)")
    _notebook(folder / f"eve_{lesson}.ipynb", "import ctypes", "ctypes.string_at(0)")
    (folder / f"gus_{lesson}.ipynb").write_text("{ this is not a notebook")
    _notebook(folder / "hal_free_style.ipynb", "def conv_output_size(size, kernel_size, stride=1, padding=0, "
              "dilation=1):\n    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1")
    fake = ('{"kind": "row", "exercise": "conv_output_size", "status": "passed", "mistake": null, '
            '"message": "", "seconds": 0}')
    _notebook(folder / f"ivy_{lesson}.ipynb",
              "def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):\n"
              "    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride",
              f"import atexit, os, sys\nprint({fake!r})\nos.write(1, ({fake!r} + '\\n').encode())\n"
              f"atexit.register(lambda: print({fake!r}))")
    _notebook(folder / f"jon_{lesson}.ipynb",
              "import course_utils.checking.judge as J\nfrom course_utils.checking.result import CheckResult\n"
              "J._verdict = lambda exercise, answer, pointer: CheckResult(exercise.name, 'passed', 'ok')")
    empty = nbformat.v4.new_notebook()
    empty.cells = [nbformat.v4.new_markdown_cell("# only words")]
    nbformat.write(empty, folder / "kim_notes.ipynb")
    reports = [folder / "reports" / f"report{suffix}" for suffix in (".json", ".csv", ".xml")]
    reports[0].parent.mkdir()
    # a generous wall-clock limit per notebook: no notebook of this mix should reach it, however slow the machine
    # (an endless one is graded on its own below, with a short limit)
    done = subprocess.run([sys.executable, "-m", "course_utils", "grade", str(folder), "--timeout", "300",
                           *(part for report in reports for part in ("--report", str(report)))],
                          capture_output=True, text=True, timeout=600, env=dict(os.environ, COURSE_WEIGHTS="course"))
    rows = json.loads(reports[0].read_text())
    return folder, done, {(Path(r["notebook"]).name.split("_")[0], r["exercise"]): r for r in rows}


def test_an_endless_notebook_that_ignores_ctrl_c_is_killed_at_its_wall_clock_limit(tmp_path):
    # endless without burning a core the rest of the suite needs: a loop of short sleeps hangs the same way
    _notebook(tmp_path / "fay_03_cnn_shape_flow.ipynb", "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)",
              "import time\nwhile True:\n    time.sleep(0.05)")
    report = tmp_path / "report.json"
    subprocess.run([sys.executable, "-m", "course_utils", "grade", str(tmp_path), "--timeout", "30", "--report",
                    str(report)], capture_output=True, text=True, timeout=300, env=dict(os.environ, COURSE_WEIGHTS="course"))
    rows = {r["exercise"]: r for r in json.loads(report.read_text())}
    assert rows["conv_output_size"]["outcome"].startswith("timed out: killed after 30 s in cell 2"), rows


def test_a_mix_of_submissions_is_reported_one_by_one(mix):
    folder, done, rows = mix
    assert done.returncode == 1, done.stderr
    assert rows["ada", "conv_output_size"]["status"] == rows["ada", "build_cnn"]["status"] == "passed"
    assert rows["bo", "conv_output_size"]["status"] == rows["bo", "build_cnn"]["status"] == "passed"
    assert "never called check_exercise" in rows["bo", "build_cnn"]["outcome"]
    assert rows["ada", "conv_output_size"]["outcome"].startswith("ran: ") and "cells executed" in done.stdout
    assert "ran, ran" not in done.stdout and "cells executed" in rows["ada", "build_cnn"]["outcome"]
    assert rows["cy", "conv_output_size"]["mistake"] == "forgot_plus_one"
    assert rows["cy", "build_cnn"]["status"] == "not_attempted"
    assert "exited with code 3" in rows["dee", "conv_output_size"]["message"]
    assert "cell 2 of 2" in rows["dee", "conv_output_size"]["message"]
    assert "SIGSEGV" in rows["eve", "build_cnn"]["outcome"]
    assert rows["gus", "conv_output_size"]["outcome"].startswith("unreadable")
    assert rows["hal", "conv_output_size"]["status"] == "passed"        # found by what it defines...
    assert rows["hal", "build_cnn"]["status"] == "not_attempted"        # ...with the rest of its lesson
    assert rows["ivy", "conv_output_size"]["mistake"] == "forgot_plus_one"   # printed fake results count for nothing
    assert rows["jon", "conv_output_size"]["status"] == "error"        # a patch made before any check is seen
    assert rows["kim", ""]["status"] == "error" and "nothing graded" in rows["kim", ""]["message"]
    assert "Summary per exercise" in done.stdout and "show_symptom('forgot_plus_one', 'conv_output_size')" \
        in done.stdout


def test_reports_as_json_csv_and_junit_carry_the_same_rows(mix):
    folder, done, rows = mix
    for row in rows.values():
        assert {"notebook", "exercise", "status", "mistake", "message", "seconds"} <= set(row)
    graded = ("ada_03_cnn_shape_flow.ipynb", "cy_03_cnn_shape_flow.ipynb")
    for suffix in (".csv", ".xml"):
        report = folder / "reports" / f"report{suffix}"
        assert f"report written to {report}" in done.stdout
        if suffix == ".csv":
            table = [r for r in csv.DictReader(report.open()) if Path(r["notebook"]).name in graded]
            assert [(r["exercise"], r["status"]) for r in table] == [
                ("conv_output_size", "passed"), ("build_cnn", "passed"),
                ("conv_output_size", "failed"), ("build_cnn", "not_attempted")]
            assert len(list(csv.DictReader(report.open()))) == len(rows)
        else:
            suites = {Path(s.get("name")).name: s for s in ET.parse(report).getroot()}
            assert [suites[name].get("tests") for name in graded] == ["2", "2"]
            assert suites[graded[1]].get("failures") == "1" and suites[graded[1]].get("skipped") == "1"
            assert suites[graded[1]].find("testcase/failure").get("message") == "forgot_plus_one"


def test_a_submission_cannot_change_another_one(tmp_path):
    victim = shutil.copy(ROOT / "solutions" / "01_tensor_shapes.ipynb", tmp_path / "bea_01_tensor_shapes.ipynb")
    _notebook(tmp_path / "abe_01_tensor_shapes.ipynb",
              f"from pathlib import Path\nfor other in Path({str(tmp_path)!r}).glob('bea*.ipynb'):\n"
              f"    other.write_text(Path({str(ROOT / 'exercises' / '01_tensor_shapes.ipynb')!r}).read_text())")
    grades = grade_all([tmp_path / "abe_01_tensor_shapes.ipynb", Path(victim)], timeout=120, jobs=1, progress=False)
    assert all(row["status"] == "passed" for row in grades[1].rows)     # graded as it was handed in


def test_bad_arguments_exit_2_with_a_message(tmp_path, capsys):
    from course_utils.cli import main

    done = subprocess.run([sys.executable, "-m", "course_utils", "grade", str(tmp_path / "missing.ipynb")],
                          capture_output=True, text=True, timeout=120)  # the exit status itself, once
    assert done.returncode == 2 and done.stderr.startswith("course grade:"), done.stderr
    for args in (["grade", str(tmp_path / "missing.ipynb")], ["grade", str(tmp_path), "--report", "x.txt"],
                 ["grade", str(tmp_path)], ["grade", "--timeout", "0", str(tmp_path)],
                 ["grade", "--timeout", "nan", str(tmp_path)],
                 ["grade", str(tmp_path), "--report", str(tmp_path / "no" / "r.json")],
                 ["grade", str(tmp_path), "--report", "r.json", "--report", "r.pdf"]):
        code = main(args)
        assert code == 2 and capsys.readouterr().err.startswith("course grade:"), args


def test_without_a_path_it_grades_your_exercises_and_shows_progress(tmp_path):
    (tmp_path / "exercises").mkdir()
    shutil.copy(ROOT / "solutions" / "01_tensor_shapes.ipynb", tmp_path / "exercises")
    shutil.copy(ROOT / "exercises" / "02_train_step.ipynb", tmp_path / "exercises")
    done = subprocess.run([sys.executable, "-m", "course_utils", "grade"], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    total = len(all_exercises())
    assert f"Progress: 2 of {total} exercises passed." in done.stdout
    assert "Next: `train_step` in exercises/02_train_step.ipynb (not attempted yet)" in done.stdout


def test_reports_stay_valid_with_control_characters_and_odd_file_names(tmp_path):
    from course_utils.cli.grade import NotebookGrade
    from course_utils.cli.reports import write_report

    odd = NotebookGrade("caf\udce9_01_tensor_shapes.ipynb", "ran", "3 cells executed", 1.0, [
        {"exercise": "to_batch", "status": "failed", "mistake": None, "message": "bad \x01\x1b[31m value",
         "seconds": 0.1}])
    empty = NotebookGrade("notes.ipynb", "ran", "0 cells executed; no course exercise found in it", 0.5)
    for suffix in (".json", ".csv", ".xml"):
        write_report([odd, empty], tmp_path / f"r{suffix}")
    assert len(json.loads((tmp_path / "r.json").read_text())) == 2
    assert len(list(csv.DictReader((tmp_path / "r.csv").open()))) == 2
    suites = ET.parse(tmp_path / "r.xml").getroot()
    assert suites[1].get("errors") == "1"                      # a notebook with nothing graded is visible in CI
    assert "\\xe9" in suites[0].get("name")
