"""The instructors' CI workflow is valid for GitHub Actions (checked by a linter for that format) and does what the
README says: make test, with pip downloads, .venv and .course-cache cached."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

WORKFLOW = Path(__file__).resolve().parent.parent / ".github" / "workflows" / "course.yml"
LINTER = Path(sys.executable).with_name("check-jsonschema")


def lint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINTER), "--builtin-schema", "vendor.github-workflows", str(path)],
                          capture_output=True, text=True, timeout=120)


def test_the_workflow_passes_the_github_workflow_linter():
    done = lint(WORKFLOW)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_linter_rejects_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text().replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest"))
    assert lint(broken).returncode != 0


def test_the_workflow_runs_make_test_with_everything_cached():
    text = WORKFLOW.read_text()
    assert "run: make test" in text and "cache: pip" in text
    assert ".venv" in text and ".course-cache" in text and "hashFiles('constraints.txt'" in text
    assert "course grade submissions" in text and "--report grades.xml" in text
    assert shutil.which("make") is not None


def test_the_slow_tests_run_in_their_own_target_and_a_scheduled_job():
    import tomllib
    text = WORKFLOW.read_text()
    assert "schedule:" in text and "cron:" in text and "run: make test-slow" in text
    makefile = (WORKFLOW.parents[2] / "Makefile").read_text()
    assert "test-slow: prepare" in makefile and "pytest -m slow" in makefile
    options = tomllib.loads((WORKFLOW.parents[2] / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert re.search(r"-m '[^']*not slow", options["addopts"]) and any(m.startswith("slow:") for m in options["markers"])


def test_the_browser_test_runs_in_its_own_target_and_job():
    import tomllib
    text = WORKFLOW.read_text()
    assert "make test-browser" in text and "CHROMEDRIVER=" in text
    makefile = (WORKFLOW.parents[2] / "Makefile").read_text()
    assert "test-browser: prepare" in makefile and "pytest -m browser" in makefile
    options = tomllib.loads((WORKFLOW.parents[2] / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "not browser" in options["addopts"] and any(m.startswith("browser:") for m in options["markers"])


def test_submissions_are_graded_in_a_matrix_of_shards_and_merged():
    text = WORKFLOW.read_text()
    assert "matrix:" in text and "shard: [1, 2, 3]" in text
    assert "--shard ${{ matrix.shard }}/3" in text and "needs: grade" in text
    assert "course merge grades-*.json --report grades.xml" in text
