"""Re-execute notebooks the way the course stores them: per-cell run times, progress bars as their final text.

Usage:  python -m course_utils.execute_notebooks notebooks/07_partial_fine_tuning.ipynb ...   (make execute NB=...)
        python -m course_utils.execute_notebooks --strip-only PATH ...   (convert widgets, do not run)

A progress bar drawn by ``tqdm.auto`` is a Jupyter widget. Saved, it leaves two dead things behind: a text
fallback frozen at its first state ("0/18 [00:00<?, ?it/s]") and widget state that JupyterLab cannot display
("model not found"). Here each bar becomes the plain text of its last state, and the widget state is dropped.
Every code cell keeps nbclient's execution timestamps, from which tests read how long it ran.
"""
from __future__ import annotations

import argparse
import html
import sys
import time
from datetime import datetime
from pathlib import Path

import nbformat

from .paths import CHECKOUT

WIDGET = "application/vnd.jupyter.widget-view+json"
BAR_WIDTH = 10


def _models(notebook) -> dict:
    return notebook.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})


def _text(state: dict, model: dict | None) -> str:
    """A tqdm bar's last state as tqdm prints it in a terminal: 'runs: 100%|██████████| 18/18 [03:24<00:00, ...]'."""
    if model is None or "children" not in model.get("state", {}):
        return ""
    parts = [state.get(child.removeprefix("IPY_MODEL_"), {}).get("state", {}) for child in model["state"]["children"]]
    texts = [html.unescape(str(p.get("value", ""))).replace("\u2007", " ") for p in parts if "max" not in p]
    bars = [p for p in parts if "max" in p]
    bar = ""
    if bars and bars[0].get("max"):
        filled = round(BAR_WIDTH * float(bars[0].get("value", 0)) / float(bars[0]["max"]))
        bar = "|" + "█" * filled + " " * (BAR_WIDTH - filled) + "|"
    left, right = (texts + ["", ""])[:2]
    return f"{left.strip()}{bar}{right.rstrip()}"


def strip_widgets(notebook) -> int:
    """Replace every widget output by a stderr stream with the bar's final text; drop widget state. Returns how many."""
    state = _models(notebook)
    converted = 0
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for output in cell.outputs:
            if WIDGET in output.get("data", {}):
                text = _text(state, state.get(output["data"][WIDGET].get("model_id")))
                if text:
                    outputs.append(nbformat.v4.new_output("stream", name="stderr", text=text + "\n"))
                converted += 1
            else:
                outputs.append(output)
        cell.outputs = outputs
    notebook.metadata.pop("widgets", None)
    return converted


def cell_seconds(cell) -> float | None:
    """How long a code cell ran when it was last executed (None when no timing was recorded)."""
    timing = cell.get("metadata", {}).get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return None
    parse = lambda stamp: datetime.fromisoformat(stamp.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def execute(path: Path, timeout: int = 1800) -> float:
    """Run one notebook top to bottom in a fresh 'python3' kernel from the repository root; save it; seconds."""
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(notebook, timeout=timeout, kernel_name="python3", record_timing=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    strip_widgets(notebook)
    nbformat.write(notebook, path)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--strip-only", action="store_true", help="convert stored widgets, do not execute")
    args = parser.parse_args(argv)
    for path in args.paths:
        path = path if path.is_absolute() else Path.cwd() / path
        if not path.is_file():
            print(f"{path}: no such notebook", file=sys.stderr)
            return 2
        if args.strip_only:
            notebook = nbformat.read(path, as_version=4)
            count = strip_widgets(notebook)
            nbformat.write(notebook, path)
            print(f"{path.relative_to(CHECKOUT) if path.is_relative_to(CHECKOUT) else path}: {count} widget(s) converted")
        else:
            seconds = execute(path)
            notebook = nbformat.read(path, as_version=4)
            slow = [(i, s) for i, c in enumerate(notebook.cells) if (s := cell_seconds(c)) and s > 10]
            print(f"{path.name}: {seconds:.0f} s; cells over 10 s: "
                  + (", ".join(f"#{i} {s:.0f} s" for i, s in slow) or "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
