"""How the course's own processes use the CPU, so that a busy machine slows a lesson down, not to a crawl.

Measured on a 2-core machine with a small training script (ResNet-18's layer4 on cached features, 20 steps),
not yet on the lessons themselves: with PyTorch's defaults (one OpenMP thread per core, threads that spin while
they wait) one competing CPU-bound process slowed it 2.6x (3.4x with a second torch process); with 2 passive
threads 2.3x; with one thread about 1.1x (1.5x). `make bench` measures the lessons. The course
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
