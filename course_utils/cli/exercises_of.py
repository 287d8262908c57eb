"""Which course exercises a notebook is about: its lesson's (from the file name), else the ones it defines."""
from __future__ import annotations

import ast
from pathlib import Path

from ..registry import all_exercises


def defined_functions(nb) -> set[str]:
    """Names of the functions the notebook's code cells define at top level (cells that do not parse are skipped)."""
    names = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse("\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!"))))
        except SyntaxError:
            continue
        names |= {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    return names


def exercises_in(path: Path, nb) -> list[str]:
    """The exercises to grade, in course order: those of every lesson whose slug is in the file name (e.g.
    alice_06_freezing.ipynb), else every exercise whose function the notebook defines."""
    exercises = all_exercises()
    by_name = [name for name, exercise in exercises.items() if exercise.lesson in path.stem]
    return by_name or [name for name in exercises if name in defined_functions(nb)]
