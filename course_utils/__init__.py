"""course_utils: the helper package of the PyTorch CNN course (checker, mistake catalogue, helpers).

The public names are imported on first use, so that light modules (course_utils.runtime, which must run before
PyTorch starts) can be imported without loading PyTorch."""
from __future__ import annotations

import importlib
from typing import Any

_PUBLIC = {"check_exercise": ".api", "hint": ".api", "solution": ".api", "show_symptom": ".api",
           "run_symptom": ".api", "CheckResult": ".checking.result", "preflight": ".preflight"}

__all__ = ["check_exercise", "hint", "solution", "show_symptom", "run_symptom", "CheckResult", "preflight"]
__version__ = "0.2.0"


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'course_utils' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
