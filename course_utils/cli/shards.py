"""Grading a class on several machines: `course grade --shard K/N` grades one share of the sorted notebooks, and
`course merge` joins the shares' reports into the report of one unsharded run."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence


def parse_shard(text: str) -> tuple[int, int]:
    """"K/N" as (K, N), 1 <= K <= N; ValueError saying what to write otherwise."""
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard {text}: write K/N, e.g. --shard 2/3 for the second of three shares") from None
    if not 1 <= k <= n:
        raise ValueError(f"--shard {text}: K must be between 1 and N (the shares are numbered 1 to {max(n, 1)})")
    return k, n


def shard_of(notebooks: list[Path], k: int, n: int) -> list[Path]:
    """The K-th of N shares of the notebooks sorted by path: every N-th notebook from the K-th."""
    return sorted(notebooks, key=str)[k - 1::n]


def run_merge(paths: list[str], reports: Sequence[str]) -> int:
    """The `course merge` command: exit 0, or 2 with a message for a missing, unreadable or doubled report."""
    from .reports import merge_reports, write_rows
    try:
        rows = merge_reports([Path(p) for p in paths])
        for report in reports:
            write_rows(rows, Path(report))
            print(f"merged {len(paths)} reports ({len({r['notebook'] for r in rows})} notebooks, {len(rows)} rows) "
                  f"into {report}")
    except (OSError, ValueError) as exc:
        print(f"course merge: {exc}", file=sys.stderr)
        return 2
    every_passed = rows and all(row["status"] == "passed" for row in rows)
    return 0 if every_passed else 1
