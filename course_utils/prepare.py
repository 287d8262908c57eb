"""Prepare everything the lessons need before they run: the dataset, the course backbone, JupyterLab settings.

`make lab` and `make test` run this (python -m course_utils.prepare) after installing, so no notebook
stops to build anything. Each step prints one line; anything slow shows a progress bar.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from .models.backbone import MANIFEST, SHIPPED
from .data.generated import course_dataset
from .models.pretrained import backbone_problem, course_weights, describe_weights

# JupyterLab settings for the course's environment: no "get notified about Jupyter news?" pop-up over the
# lessons, and no update checks (both would reach out to a website).
# commsOverSubshells: with ipykernel 7's subshells, JupyterLab 4.6 opens a subshell for widget messages (every tqdm bar),
# and the kernel's idle reply to that request turned the status bar to "Idle" while a cell still ran (measured in
# Chromium; "disabled" keeps "Busy" until the cell ends, as before subshells).
LAB_OVERRIDES = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
                 "@jupyterlab/apputils-extension:kernels-settings": {"commsOverSubshells": "disabled"}}


def write_lab_settings(prefix: Path = Path(sys.prefix)) -> Path:
    """Merge the course's defaults into this environment's JupyterLab overrides.json; return its path."""
    path = prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    current = json.loads(path.read_text()) if path.is_file() else {}
    for plugin, values in LAB_OVERRIDES.items():
        current.setdefault(plugin, {}).update(values)
    path.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    return path


def prepare(progress: bool = True) -> None:
    start = time.perf_counter()
    root = course_dataset(progress=progress)
    print(f"✔ dataset: {root} (verified)")
    problem = backbone_problem(SHIPPED, MANIFEST)
    weights = course_weights(progress=progress)
    state = "shipped file, SHA-256 verified" if problem is None else f"built here because the shipped one is {problem}"
    print(f"✔ backbone: {describe_weights(weights)} ({state})")
    print(f"✔ JupyterLab settings: {write_lab_settings()}")
    print(f"Ready in {time.perf_counter() - start:.1f} s.")


if __name__ == "__main__":
    prepare()
