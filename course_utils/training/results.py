"""Measured results that later lessons compare against (e.g. the from-scratch baseline), kept in COURSE_CACHE."""
from __future__ import annotations

import json

from ..data.generated import cache_dir


def _path():
    return cache_dir() / "results.json"


def record_result(name: str, value: float) -> None:
    results = load_results()
    results[name] = value
    _path().write_text(json.dumps(results, indent=1, sort_keys=True))


def load_results() -> dict[str, float]:
    path = _path()
    return json.loads(path.read_text()) if path.exists() else {}
