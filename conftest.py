"""pytest set-up shared by the unit tests and nbval: the course's thread policy on every worker, the slowest files
started first, what notebook comparisons ignore, and a closing line with the wall time and the slowest files."""
import os
import shutil
import tempfile
import time
from collections import defaultdict

from course_utils.runtime import cpu_count, course_env

# The files that take longest, longest first (the closing summary lists the slowest; keep this in step with it).
# pytest-xdist hands whole files to workers in collection order: a long file that starts last would finish alone.
SLOWEST_FIRST = (
    "notebooks/07_partial_fine_tuning.ipynb",
    "notebooks/10_solar_cell_defects.ipynb",
    "tests/test_mistakes.py",
    "notebooks/11_scaling_out.ipynb",
    "tests/test_cli_grade_submissions.py",
    "tests/test_train_command.py",
    "tests/test_hostile.py",
    "tests/test_cli_grade.py",
    "tests/test_own_images.py",
    "tests/test_wheel.py",
    "tests/test_busy_machine.py",
    "notebooks/09_your_own_images.ipynb",
    "tests/test_exercise_contract.py",
    "tests/test_finetune.py",
    "notebooks/03_cnn_shape_flow.ipynb",
)
SLOWEST_SHOWN = 10
_STARTED = time.monotonic()  # when pytest loaded this file, before collection


def _workers(config) -> int:
    """pytest-xdist's worker count (it resolves `-n auto` before pytest_configure); 1 without workers."""
    return getattr(config.option, "numprocesses", None) or 1


def pytest_configure(config):
    # Before PyTorch starts in this process or in any notebook kernel: with N workers on C cores, C // N threads
    # each (at least one) and sleeping OpenMP waits, so workers never fight over a core and a busy machine slows the
    # suite down instead of stalling it (course_utils/runtime.py). Workers inherit these; values already set win.
    workers = _workers(config)
    threads = max(1, cpu_count() // workers) if workers > 1 else None
    for name, value in course_env(threads).items():
        os.environ.setdefault(name, value)
    _own_cores()
    # The slow catalogue entries run once per test run, in whichever process (worker or notebook kernel) needs one
    # first; the others show that measurement (course_utils/catalogue/store.py). Made by the process that starts
    # the run, before its workers, which inherit it.
    from course_utils.catalogue.store import STORE_ENV  # imports PyTorch: only now that its threads are set

    if STORE_ENV not in os.environ:
        os.environ[STORE_ENV] = config._course_symptom_store = tempfile.mkdtemp(prefix="course-symptoms-")


def _own_cores() -> None:
    """In a pytest-xdist worker (Linux): this worker, and everything it starts (notebook kernels, their process
    pools, grading workers), runs on cores of its own, so two workers never share a core and thrash each other's
    caches; a lesson that trains in several processes then trains in one (course_utils.training.parallel)."""
    worker, count = os.environ.get("PYTEST_XDIST_WORKER", ""), int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if not worker.startswith("gw") or not hasattr(os, "sched_setaffinity"):
        return
    cores = sorted(os.sched_getaffinity(0))
    if 1 < count <= len(cores):
        os.sched_setaffinity(0, cores[int(worker[2:])::count])


def pytest_unconfigure(config):
    store = getattr(config, "_course_symptom_store", None)
    if store:
        shutil.rmtree(store, ignore_errors=True)


def _file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def pytest_collection_modifyitems(config, items):
    rank = {path: index for index, path in enumerate(SLOWEST_FIRST)}
    order = {path: index for index, path in enumerate(dict.fromkeys(_file_of(item.nodeid) for item in items))}
    items.sort(key=lambda item: (rank.get(_file_of(item.nodeid), len(rank)), order[_file_of(item.nodeid)]))


def pytest_collectstart(collector):
    # nbval compares stored outputs; stderr (warnings, progress bars) and HTML (embedded plots,
    # styling) vary between machines, so only plain text and errors are compared.
    if hasattr(collector, "skip_compare"):
        collector.skip_compare = tuple(collector.skip_compare) + ("stderr", "text/html")


def pytest_terminal_summary(terminalreporter, config):
    seconds = defaultdict(float)
    for reports in terminalreporter.stats.values():
        for report in reports:
            if getattr(report, "nodeid", None) and hasattr(report, "duration"):
                seconds[_file_of(report.nodeid)] += report.duration
    if not seconds:
        return
    wall = time.monotonic() - _STARTED
    workers = _workers(config)
    terminalreporter.write_sep("=", f"pytest: {wall:.0f} s wall on {workers} worker{'s' * (workers > 1)}, "
                                    f"{sum(seconds.values()):.0f} s in tests; the {SLOWEST_SHOWN} slowest files")
    for path, spent in sorted(seconds.items(), key=lambda kv: -kv[1])[:SLOWEST_SHOWN]:
        terminalreporter.write_line(f"{spent:7.1f} s  {path}")


def pytest_xdist_auto_num_workers(config):
    """`-n auto` (pyproject's addopts): one worker per core this process may use (course_utils/runtime.py)."""
    return cpu_count()
