"""`course grade` on the course's own notebooks: solutions all pass, untouched exercises are all not attempted; a
learner's progress, isolation between submissions, bad arguments, odd reports. Hostile submissions:
test_cli_grade_submissions.py."""
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree as ET

import nbformat
import pytest

from course_utils.cli.grade import grade_all
from course_utils.registry import all_exercises
from helpers import notebook_of

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))


GRADED_SOLUTION = ROOT / "solutions" / "06_freezing.ipynb"  # graded end to end; nbval re-runs every solution


@pytest.fixture(scope="module")
def course_grades():
    grades = grade_all([GRADED_SOLUTION] + EXERCISES, timeout=240, jobs=2, progress=False)
    return dict(zip([GRADED_SOLUTION] + EXERCISES, grades))


def test_every_solution_passes_every_exercise(course_grades):
    """Each exercise is checked in its lesson's solution notebook by a cell nbval compares (tagged), whose stored
    output is a pass: nbval runs every solution notebook in this suite, so a solution that stopped passing fails
    there. One solution notebook is also graded by `course grade` here, every row passed."""
    checked = []
    for path in SOLUTIONS:
        for cell in [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]:
            for name in re.findall(r'^check_exercise\("(\w+)"\)$', cell.source, re.MULTILINE):
                shown = "".join(o.get("data", {}).get("text/plain", "") for o in cell.get("outputs", []))
                assert "nbval-check-output" in cell.metadata.get("tags", []), (path.name, name)
                assert shown.startswith(f"[\u2714] {name}: Correct"), (path.name, name, shown[:200])
                checked.append(name)
    assert sorted(checked) == sorted(all_exercises())
    grade = course_grades[GRADED_SOLUTION]
    assert grade.outcome == "ran" and grade.rows and all(row["status"] == "passed" for row in grade.rows), grade.rows


def test_every_untouched_exercise_runs_and_every_check_is_not_attempted(course_grades):
    """The generated exercise notebooks run top to bottom as handed out (no cell fails), their own check cells ask
    about every exercise of the lesson, and every one of them is "not attempted"."""
    for path in EXERCISES:
        grade = course_grades[path]
        assert grade.outcome == "ran" and grade.rows
        assert not grade.cell_errors, (path.name, grade.cell_errors)
        assert grade.checked_in_notebook == sorted(row["exercise"] for row in grade.rows), (path.name, grade)
        assert {row["status"] for row in grade.rows} == {"not_attempted"}, grade.rows


def test_a_submission_cannot_change_another_one(tmp_path):
    victim = shutil.copy(ROOT / "solutions" / "01_tensor_shapes.ipynb", tmp_path / "bea_01_tensor_shapes.ipynb")
    notebook_of(tmp_path / "abe_01_tensor_shapes.ipynb",
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


def test_workers_start_preloaded_in_a_session_and_folder_of_their_own(tmp_path, monkeypatch):
    """Each notebook runs in a process forked from a server that has PyTorch loaded (no 4 s of imports per
    notebook), yet as a fresh process would: its own session (killed as a group), its own folder first on sys.path,
    the grader's environment without the test run's store, stdin that reads nothing, no inheritable descriptor."""
    from course_utils.catalogue.store import STORE_ENV

    monkeypatch.setenv(STORE_ENV, str(tmp_path / "store"))
    seen = tmp_path / "seen.json"
    notebook_of(tmp_path / "ann_01_tensor_shapes.ipynb",
                "import json, os, sys\nloaded = 'torch' in sys.modules\n"
                "passed_on = [int(fd) for fd in os.listdir('/proc/self/fd') if int(fd) > 2 and os.path.exists("
                "f'/proc/self/fd/{fd}') and os.get_inheritable(int(fd))]\n"
                f"open({str(seen)!r}, 'w').write(json.dumps([loaded, os.getsid(0) == os.getpid(), os.getcwd(), "
                f"sys.path[0], os.environ.get('MPLBACKEND'), os.getppid() != {os.getpid()}, os.read(0, 10).decode(), "
                f"{STORE_ENV!r} in os.environ, passed_on]))")
    grade, = grade_all([tmp_path / "ann_01_tensor_shapes.ipynb"], timeout=120, jobs=1, progress=False)
    assert grade.outcome == "ran" and not grade.cell_errors, grade
    loaded, own_session, cwd, first_path, backend, forked_elsewhere, stdin, store, passed_on = json.loads(
        seen.read_text())
    assert loaded and own_session and forked_elsewhere and backend == "Agg"
    assert cwd == first_path and Path(cwd).name == "work" and not cwd.startswith(str(tmp_path))
    assert stdin == "" and not store and passed_on == []


def test_a_limit_shorter_than_the_start_still_stops_the_notebook(tmp_path):
    """Killed at once, even before the worker has a session of its own: the 4 s notebook never gets to its end."""
    finished = tmp_path / "finished"
    notebook_of(tmp_path / "bob_01_tensor_shapes.ipynb", "import signal, time\nsignal.signal(signal.SIGINT, "
                f"signal.SIG_IGN)\ntime.sleep(4)\nopen({str(finished)!r}, 'w').write('ran to the end')")
    grade, = grade_all([tmp_path / "bob_01_tensor_shapes.ipynb"], timeout=0.01, jobs=1, progress=False)
    assert grade.outcome == "timed out", grade
    time.sleep(6)  # past the notebook's own 4 s: it would have written the file by now
    assert not finished.exists()
