"""Re-execute notebooks the way the course stores them: per-cell run times, progress bars as their final text.

Usage:  python -m course_utils.tools.execute_notebooks notebooks/07_partial_fine_tuning.ipynb ...   (make execute NB=...)
        python -m course_utils.tools.execute_notebooks --strip-only PATH ...   (convert widgets, do not run)

A progress bar drawn by ``tqdm.auto`` is a Jupyter widget. Saved, it leaves two dead things behind: a text
fallback frozen at its first state ("0/18 [00:00<?, ?it/s]") and widget state that JupyterLab cannot display
("model not found"). Here each bar becomes the plain text of its last state, and the widget state is dropped.
Every code cell keeps nbclient's execution timestamps, from which tests read how long it ran.

Each run starts from a fresh COURSE_CACHE holding only what `make prepare` makes (the dataset), so stored outputs
and run times are a learner's first run, caches built by the lessons included. The whole-notebook time is kept in
the notebook's metadata and, for lessons, written into the intro's time line; ``--busy`` measures the same with
one competing CPU-bound process and records it without touching the outputs.
"""
from __future__ import annotations

import argparse
import contextlib
import html
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Iterator

import nbformat

from ..data.generated import course_dataset
from ..paths import CHECKOUT

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
    """Replace every widget output by a stdout stream with the bar's final text (shown plain, as the widget was, not
    as a warning); drop widget state. Returns how many."""
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
                    outputs.append(nbformat.v4.new_output("stream", name="stdout", text=text + "\n"))
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


SPINNER = "import time\nend = time.monotonic() + 7200\nwhile time.monotonic() < end:\n    pass\n"
TIME_LINE = re.compile(r"^\*\*Time on a \d+-core CPU:\*\*.*$", re.M)


@contextlib.contextmanager
def fresh_cache() -> Iterator[Path]:
    """A new COURSE_CACHE for the kernels started inside, holding only the prepared dataset (linked, not copied)."""
    dataset = course_dataset(progress=False)
    previous = os.environ.get("COURSE_CACHE")
    with tempfile.TemporaryDirectory(prefix="course-cache-") as folder:
        (Path(folder) / dataset.name).symlink_to(dataset, target_is_directory=True)
        os.environ["COURSE_CACHE"] = folder
        try:
            yield Path(folder)
        finally:
            if previous is None:
                os.environ.pop("COURSE_CACHE", None)
            else:
                os.environ["COURSE_CACHE"] = previous


@contextlib.contextmanager
def competing_process(on: bool = True) -> Iterator[None]:
    """One CPU-bound process spinning while the block runs, as a browser tab, a build or a second notebook would."""
    spinner = subprocess.Popen([sys.executable, "-c", SPINNER]) if on else None
    try:
        yield
    finally:
        if spinner is not None:
            spinner.kill()
            spinner.wait()


def _minutes(seconds: float) -> str:
    return "under 1 min" if seconds < 60 else f"about {round(seconds / 60)} min"


def time_line(run: dict) -> str:
    """The intro's line on how long the lesson takes, from the run times kept in its metadata."""
    line = f"**Time on a {run['cores']}-core CPU:** {_minutes(run['idle_seconds'])} to run every cell when the machine is idle"
    if "busy_seconds" in run:
        line += f", {_minutes(run['busy_seconds'])} while another program keeps one core busy"
    return line + " (measured with `make execute`, first run: nothing cached yet)."


def _record(path: Path, notebook, key: str, seconds: float) -> None:
    run = notebook.metadata.setdefault("course", {}).setdefault("run", {})
    run.update({"cores": os.cpu_count(), key: round(seconds, 1)})
    intro = next((c for c in notebook.cells if c.cell_type == "markdown"), None)
    if intro is not None and path.parent.name == "notebooks" and TIME_LINE.search(intro.source):
        intro.source = TIME_LINE.sub(time_line(run).replace("\\", "\\\\"), intro.source)


def execute(path: Path, timeout: int = 3600, busy: bool = False) -> float:
    """Run one notebook top to bottom in a fresh 'python3' kernel from its folder; seconds.

    Idle runs save the outputs; busy runs (``busy``) only record the time in the saved notebook's metadata.
    """
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    with competing_process(busy):
        start = time.perf_counter()
        NotebookClient(notebook, timeout=timeout, kernel_name="python3", record_timing=True,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        seconds = time.perf_counter() - start
    if busy:
        notebook = nbformat.read(path, as_version=4)
    else:
        strip_widgets(notebook)
    _record(path, notebook, "busy_seconds" if busy else "idle_seconds", seconds)
    nbformat.write(notebook, path)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--strip-only", action="store_true", help="convert stored widgets, do not execute")
    parser.add_argument("--busy", action="store_true",
                        help="run with one competing CPU-bound process and record only the time (outputs kept)")
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        if not args.strip_only:
            print(f"Fresh COURSE_CACHE for this run: {stack.enter_context(fresh_cache())}")
        return _run(args)


def _run(args) -> int:
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
            seconds = execute(path, busy=args.busy)
            if args.busy:  # the outputs and cell times kept are the idle run's
                print(f"{path.name}: {seconds:.0f} s beside a CPU-bound process (recorded in its metadata)")
                continue
            notebook = nbformat.read(path, as_version=4)
            slow = [(i, s) for i, c in enumerate(notebook.cells) if (s := cell_seconds(c)) and s > 10]
            print(f"{path.name}: {seconds:.0f} s; cells over 10 s: "
                  + (", ".join(f"#{i} {s:.0f} s" for i, s in slow) or "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
