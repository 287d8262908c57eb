"""course_utils: the helper package of the PyTorch CNN course (checker, mistake catalogue, helpers)."""
from .api import check_exercise, hint, run_symptom, show_symptom, solution
from .checking.result import CheckResult

__all__ = ["check_exercise", "hint", "solution", "show_symptom", "run_symptom", "CheckResult"]
__version__ = "0.2.0"
