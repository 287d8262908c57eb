"""Where things are: the package, its shipped assets, the checkout around it, and which files are library code."""
from __future__ import annotations

import os
import sysconfig
from pathlib import Path
from typing import Callable

PACKAGE_DIR = Path(__file__).resolve().parent
ASSETS = PACKAGE_DIR / "assets"  # the shipped course backbone and its build record
CHECKOUT = PACKAGE_DIR.parent  # the repository root when the course runs from a checkout (notebooks/, solutions/)

# Files of the Python installation and installed packages: a traceback that stays inside them is no
# learner code's doing. (The course package itself counts as library code too.)
LIBRARY_DIRS = tuple({str(Path(sysconfig.get_paths()[key]).resolve()) for key in ("stdlib", "platstdlib", "purelib",
                                                                                   "platlib")} | {str(PACKAGE_DIR)})


def is_library_file(filename: str) -> bool:
    """True for Python's own files, installed packages, the course package and code they generate at run time
    (torch.fx's "<eval_with_key>", as in an exported program): not the learner's code."""
    return filename.startswith(LIBRARY_DIRS) or filename.startswith(("<frozen ", "<eval_with_key>"))


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """``write(temporary)``, then the temporary file renamed to ``path``: the file is whole or not there, even when
    a run is killed while writing or two processes (test workers, comparison workers) write the same file at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.partial")
    write(temporary)
    temporary.replace(path)
