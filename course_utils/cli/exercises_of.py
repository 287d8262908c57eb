"""Which course exercises a notebook is about: its lesson's (from the file name), else those of every lesson whose
exercise functions it defines."""
from __future__ import annotations

import ast
from pathlib import Path

from ..registry import all_exercises


def defined_functions(nb) -> set[str]:
    """Names of the functions the notebook's code cells define at top level (cells that do not parse are skipped)."""
    names = set()
    for cell in nb.cells if nb is not None else []:
        if cell.get("cell_type") != "code":
            continue
        source = "\n".join(line for line in str(cell.get("source", "")).splitlines()
                           if not line.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            continue
        names |= {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    return names


def exercises_in(path: Path, nb=None) -> list[str]:
    """The exercises to grade, in course order: those of every lesson whose slug is in the file name (e.g.
    alice_06_freezing.ipynb), else all exercises of every lesson whose exercise functions the notebook defines
    (so a missing one counts as not attempted)."""
    exercises = all_exercises()
    lessons = {e.lesson for e in exercises.values() if e.lesson in path.name}
    if not lessons:
        defined = defined_functions(nb)
        lessons = {e.lesson for name, e in exercises.items() if name in defined}
    return [name for name, e in exercises.items() if e.lesson in lessons]
