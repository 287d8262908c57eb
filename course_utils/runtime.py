"""How the course's own processes use the CPU, so that a busy machine slows a lesson down, not to a crawl.

Measured on a 2-core machine (`make bench`): with PyTorch's defaults (one OpenMP thread per core, threads that
spin while they wait) a second CPU-bound process makes every parallel region wait for a descheduled thread, and
lesson 07's training slowed 2.5-3.5x (more with a second notebook); with half the cores and waiting threads that
sleep (``OMP_WAIT_POLICY=PASSIVE``) it slowed about 1.1-1.5x, at a small cost on an idle machine. The course
applies this to the kernel `make lab` registers, to `course grade`'s workers and to the test suite.
This module imports nothing heavy: the variables must be set before PyTorch starts.
"""
from __future__ import annotations

import os

WAIT_POLICY = "PASSIVE"


def cpu_count() -> int:
    """The cores this process may use (its affinity mask where the platform has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def course_threads(cores: int | None = None) -> int:
    """PyTorch threads for one course process: half the cores (one on a 2-core laptop), leaving room for a browser
    or a second notebook."""
    return max(1, (cpu_count() if cores is None else cores) // 2)


OPT_OUT = "torch"  # COURSE_THREADS=torch: leave PyTorch's defaults alone; COURSE_THREADS=N: N threads


def _count(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() and int(value) > 0 else None


def course_env(threads: int | None = None) -> dict[str, str]:
    """The environment variables of the course's thread policy (OpenMP and MKL read them when PyTorch starts).

    ``threads`` fixes the count (as `course grade` does for parallel workers). Otherwise COURSE_THREADS=N gives N,
    COURSE_THREADS=torch gives no variables at all (PyTorch's defaults), an OMP_NUM_THREADS the learner exported
    is kept, and the default is half the cores."""
    if threads is None:
        chosen = os.environ.get("COURSE_THREADS", "").strip()
        if chosen == OPT_OUT:
            return {}
        threads = _count(chosen) or _count(os.environ.get("OMP_NUM_THREADS")) or course_threads()
    count = str(max(1, threads))
    return {"OMP_WAIT_POLICY": WAIT_POLICY, "OMP_NUM_THREADS": count, "MKL_NUM_THREADS": count}


def kernel_env_args() -> list[str]:
    """The policy as `ipykernel install --env NAME VALUE ...` arguments (the Makefile registers the kernel with them)."""
    return [part for name, value in course_env().items() for part in ("--env", name, value)]


if __name__ == "__main__":
    print(" ".join(kernel_env_args()))
