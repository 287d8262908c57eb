"""`course grade` on a hostile mix of submissions (wrong, dying, crashing, hanging, check cells removed, unreadable,
printing fake results, patching the checker, empty), reported notebook by notebook in JSON, CSV and JUnit."""
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

from helpers import notebook_of

ROOT = Path(__file__).resolve().parent.parent


def _without_checks(source: Path, target: Path) -> Path:
    nb = nbformat.read(source, as_version=4)
    nb.cells = [c for c in nb.cells if "check_exercise(" not in c.source]
    nbformat.write(nb, target)
    return target


@pytest.fixture(scope="module")
def endless(tmp_path_factory):
    """`course grade` on a notebook that ignores Ctrl-C and never ends, with a 20 s limit: started first and left
    running (it sleeps; it needs no core) while the file's other tests grade, collected by the test that needs it."""
    folder = tmp_path_factory.mktemp("endless")
    # endless without burning a core the rest of the suite needs: a loop of short sleeps hangs the same way
    notebook_of(folder / "fay_03_cnn_shape_flow.ipynb", "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)",
                "import time\nwhile True:\n    time.sleep(0.05)")
    report = folder / "report.json"
    process = subprocess.Popen([sys.executable, "-m", "course_utils", "grade", str(folder), "--timeout", "20",
                                "--report", str(report)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=dict(os.environ, COURSE_WEIGHTS="course"))
    yield process, report
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.fixture(scope="module", autouse=True)
def endless_started_first(endless):
    """Every test of this file starts the endless grading (once), so it runs beside them."""


@pytest.fixture(scope="module")
def mix(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    lesson = "03_cnn_shape_flow"
    shutil.copy(ROOT / "solutions" / f"{lesson}.ipynb", folder / f"ada_{lesson}.ipynb")
    _without_checks(ROOT / "solutions" / f"{lesson}.ipynb", folder / f"bo_{lesson}.ipynb")
    notebook_of(folder / f"cy_{lesson}.ipynb", "from course_utils import check_exercise",
              "def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):\n"
              "    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride",
              'check_exercise("conv_output_size")')
    notebook_of(folder / f"dee_{lesson}.ipynb", "import os", "os._exit(3)")
    notebook_of(folder / f"eve_{lesson}.ipynb", "import ctypes", "ctypes.string_at(0)")
    (folder / f"gus_{lesson}.ipynb").write_text("{ this is not a notebook")
    notebook_of(folder / "hal_free_style.ipynb", "def conv_output_size(size, kernel_size, stride=1, padding=0, "
              "dilation=1):\n    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1")
    fake = ('{"kind": "row", "exercise": "conv_output_size", "status": "passed", "mistake": null, '
            '"message": "", "seconds": 0}')
    notebook_of(folder / f"ivy_{lesson}.ipynb",
              "def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):\n"
              "    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride",
              f"import atexit, os, sys\nprint({fake!r})\nos.write(1, ({fake!r} + '\\n').encode())\n"
              f"atexit.register(lambda: print({fake!r}))")
    notebook_of(folder / f"jon_{lesson}.ipynb",
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


def test_three_shards_merged_give_the_rows_of_one_unsharded_run(tmp_path, capsys):
    lesson = "03_cnn_shape_flow"
    right = "def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):\n" \
            "    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1"
    for name, cells in (("ana", [right]), ("ben", [right.replace(" + 1", "")]), ("cal", ["x = 1"]),
                        ("dan", ["import os", "os._exit(3)"]), ("eli", [right, "raise ValueError('late')"])):
        notebook_of(tmp_path / f"{name}_{lesson}.ipynb", "from course_utils import check_exercise", *cells)
    (tmp_path / f"fox_{lesson}.ipynb").write_text("{ not a notebook")
    from course_utils.cli import main
    folder = str(tmp_path)
    assert main(["grade", folder, "--timeout", "300", "--report", str(tmp_path / "whole.json")]) == 1
    for k in (1, 2, 3):  # in this process: the grading workers' fork server starts once for the four runs
        main(["grade", folder, "--timeout", "300", "--shard", f"{k}/3", "--report", str(tmp_path / f"shard{k}.csv")])
        assert f"shard {k}/3: 2 of 6 notebooks" in capsys.readouterr().out
    code = main(["merge", *(str(tmp_path / f"shard{k}.csv") for k in (3, 1, 2)), "--report",
                 str(tmp_path / "merged.json"), "--report", str(tmp_path / "merged.xml")])
    assert code == 1 and "6 notebooks" in capsys.readouterr().out  # 1: not every exercise passed

    def comparable(rows):
        return [{k: v for k, v in row.items() if k != "seconds"} | {"outcome": row["outcome"].split(" in ")[0]}
                for row in rows]
    whole = json.loads((tmp_path / "whole.json").read_text())
    assert comparable(json.loads((tmp_path / "merged.json").read_text())) == comparable(whole)
    assert len(ET.parse(tmp_path / "merged.xml").getroot()) == 6
    assert main(["merge", str(tmp_path / "shard1.csv"), str(tmp_path / "shard1.csv"), "--report",
                 str(tmp_path / "x.json")]) == 2
    assert "in two reports" in capsys.readouterr().err
    assert main(["grade", folder, "--shard", "4/3"]) == 2 and "between 1 and N" in capsys.readouterr().err


# last in the file: the endless grading started with the file's first test runs beside all the others first
def test_an_endless_notebook_that_ignores_ctrl_c_is_killed_at_its_wall_clock_limit(endless):
    process, report = endless
    process.wait(timeout=300)
    rows = {r["exercise"]: r for r in json.loads(report.read_text())}
    assert rows["conv_output_size"]["outcome"].startswith("timed out: killed after 20 s in cell 2"), rows
