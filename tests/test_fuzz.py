"""check_exercise never raises, whatever junk it is given.

Derandomized by default so CI is deterministic; HYPOTHESIS_PROFILE=explore runs a long random search.
"""
import os
import time

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

settings.register_profile("ci", derandomize=True, max_examples=150, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("explore", max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

from course_utils import CheckResult, check_exercise
from course_utils.registry import all_exercises
from helpers import Hostile, LyingTensor

NAMES = sorted(all_exercises())
ANSWER_STATUSES = {"failed", "not_attempted"}  # "error" is kept for faults of the check itself

class _LyingInt(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


junk_values = st.one_of(
    st.builds(Hostile), st.integers(-3, 300).map(_LyingInt),
    st.lists(st.integers(0, 4), min_size=1, max_size=4).map(lambda shape: torch.zeros(shape).as_subclass(LyingTensor)),
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20),
    st.lists(st.integers(), max_size=5), st.dictionaries(st.text(max_size=3), st.integers(), max_size=3),
    st.tuples(st.lists(st.integers(0, 4), min_size=0, max_size=4),
              st.sampled_from([torch.float32, torch.float64, torch.float16, torch.int64, torch.uint8, torch.bool,
                               torch.complex64])).map(lambda spec: torch.zeros(spec[0], dtype=spec[1])),
    st.lists(st.integers(0, 4), min_size=0, max_size=4).map(lambda shape: np.ones(shape, dtype=np.uint8)),
    st.sampled_from([torch.tensor(float("nan")), torch.ones(1, 3, 2, 2, dtype=torch.int64), object()]),
)
exceptions = st.sampled_from([ValueError, RuntimeError, TypeError, KeyError, IndexError, ZeroDivisionError,
                              AssertionError, AttributeError, StopIteration, RecursionError, NotImplementedError,
                              SystemExit, GeneratorExit, MemoryError, type("Custom", (BaseException,), {})])


def _returning(value):
    return lambda *args, **kwargs: value


def _raising(exc_type):
    def answer(*args, **kwargs):
        raise exc_type("junk")
    return answer


def _mutating(*args, **kwargs):
    """Overwrites its array and tensor inputs in place (raising where a tensor refuses)."""
    for arg in args:
        if isinstance(arg, (torch.Tensor, np.ndarray)):
            arg[...] = 0
    return args[0] if args else None


junk_callables = junk_values.map(_returning) | exceptions.map(_raising)
answers = st.one_of(
    junk_values,
    junk_values.map(_returning),
    st.tuples(junk_values, junk_values).map(_returning),                    # a pair of junk
    st.tuples(junk_callables, junk_callables).map(_returning),              # "transforms" returning junk
    st.lists(st.tuples(junk_values, junk_values), max_size=3).map(lambda batches: _returning((batches, batches))),
    st.lists(junk_values, max_size=3).map(lambda items: _returning((items, items))),
    exceptions.map(_raising),
    st.just(_mutating),
    st.just(lambda: 1),                       # wrong number of parameters
    st.just(lambda *args: time.sleep(5)),     # sleeps past the limit
)


@given(name=st.sampled_from(NAMES), answer=answers)
def test_check_exercise_never_raises_on_junk(name, answer):
    result = check_exercise(name, answer, time_limit=0.3)
    assert isinstance(result, CheckResult)
    assert result.status in ANSWER_STATUSES and not result.passed
    assert result.message.strip()
    assert not any(line.strip() in ("Try:", "Expected:", "Your answer:") for line in result.message.splitlines())
    assert str(result) and result._repr_html_()


@given(name=st.one_of(st.text(max_size=30), st.integers(), st.none()))
def test_unknown_names_never_raise(name):
    result = check_exercise(name, lambda *a: None)
    assert isinstance(result, CheckResult)
    if name not in NAMES:
        assert result.status == "error" and "exercises are" in result.message
