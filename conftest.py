"""pytest set-up shared by the unit tests and nbval: the course's thread policy, what notebook comparisons ignore."""
import os

from course_utils.runtime import course_env


def pytest_configure(config):
    # Before PyTorch starts in this process or in any notebook kernel: half the cores, sleeping OpenMP waits, so
    # a busy machine slows the suite down instead of stalling it (course_utils/runtime.py). Set values win.
    for name, value in course_env().items():
        os.environ.setdefault(name, value)


def pytest_collectstart(collector):
    # nbval compares stored outputs; stderr (warnings, progress bars) and HTML (embedded plots,
    # styling) vary between machines, so only plain text and errors are compared.
    if hasattr(collector, "skip_compare"):
        collector.skip_compare = tuple(collector.skip_compare) + ("stderr", "text/html")
