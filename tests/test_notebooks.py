"""Notebook hygiene and the generated exercises: no drift, stubs in place (that they run and report 'not attempted':
test_cli_grade.py, which grades them)."""
import json
import re
import sys
from pathlib import Path

import nbformat
import pytest

from course_utils.tools.execute_notebooks import WIDGET, cell_seconds, strip_widgets, time_line
from course_utils.registry import all_exercises
from course_utils.tools.make_exercises import BEGIN, END, expected_exercises, stub_source
from course_utils.registry import scripted_mistakes

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))
ALL = LESSONS + SOLUTIONS + EXERCISES


def _code_cells(path):
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def test_exercises_are_generated_from_solutions_without_drift():
    expected = expected_exercises(ROOT)
    assert sorted(expected) == EXERCISES, "exercises/ and solutions/ hold different notebooks: run `make exercises`"
    for path, text in expected.items():
        assert path.read_text() == text, f"{path.name} drifted from its solution: run `make exercises`"


def test_every_exercise_has_a_solution_region_and_a_stub():
    for name, exercise in all_exercises().items():
        solution = (ROOT / "solutions" / f"{exercise.lesson}.ipynb").read_text()
        generated = (ROOT / "exercises" / f"{exercise.lesson}.ipynb").read_text()
        assert f"def {name}(" in solution and BEGIN in solution
        assert f"check_exercise(\\\"{name}\\\")" in generated, f"{name}: no check cell in the exercise notebook"
        assert f"Write {name}, then run check_exercise" in generated
        assert BEGIN not in generated and END not in generated


def test_stub_source_rejects_broken_markers():
    with pytest.raises(ValueError):
        stub_source(f"x = 1\n{BEGIN}\n{END}")           # outside a function
    with pytest.raises(ValueError):
        stub_source(f"def f():\n    {BEGIN}\n    return 1")  # never closed
    assert stub_source(f"def f():\n    {BEGIN}\n    return 1\n    {END}\n") .count("NotImplementedError") == 1


@pytest.fixture
def this_python_as_kernel(tmp_path, monkeypatch):
    """Make the kernel "python3" mean the interpreter running the tests, whatever the user has installed."""
    spec = tmp_path / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "test", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))


def _registered_kernel_display_name() -> str:
    match = re.search(r"^KERNEL_DISPLAY := (.+)$", (ROOT / "Makefile").read_text(), re.M)
    assert match, "the Makefile names the kernel it registers in KERNEL_DISPLAY"
    return match.group(1).strip()


@pytest.mark.parametrize("path", ALL, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebook_conventions(path):
    notebook = nbformat.read(path, as_version=4)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    # JupyterLab rewrites a stored display name that differs from the kernel's: opening would change the file.
    assert notebook.metadata["kernelspec"]["display_name"] == _registered_kernel_display_name()
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.get("tags", [])
        assert not cell.source.rstrip().endswith(";"), "a trailing ';' hides output from nbval"
        if "raises-exception" in tags:
            assert "nbval-check-output" in tags, "lax mode only checks that an error cell still raises when tagged"
        if path in EXERCISES:
            assert not cell.outputs and cell.execution_count is None
        else:
            assert cell.execution_count is not None, "re-execute the notebook before committing"
            for output in cell.outputs:
                png = output.get("data", {}).get("image/png", "")
                assert len(png) < 80_000, "keep figures small (low dpi)"
                if output.output_type == "error":  # the symptom, not pages of library internals
                    assert len("\n".join(output.traceback).splitlines()) <= 15, "call short_tracebacks() first"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_lessons_cover_error_paths_and_their_catalogue_entries(path):
    cells = _code_cells(path)
    assert any("raises-exception" in c.metadata.get("tags", []) for c in cells), "every lesson has a checked error path"
    source = "\n".join(c.source for c in cells)
    for mistake in scripted_mistakes().values():
        if mistake.lesson == path.stem:
            assert f'show_symptom("{mistake.id}")' in source, f"{path.name} does not show {mistake.id}"
    errors = [o for c in cells for o in c.outputs if o.output_type == "error"]
    tagged = [c for c in cells if "raises-exception" in c.metadata.get("tags", [])]
    assert len(errors) == len(tagged), "only cells tagged raises-exception may store an error"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_the_first_intended_error_says_that_run_all_goes_on(path):
    """JupyterLab shows `[ ]` on every cell queued after an error until it runs: a learner who pressed Run All
    must read, before the first intended error, that the run goes on."""
    cells = nbformat.read(path, as_version=4).cells
    first = next(i for i, c in enumerate(cells) if "raises-exception" in c.metadata.get("tags", []))
    assert cells[first - 1].cell_type == "markdown" and "Run All" in cells[first - 1].source, (
        f"say before cell {first} that Run All goes on after the intended error")


def test_notebooks_are_valid_json_with_ids():
    for path in ALL:
        nbformat.validate(nbformat.read(path, as_version=4))
        json.loads(path.read_text())


# tqdm's text: "runs: 100%|██████████| 24/24 [05:33<00:00, 13.9s/it]" or the variant bar "2/2 variants [00:05<00:00]"
PROGRESS = re.compile(r"\d+/\d+(?: \w+)? \[\d+:\d\d<\d+:\d\d")
FROZEN = re.compile(r"\b0/\d+ \[00:00<\?|Error displaying widget|model not found")


@pytest.mark.parametrize("path", LESSONS + SOLUTIONS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_stored_outputs_hold_no_dead_widgets(path):
    notebook = nbformat.read(path, as_version=4)
    assert "widgets" not in notebook.metadata, "widget state in the notebook: re-execute with `make execute`"
    for index, cell in enumerate(c for c in notebook.cells if c.cell_type == "code"):
        for output in cell.outputs:
            assert WIDGET not in output.get("data", {}), f"code cell {index}: a stored widget (`make execute`)"
            text = "".join(output.get("text", "")) + "".join(output.get("data", {}).get("text/plain", ""))
            assert not FROZEN.search(text), f"code cell {index}: a progress bar frozen at its start: {text[:80]!r}"


# Machines differ about 4x in speed (and a busy one more): a cell that took 2.5 s here can take 10 s elsewhere.
SLOWER_ELSEWHERE = 4


@pytest.mark.parametrize("path", LESSONS + SOLUTIONS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_cell_that_can_take_ten_seconds_shows_a_progress_bar(path):
    """Recorded run times (`make execute`): every cell but the imports that could pass 10 s on a 4x slower machine."""
    notebook = nbformat.read(path, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(cell_seconds(c) is not None for c in code), "run times not recorded: re-execute with `make execute`"
    for index, cell in enumerate(code[1:], start=1):
        if cell_seconds(cell) * SLOWER_ELSEWHERE > 10:
            text = "".join("".join(o.get("text", "")) for o in cell.outputs)
            assert PROGRESS.search(text), f"code cell {index} ran {cell_seconds(cell):.1f} s without a progress bar"


SHOWN = re.compile(r"""show_symptom\(["'](\w+)["']\)""")


@pytest.mark.parametrize("path", LESSONS + SOLUTIONS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_cells_whose_output_nbval_compares_show_no_progress_bar(path):
    """A bar's text holds timings, so a checked cell may only show a mistake declared quick (no bar)."""
    mistakes = scripted_mistakes()
    for index, cell in enumerate(_code_cells(path)):
        if "nbval-check-output" in cell.metadata.get("tags", []):
            for shown in SHOWN.findall(cell.source):
                assert mistakes[shown].quick, (f"code cell {index} compares the output of show_symptom({shown!r}), "
                                               "which shows a progress bar: declare it quick=True or untag the cell")


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_lesson_intro_says_how_long_it_took_idle_and_busy(path):
    """The intro's time line is the one `make execute` and `make execute ... BUSY=1` recorded in the metadata."""
    notebook = nbformat.read(path, as_version=4)
    run = notebook.metadata.get("course", {}).get("run", {})
    assert {"idle_seconds", "busy_seconds"} <= set(run), "run times not recorded: `make execute`, then with BUSY=1"
    assert time_line(run) in notebook.cells[0].source, "the intro's time line differs from the recorded run times"
    recorded = sum(cell_seconds(c) or 0 for c in notebook.cells if c.cell_type == "code")
    assert recorded <= run["idle_seconds"], "the cells ran longer than the whole notebook: times from another run"


def test_strip_widgets_keeps_the_final_text_of_a_tqdm_bar():
    notebook = nbformat.v4.new_notebook()
    state = {
        "box": {"state": {"children": ["IPY_MODEL_left", "IPY_MODEL_bar", "IPY_MODEL_right"]}},
        "left": {"state": {"value": "runs: 100%"}},
        "bar": {"state": {"value": 24.0, "max": 24.0}},
        "right": {"state": {"value": "\u200724/24\u2007[05:33&lt;00:00,\u200713.90s/it]"}},
    }
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": state}}
    cell = nbformat.v4.new_code_cell("compare()")
    cell.outputs = [nbformat.v4.new_output("display_data", data={WIDGET: {"model_id": "box"},
                                                                 "text/plain": "runs:   0%|   | 0/24 [00:00<?, ?it/s]"}),
                    nbformat.v4.new_output("display_data", data={WIDGET: {"model_id": "closed"}, "text/plain": "x"})]
    notebook.cells = [cell]
    assert strip_widgets(notebook) == 2 and "widgets" not in notebook.metadata
    assert [o.text for o in cell.outputs] == ["runs: 100%|██████████| 24/24 [05:33<00:00, 13.90s/it]\n"]
    assert PROGRESS.search(cell.outputs[0].text) and not FROZEN.search(cell.outputs[0].text)
