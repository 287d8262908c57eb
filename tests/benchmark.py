"""Benchmark (not a test): time check_exercise and run_symptom on this machine.

Run with `make bench`. Prints the median and worst check time per exercise (reference
solution, untouched stub and every known mistake, each checked several times) and the
time of every catalogue entry's run_symptom.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from course_utils import check_exercise, run_symptom  # noqa: E402
from course_utils.exercises import all_exercises  # noqa: E402
from course_utils.mistakes import all_mistakes  # noqa: E402
from helpers import stub  # noqa: E402
from test_lesson01_exercises import FLATTEN_MUTANTS, TO_BATCH_MUTANTS  # noqa: E402
from test_lesson02_exercises import EVALUATE_MUTANTS, TRAIN_STEP_MUTANTS  # noqa: E402
from test_lesson03_exercises import CNN_MUTANTS, CONV_MUTANTS  # noqa: E402
from test_lesson04_exercises import LOADER_MUTANTS, TRANSFORM_MUTANTS  # noqa: E402

MUTANTS = {"to_batch": TO_BATCH_MUTANTS, "flatten_features": FLATTEN_MUTANTS,
           "train_step": TRAIN_STEP_MUTANTS, "evaluate": EVALUATE_MUTANTS,
           "conv_output_size": CONV_MUTANTS, "build_cnn": CNN_MUTANTS,
           "build_transforms": TRANSFORM_MUTANTS, "make_loaders": LOADER_MUTANTS}
REPEATS = 5


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    cold = {name: timed(lambda e=e: check_exercise(name, e.solution)) for name, e in all_exercises().items()}
    print("first check of each exercise in this process (includes PyTorch warm-up):")
    for name, seconds in cold.items():
        print(f"  {name:18s} {seconds * 1000:7.1f} ms")
    everything = []
    print(f"check_exercise, {REPEATS} repeats of solution, stub and each mistake:")
    for name, exercise in all_exercises().items():
        answers = [exercise.solution, stub(name), *MUTANTS.get(name, {}).values()]
        times = [timed(lambda a=a: check_exercise(name, a)) for _ in range(REPEATS) for a in answers]
        everything += times
        print(f"  {name:18s} median {statistics.median(times) * 1000:7.1f} ms   worst {max(times) * 1000:7.1f} ms")
    print(f"  {'all checks':18s} median {statistics.median(everything) * 1000:7.1f} ms   worst {max(everything) * 1000:7.1f} ms"
          f"   ({len(everything)} checks)")
    print("run_symptom (broken + fixed variant):")
    for mistake_id in all_mistakes():
        print(f"  {mistake_id:26s} {timed(lambda: run_symptom(mistake_id)):6.2f} s")


if __name__ == "__main__":
    main()
