"""Catalogue entries measured in several processes: each variant's code runs in every process of a small gloo
group (the code a learner sees is the code each rank runs), and what each rank recorded comes back as one list per
name, in rank order."""
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


_SERVER: subprocess.Popen | None = None


def _server() -> subprocess.Popen:
    """A process of our own that imported PyTorch once and forks the ranks of each variant (a fraction of a second
    each, instead of a new interpreter's few seconds); it ends when this process closes its input. Not
    multiprocessing's fork server, which `course grade` starts with its own environment in the same process."""
    global _SERVER
    if _SERVER is None or _SERVER.poll() is not None:
        env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        _SERVER = subprocess.Popen([sys.executable, "-c", "from course_utils.catalogue.ranks import _serve; _serve()"],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
                                   start_new_session=True)
    return _SERVER


def _launch(script: Path, folder: str, world_size: int, address: str) -> list[int] | None:
    """Run the ranks; their exit codes, or None when they did not finish within RANK_TIMEOUT (all then killed)."""
    if os.name != "posix":  # no fork: each rank a new interpreter
        import multiprocessing
        context = multiprocessing.get_context("spawn")
        processes = [context.Process(target=_rank_main, args=(str(script), f"{folder}/rank{rank}.pt", rank,
                                                                world_size, address)) for rank in range(world_size)]
        for process in processes:
            process.start()
        for process in processes:
            process.join(RANK_TIMEOUT)
        if any(process.is_alive() for process in processes):
            for process in processes:
                process.kill()
            return None
        return [process.exitcode for process in processes]
    import json
    import select
    server = _server()
    server.stdin.write(json.dumps([str(script), folder, world_size, address]) + "\n")
    server.stdin.flush()
    ready, _, _ = select.select([server.stdout], [], [], RANK_TIMEOUT)
    if not ready:
        os.killpg(server.pid, 9)  # the server and the ranks it forked
        server.wait()
        return None
    return json.loads(server.stdout.readline())


def _serve() -> None:
    """The rank server's loop: for each request line, fork its ranks, wait for them, answer their exit codes."""
    import json
    import torch  # noqa: F401  (imported once, before any fork)
    import torch.distributed  # noqa: F401
    for line in sys.stdin:
        script, folder, world_size, address = json.loads(line)
        children = []
        for rank in range(world_size):
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    _rank_main(script, f"{folder}/rank{rank}.pt", rank, world_size, address)
                    code = 0
                finally:
                    os._exit(code)
            children.append(pid)
        codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children]
        sys.stdout.write(json.dumps(codes) + "\n")
        sys.stdout.flush()


def run_in_ranks(code: str, record: tuple[str, ...], world_size: int = 2) -> tuple[str | None, dict[str, list]]:
    """Run ``code`` in ``world_size`` new processes joined in a gloo group (names in scope: rank, world_size,
    dist, torch, nn, F, np, shared_dir); returns (the first rank's error or None, {name: [value of rank 0, ...]})."""
    import torch
    with tempfile.TemporaryDirectory(prefix="course-ranks-") as folder:
        script = Path(folder) / "variant.py"
        script.write_text(code)
        (Path(folder) / "shared").mkdir()
        codes = _launch(script, folder, world_size, f"tcp://127.0.0.1:{_free_port()}")
        if codes is None:
            return f"TimeoutError: the ranks did not finish within {RANK_TIMEOUT} s", {}
        errors = [f"rank {rank} exited with code {code}" for rank, code in enumerate(codes) if code != 0]
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


def _rank_main(script: str, out: str, rank: int, world_size: int, address: str) -> None:
    """One rank: join the group, run the script with one thread and every seed at 0, save what it left in its
    namespace."""
    import random
    from datetime import timedelta

    import numpy as np
    import torch
    import torch.distributed as dist
    import torch.nn.functional as F
    from torch import nn

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=address, rank=rank, world_size=world_size,
                            timeout=timedelta(seconds=RANK_TIMEOUT // 2))
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    namespace = {"np": np, "torch": torch, "nn": nn, "F": F, "dist": dist, "rank": rank, "world_size": world_size,
                 "shared_dir": Path(script).parent / "shared", "__name__": "__symptom__"}
    error = None
    try:
        exec(compile(Path(script).read_text(), "<each rank>", "exec"), namespace)
    except Exception as exc:  # noqa: BLE001  (the error is the evidence)
        error = f"{type(exc).__name__}: {exc}"
    values = {name: value for name, value in namespace.items()
              if isinstance(value, (int, float, str, bool, list, tuple, dict)) and not name.startswith("__")}
    torch.save({"error": error, "values": values}, out)
    dist.destroy_process_group()
