"""The time limit charges computing time: the checker's preparation and waiting for a CPU are free (see also
test_busy_machine.py); an endless loop is still stopped (by computing time), and so is an answer that sleeps (by the
wall clock)."""
import time

import torch

from course_utils import check_exercise
from course_utils.checking.exercise import Exercise
from course_utils.checking.judge import judge
from course_utils.checking.sandbox import call_learner
from course_utils.checking.timelimit import WALL_FACTOR
from course_utils.registry import all_exercises


def _burn(seconds: float) -> None:
    """Spend about ``seconds`` of this thread's CPU time."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def _exercise(check, prepare=None, time_limit=0.5) -> Exercise:
    return Exercise(name="double", lesson="01_tensor_shapes", task="double a number", check=check,
                    solution=lambda x: 2 * x, hints=("Multiply by two.",), time_limit=time_limit, prepare=prepare)


def _check_double(answer) -> None:
    from course_utils.checking.sandbox import Mismatch
    if call_learner(answer, 3) != 6:
        raise Mismatch("6", "something else", "multiply by two.")


def test_the_default_limit_stops_anything_within_30_seconds_of_wall_time():
    limits = {e.time_limit for e in all_exercises().values()}
    assert max(limits) * WALL_FACTOR <= 30, limits


def test_preparation_runs_before_the_limit_and_only_its_failure_is_an_error():
    built = []
    result = judge(_exercise(_check_double, prepare=lambda: (_burn(2.0), built.append(1))), lambda x: 2 * x)
    assert result.passed and built == [1], result
    failing = judge(_exercise(_check_double, prepare=lambda: 1 / 0), lambda x: 2 * x)
    assert failing.status == "error" and "could not prepare" in failing.message and "ZeroDivisionError" in failing.message


def test_a_computing_loop_is_stopped_by_its_computing_time():
    def endless(x):
        while True:
            pass
    # a long backstop, however little CPU a busy machine gives this test
    result = judge(_exercise(_check_double, time_limit=0.3), endless, wall_seconds=60)
    assert result.status == "failed" and "did not finish within 0.3 s of computing time" in result.message


def test_a_computing_loop_on_a_starved_machine_is_stopped_by_the_wall_clock():
    def endless(x):
        while True:
            pass
    start = time.perf_counter()
    # a backstop shorter than the limit: as if the process got less than half a CPU
    result = judge(_exercise(_check_double, time_limit=1.0), endless, wall_seconds=0.5)
    assert result.status == "failed" and "after 0.5 s on the clock" in result.message
    assert time.perf_counter() - start < 0.5 + 2


def test_learner_code_that_waits_is_stopped_by_the_wall_clock():
    def sleeps(x):
        while True:
            time.sleep(0.05)
    start = time.perf_counter()
    result = judge(_exercise(_check_double, time_limit=0.3), sleeps)
    elapsed = time.perf_counter() - start
    assert 0.3 * WALL_FACTOR - 0.05 <= elapsed < 0.3 * WALL_FACTOR + 2, elapsed
    assert result.status == "failed" and "on the clock" in result.message and "sleeps" in result.message


def test_a_slow_but_finite_learner_call_within_its_computing_time_passes():
    def slow(x):
        _burn(0.3)
        return 2 * x
    assert judge(_exercise(_check_double, time_limit=1.0), slow, wall_seconds=60).passed


def test_checks_run_single_threaded_and_give_the_thread_count_back():
    seen = []

    def flatten_features(x):
        seen.append(torch.get_num_threads())
        return torch.flatten(x, 1)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        assert check_exercise("flatten_features", flatten_features).passed
        assert seen and set(seen) == {1} and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
