"""Catalogue entries measured in several processes: each variant's code runs in every process of a small gloo
group (the code a learner sees is the code each rank runs), and what each rank recorded comes back as one list per
name, in rank order. Also `python -m course_utils.catalogue.ranks SCRIPT OUT`, the code one rank runs."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .contract import Variant
from .entry import Mistake

RANK_TIMEOUT = 120  # seconds for a variant in all its processes (a few seconds on an idle 2-core CPU)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_in_ranks(code: str, record: tuple[str, ...], world_size: int = 2) -> tuple[str | None, dict[str, list]]:
    """Run ``code`` in ``world_size`` fresh processes joined in a gloo group (names in scope: rank, world_size,
    dist, torch, nn, F, np, shared_dir); returns (the first rank's error or None, {name: [value of rank 0, ...]})."""
    import torch
    with tempfile.TemporaryDirectory(prefix="course-ranks-") as folder:
        script = Path(folder) / "variant.py"
        script.write_text(code)
        (Path(folder) / "shared").mkdir()
        env = {**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(_free_port()),
               "WORLD_SIZE": str(world_size), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        processes = [subprocess.Popen([sys.executable, "-m", __name__, str(script), f"{folder}/rank{rank}.pt"],
                                      env={**env, "RANK": str(rank), "LOCAL_RANK": str(rank)},
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                     for rank in range(world_size)]
        deadline = time.monotonic() + RANK_TIMEOUT
        errors = []
        for rank, process in enumerate(processes):
            try:
                _, stderr = process.communicate(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                for other in processes:
                    other.kill()
                return f"TimeoutError: rank {rank} did not finish within {RANK_TIMEOUT} s", {}
            if process.returncode != 0:
                errors.append(f"rank {rank} exited with code {process.returncode}: {stderr.strip()[-500:]}")
        results = [torch.load(Path(folder) / f"rank{rank}.pt", weights_only=False)
                   if (Path(folder) / f"rank{rank}.pt").is_file() else {"error": None, "values": {}}
                   for rank in range(world_size)]
    error = next((r["error"] for r in results if r["error"]), None) or (errors[0] if errors else None)
    return error, {name: [r["values"].get(name) for r in results] for name in record}


@dataclass(frozen=True)
class RankMistake(Mistake):
    """A Mistake whose broken and fixed code each run in ``world_size`` processes at once (torch.distributed,
    gloo): ``setup`` and the variant run in every rank, each value in ``record`` comes back as a list by rank."""

    world_size: int = 2

    def _run_variant(self, code: str) -> Variant:
        started = time.perf_counter()
        error, values = run_in_ranks(self.setup + "\n" + code, self.record, self.world_size)
        return Variant(code=code, error=error, values=values, seconds=time.perf_counter() - started)


def _rank_main(script: str, out: str) -> None:
    """One rank: join the group, run the script with every seed at 0, save what it left in its namespace."""
    import random

    import numpy as np
    import torch
    import torch.distributed as dist
    import torch.nn.functional as F
    from torch import nn

    from datetime import timedelta
    dist.init_process_group("gloo", timeout=timedelta(seconds=RANK_TIMEOUT // 2))
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    namespace = {"np": np, "torch": torch, "nn": nn, "F": F, "dist": dist, "rank": dist.get_rank(),
                 "world_size": dist.get_world_size(), "shared_dir": Path(script).parent / "shared",
                 "__name__": "__symptom__"}
    error = None
    try:
        exec(compile(Path(script).read_text(), "<each rank>", "exec"), namespace)
    except Exception as exc:  # noqa: BLE001  (the error is the evidence)
        error = f"{type(exc).__name__}: {exc}"
    values = {name: value for name, value in namespace.items()
              if isinstance(value, (int, float, str, bool, list, tuple, dict)) and not name.startswith("__")}
    torch.save({"error": error, "values": values}, out)
    dist.destroy_process_group()


if __name__ == "__main__":
    _rank_main(sys.argv[1], sys.argv[2])
