"""Benchmark (not a test): time check_exercise and run_symptom on this machine.

Run with `make bench`. For every registered exercise it checks the reference solution, the untouched
stub, every known wrong answer and every alternative (the same answers the tests use), several times
each, and prints the median and worst check time; then the time of every catalogue entry's run_symptom.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from course_utils import check_exercise, run_symptom  # noqa: E402
from course_utils.registry import all_exercises, all_mistakes  # noqa: E402
from helpers import stub  # noqa: E402

REPEATS = 5


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    cold = {name: timed(lambda e=e, n=name: check_exercise(n, e.solution)) for name, e in all_exercises().items()}
    print("first check of each exercise in this process (includes PyTorch warm-up):")
    for name, seconds in cold.items():
        print(f"  {name:22s} {seconds * 1000:7.1f} ms")
    everything = []
    print(f"check_exercise, {REPEATS} repeats of solution, stub, each wrong answer and each alternative:")
    for name, exercise in all_exercises().items():
        answers = [exercise.solution, stub(name), *exercise.broken.values(), *exercise.alternatives]
        times = [timed(lambda a=a: check_exercise(name, a)) for _ in range(REPEATS) for a in answers]
        everything += times
        print(f"  {name:22s} median {statistics.median(times) * 1000:7.1f} ms   worst {max(times) * 1000:7.1f} ms")
    print(f"  {'all checks':22s} median {statistics.median(everything) * 1000:7.1f} ms   worst "
          f"{max(everything) * 1000:7.1f} ms   ({len(everything)} checks)")
    print("run_symptom (broken + fixed variant):")
    for mistake_id in all_mistakes():
        print(f"  {mistake_id:36s} {timed(lambda: run_symptom(mistake_id)):6.2f} s")


if __name__ == "__main__":
    main()
