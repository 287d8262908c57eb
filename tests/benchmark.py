"""Benchmark (not a test): how fast the checker and the heavy lessons are on this machine, idle and busy.

Run with `make bench` (`make bench BENCH_ARGS="--help"` for the options). In one run it measures:

1. check_exercise on the reference solution, the untouched stub, every known wrong answer and every alternative
   of every exercise (the answers the tests use), idle and then with one competing CPU-bound process, and prints
   each exercise's median and worst time and the busy/idle ratio;
2. run_symptom for every catalogue entry (idle);
3. nbval on lessons 06 and 07 under the course's thread policy (course_utils/runtime.py), idle and busy, with the
   ratio; with --with-defaults also under PyTorch's defaults (one spinning thread per core), for comparison.

"Busy" is one process spinning on the CPU, as a browser tab, a second notebook or a build would. Nothing here
decides a verdict or a test.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from course_utils import check_exercise, run_symptom  # noqa: E402
from course_utils.tools.execute_notebooks import competing_process  # noqa: E402
from course_utils.registry import all_exercises, all_mistakes  # noqa: E402
from course_utils.runtime import course_env, cpu_count  # noqa: E402
from helpers import stub  # noqa: E402

HEAVY_LESSONS = ("06_freezing", "07_partial_fine_tuning")
busy = competing_process  # one CPU-bound process spinning while the block runs


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def check_latency(repeats: int) -> dict[str, list[float]]:
    """Seconds per check, for each exercise: solution, stub, each wrong answer and each alternative, ``repeats`` times."""
    times = {}
    for name, exercise in all_exercises().items():
        answers = [exercise.solution, stub(name), *exercise.wrong_answers.values(), *exercise.alternatives]
        times[name] = [timed(lambda a=a: check_exercise(name, a)) for _ in range(repeats) for a in answers]
    return times


def report_latency(repeats: int) -> None:
    cold = {name: timed(lambda e=e, n=name: check_exercise(n, e.solution)) for name, e in all_exercises().items()}
    print("first check of each exercise in this process (includes building the checker's models):")
    for name, seconds in cold.items():
        print(f"  {name:22s} {seconds * 1000:7.1f} ms")
    idle = check_latency(repeats)
    with busy():
        loaded = check_latency(repeats)
    print(f"check_exercise, {repeats} repeats of solution, stub, each wrong answer and each alternative "
          f"(median / worst, idle then busy):")
    for name in idle:
        a, b = idle[name], loaded[name]
        print(f"  {name:22s} idle {statistics.median(a) * 1000:6.1f} / {max(a) * 1000:6.1f} ms   busy "
              f"{statistics.median(b) * 1000:6.1f} / {max(b) * 1000:6.1f} ms   busy/idle "
              f"{statistics.median(b) / statistics.median(a):4.2f}x")
    a = [t for ts in idle.values() for t in ts]
    b = [t for ts in loaded.values() for t in ts]
    print(f"  {'all checks':22s} idle {statistics.median(a) * 1000:6.1f} / {max(a) * 1000:6.1f} ms   busy "
          f"{statistics.median(b) * 1000:6.1f} / {max(b) * 1000:6.1f} ms   busy/idle "
          f"{statistics.median(b) / statistics.median(a):4.2f}x   ({len(a)} checks each)")


def report_symptoms() -> None:
    print("run_symptom (broken + fixed variant), idle:")
    for mistake_id in all_mistakes():
        print(f"  {mistake_id:36s} {timed(lambda: run_symptom(mistake_id)):6.2f} s")


def nbval_seconds(lesson: str, env: dict[str, str]) -> float:
    """Wall time of nbval on one lesson notebook in a fresh pytest process with ``env``; fails loudly if it fails."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"notebooks/{lesson}.ipynb"]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"nbval failed on {lesson}:\n{done.stdout[-3000:]}")
    return seconds


def report_nbval(with_defaults: bool) -> None:
    base = {k: v for k, v in os.environ.items()
            if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OMP_WAIT_POLICY", "COURSE_THREADS")}
    policies = {"course policy (" + ", ".join(f"{k}={v}" for k, v in course_env().items() if k != "MKL_NUM_THREADS")
                + ")": dict(base, **course_env())}
    if with_defaults:
        # PyTorch's defaults, which the test suite would otherwise get: a thread per core, spinning waits
        policies[f"PyTorch defaults ({cpu_count()} threads, OpenMP's own wait policy)"] = dict(base, COURSE_THREADS="torch")
    print(f"nbval on lessons {', '.join(HEAVY_LESSONS)} (wall time of a fresh pytest process, kernel start included):")
    for label, env in policies.items():
        print(f"  {label}:")
        for lesson in HEAVY_LESSONS:
            idle = nbval_seconds(lesson, env)
            with busy():
                loaded = nbval_seconds(lesson, env)
            print(f"    {lesson:24s} idle {idle:7.1f} s   busy {loaded:7.1f} s   busy/idle {loaded / idle:4.2f}x",
                  flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="repeats of every answer in the latency part")
    parser.add_argument("--skip-nbval", action="store_true", help="only the checker and the catalogue")
    parser.add_argument("--with-defaults", action="store_true",
                        help="also run the lessons under PyTorch's default threads, idle and busy (slow when busy)")
    args = parser.parse_args(argv)
    print(f"{cpu_count()} cores; 'busy' = one competing CPU-bound process", flush=True)
    report_latency(args.repeats)
    report_symptoms()
    if not args.skip_nbval:
        report_nbval(args.with_defaults)


if __name__ == "__main__":
    main()
