"""Independent training runs in worker processes: on a machine with idle cores a comparison takes a fraction of the
time, with the numbers it gives in one process (each run seeds itself; each worker uses this process's thread count).

Workers are started with "spawn" (safe with PyTorch's threads, and the same on Linux, macOS and Windows): each
imports PyTorch once (a few seconds) and receives the shared data once, pickled once here, not with every run.
"""
from __future__ import annotations

import multiprocessing
import pickle
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Callable, Iterable

import torch

from ..runtime import cpu_count

_shared: Any = None  # the data every run of this worker reads, set once when the worker starts


def _start_worker(payload: bytes, threads: int) -> None:
    global _shared
    _shared = pickle.loads(payload)
    torch.set_num_threads(threads)


def _run(function: Callable, args: tuple) -> Any:
    return function(_shared, *args)


def _pickled(value: Any) -> bytes | None:
    """``value`` pickled once, to send to every worker; None when it cannot be pickled."""
    try:
        return pickle.dumps(value)
    except Exception:  # noqa: BLE001  (whatever pickling raises, the runs stay in this process)
        return None


def worker_count(runs: int) -> int:
    """How many processes: one per free share of the cores at this process's thread count, never more than runs."""
    return max(1, min(runs, cpu_count() // max(1, torch.get_num_threads())))


class RunPool:
    """``function(shared, *args)`` for many ``args``, in ``workers`` processes (in this process when 1); results come
    back in the order the runs were given, and ``done(args, result)`` is called as each one finishes."""

    def __init__(self, shared: Any, workers: int) -> None:
        self.shared, self.workers = shared, workers
        self._pool = None
        payload = _pickled(shared) if workers > 1 else None
        if workers > 1 and payload is None:
            print("Training the runs one after another in this process: the data cannot be sent to worker processes "
                  "(a lambda or a local function in a transform? Use a function defined at module level).")
            self.workers = 1
        if payload is not None:
            self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_start_worker, initargs=(payload, torch.get_num_threads()))

    def map(self, function: Callable, runs: Iterable[tuple], done: Callable[[tuple, Any], None]) -> list:
        runs = list(runs)
        if self._pool is None:
            results = []
            for args in runs:
                results.append(function(self.shared, *args))
                done(args, results[-1])
            return results
        futures: dict[Future, int] = {self._pool.submit(_run, function, args): index for index, args in enumerate(runs)}
        results: list = [None] * len(runs)
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(finished, key=futures.get):
                results[futures[future]] = future.result()
                done(runs[futures[future]], results[futures[future]])
        return results

    def __enter__(self) -> "RunPool":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if self._pool is not None:  # interrupted: drop the runs not started; finish at once otherwise
            self._pool.shutdown(wait=kind is None, cancel_futures=True)
