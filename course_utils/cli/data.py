"""`course data elpv DIR [--labels binary|levels]`: the solar-cell images written as class folders."""
from __future__ import annotations

import sys
from pathlib import Path


def run_data(dataset: str, folder: str, labels: str) -> int:
    """Write ``dataset`` into ``folder``; exit 0, or 2 with a message for a folder in use or a missing package."""
    from ..data.elpv import CITATIONS, LICENCE, ElpvMissing, write_class_folders

    target = Path(folder)
    try:
        counts = write_class_folders(target, labels)
    except (ElpvMissing, FileExistsError) as exc:
        print(f"course data: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"course data: writing into {target} failed ({exc}); free some space or choose another folder, then "
              f"run it again with a new folder (the one begun here is incomplete)", file=sys.stderr)
        return 2
    print(f"{sum(counts.values())} images written to {target}: "
          + ", ".join(f"{name}/ {count}" for name, count in counts.items()))
    print(f"{LICENCE}\nCite: {CITATIONS[-1]}\nUse them in lesson 09: COURSE_DATA={target.resolve()}")
    return 0
