"""Runs learner code safely: a time limit, the global RNG and grad mode restored, exceptions captured."""
from __future__ import annotations

import contextlib
import linecache
import random
import signal
import threading
import time
import traceback
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Callable, Iterator

import numpy as np
import torch


class TimeLimitExceeded(BaseException):
    """Raised inside learner code when the time limit expires.

    A BaseException, so that a learner's ``except Exception`` cannot swallow it.
    """


class NotAttempted(Exception):
    """The answer is still the untouched starter code."""


class Mismatch(Exception):
    """The answer ran but behaved wrongly; carries what was expected, what happened and what to try."""

    def __init__(self, expected: str, got: str, advice: str, mistake: str | None = None):
        super().__init__(got)
        self.expected, self.got, self.advice, self.mistake = expected, got, advice, mistake


@dataclass
class LearnerError(Exception):
    """An exception raised by the learner's code, with the learner's own line when we can find it."""

    exc: BaseException
    learner_line: str | None

    def __str__(self) -> str:
        return f"{type(self.exc).__name__}: {self.exc}"


@contextlib.contextmanager
def preserved_global_state() -> Iterator[None]:
    """Save and restore every global RNG, grad mode and default dtype around a check."""
    py_state = random.getstate()
    np_state = np.random.get_state()
    torch_state = torch.get_rng_state()
    cuda_states = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None
    grad_enabled = torch.is_grad_enabled()
    default_dtype = torch.get_default_dtype()
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        torch.set_rng_state(torch_state)
        if cuda_states is not None:
            torch.cuda.set_rng_state_all(cuda_states)
        torch.set_grad_enabled(grad_enabled)
        torch.set_default_dtype(default_dtype)


def _can_use_alarm() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def run_with_time_limit(fn: Callable[[], Any], seconds: float) -> Any:
    """Call ``fn()``; raise TimeLimitExceeded if it runs longer than ``seconds``.

    In the main thread (a Jupyter kernel, pytest) a SIGALRM timer interrupts the learner's
    loop or sleep. Elsewhere (Windows, worker threads) the call runs in a daemon thread that
    is abandoned on timeout, since Python cannot kill a thread.
    """
    if _can_use_alarm():
        def on_alarm(signum, frame):
            raise TimeLimitExceeded(seconds)

        previous = signal.signal(signal.SIGALRM, on_alarm)
        outer_delay, outer_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
        start = time.monotonic()
        try:
            return fn()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            if outer_delay:  # another timer was running (pytest-timeout, say): give it back what is left
                remaining = max(outer_delay - (time.monotonic() - start), 0.001)
                signal.setitimer(signal.ITIMER_REAL, remaining, outer_interval)

    box: dict[str, Any] = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed back to the caller's thread below
            box["error"] = exc

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise TimeLimitExceeded(seconds)
    if "error" in box:
        raise box["error"]
    return box.get("value")


def find_learner_line(tb: TracebackType | None, answer: Callable) -> str | None:
    """The deepest traceback line that lies in the file where the learner's answer was defined."""
    code = getattr(answer, "__code__", None)
    if code is None or tb is None:
        return None
    filename = code.co_filename
    found = None
    for frame in traceback.extract_tb(tb):
        if frame.filename == filename:
            found = frame
    if found is None:
        return None
    text = (found.line or linecache.getline(found.filename, found.lineno)).strip()
    where = f"line {found.lineno - code.co_firstlineno + 1} of {getattr(answer, '__name__', 'your function')}"
    return f"{where}: {text}" if text else where


def call_learner(answer: Callable, *args: Any, **kwargs: Any) -> Any:
    """Call the learner's function; its exceptions become LearnerError or NotAttempted."""
    try:
        return answer(*args, **kwargs)
    except NotImplementedError as exc:
        raise NotAttempted(str(exc)) from None
    except (Exception, SystemExit) as exc:  # sys.exit() in an answer must not end the kernel
        raise LearnerError(exc, find_learner_line(exc.__traceback__, answer)) from None
