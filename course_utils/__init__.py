"""course_utils: the helper package of the PyTorch CNN course (checker, mistake catalogue, helpers)."""
from .checking.engine import check_exercise, hint, solution
from .checking.result import CheckResult
from .mistakes import run_symptom, show_symptom

__all__ = ["check_exercise", "hint", "solution", "show_symptom", "run_symptom", "CheckResult"]
__version__ = "0.1.0"
