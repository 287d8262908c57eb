"""Generate exercises/ from solutions/: solution regions become stubs, outputs are cleared.

Usage:  python -m course_utils.tools.make_exercises          (write exercises/)
        python -m course_utils.tools.make_exercises --check  (exit 1 if exercises/ is out of date)

In a solution notebook, mark each answer inside its function like this:

    def to_batch(image):
        ### BEGIN SOLUTION
        ...the answer...
        ### END SOLUTION

Cells tagged ``solution-only`` are dropped from the exercise notebook.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

from ..paths import CHECKOUT

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
ROOT = CHECKOUT
_DEF = re.compile(r"^\s*def\s+(\w+)\s*\(")


def stub_source(source: str) -> str:
    """Replace every marked solution region in one cell's code with a friendly stub."""
    out: list[str] = []
    function = None
    inside = False
    for number, line in enumerate(source.splitlines(), 1):
        match = _DEF.match(line)
        if match and not inside:
            function = match.group(1)
        stripped = line.strip()
        if stripped == BEGIN:
            if inside or function is None:
                raise ValueError(f"line {number}: {BEGIN} must sit inside a function, once per region")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}# Your code here. Stuck? Run hint({function!r}) in a new cell.")
            out.append(f"{indent}raise NotImplementedError(\"Write {function}, then run check_exercise({function!r})\")")
        elif stripped == END:
            if not inside:
                raise ValueError(f"line {number}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{BEGIN} without {END}")
    return "\n".join(out)


def make_exercise(solution: nbformat.NotebookNode) -> nbformat.NotebookNode:
    # The solution's run times (metadata "course", written by `make execute`) are not the exercise's.
    exercise = nbformat.v4.new_notebook(metadata={k: v for k, v in solution.metadata.items() if k != "course"})
    for cell in solution.cells:
        if "solution-only" in cell.get("metadata", {}).get("tags", []):
            continue
        copy = nbformat.from_dict(dict(cell))
        if copy.cell_type == "code":
            copy.source = stub_source(copy.source)
            copy.outputs = []
            copy.execution_count = None
            copy.metadata.pop("execution", None)
        exercise.cells.append(copy)
    return exercise


def render(notebook: nbformat.NotebookNode) -> str:
    return nbformat.writes(notebook) + "\n"


def expected_exercises(root: Path = ROOT) -> dict[Path, str]:
    """What exercises/ should contain, generated from solutions/."""
    return {
        root / "exercises" / path.name: render(make_exercise(nbformat.read(path, as_version=4)))
        for path in sorted((root / "solutions").glob("*.ipynb"))
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report whether exercises/ is up to date")
    args = parser.parse_args(argv)
    expected = expected_exercises()
    stale = [p for p, text in expected.items() if not p.exists() or p.read_text() != text]
    extra = [p for p in (ROOT / "exercises").glob("*.ipynb") if p not in expected]
    if args.check:
        for path in stale + extra:
            print(f"out of date: {path.relative_to(ROOT)}")
        if stale or extra:
            print("Run `make exercises` to regenerate exercises/ from solutions/.")
        return 1 if stale or extra else 0
    for path in stale:
        path.parent.mkdir(exist_ok=True)
        path.write_text(expected[path])
        print(f"wrote {path.relative_to(ROOT)}")
    for path in extra:
        path.unlink()
        print(f"removed {path.relative_to(ROOT)} (no matching solution)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
