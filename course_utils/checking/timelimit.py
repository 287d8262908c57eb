"""A time limit that learner code cannot swallow, switch off or outlive (pure-Python code, any thread).

What is limited is *computing time*, so that a slow or busy machine never fails a correct answer: the CPU time
of the checked thread during the check may not pass ``seconds``. Time the process spends waiting for a CPU on a
busy machine is not computing time, and the checker's expensive references are built before the limit starts
(``Exercise.prepare``), so what is charged is the learner's code and the checker's cheap comparisons. A
wall-clock backstop (``WALL_FACTOR`` times the limit, 30 s for the default 10 s) still ends answers that sleep
or wait, and anything else that never returns.

A watchdog thread reads both clocks. Once either runs out, it keeps injecting
TimeLimitExceeded into the checked thread (an asynchronous exception, needing no signal), and in
the main thread also sends SIGALRM to break out of sleeps. The first TimeLimitExceeded raised in
the checked thread installs a trace function that re-raises on every line of code outside this
package, so ``except BaseException: continue`` loops cannot hold on either. Code stuck inside one
C call (a huge matrix product, a blocked socket) cannot be interrupted in-process: `course grade`
runs each submission in its own process for that.
"""
from __future__ import annotations

import ctypes
import math
import signal
import sys
import threading
import time
from numbers import Real
from typing import Any, Callable

from ..paths import PACKAGE_DIR

_PACKAGE = str(PACKAGE_DIR)
MAX_SECONDS = 600.0
WALL_FACTOR = 3.0  # the wall-clock backstop, as a multiple of the computing-time limit
_TICK = 0.01  # seconds between injections once the deadline has passed
_POLL = 0.02  # the shortest wait between two looks at the clocks before it
_monotonic, _clock_gettime = time.monotonic, time.clock_gettime

# Private references: an answer that replaces signal.setitimer or threading.Event cannot reach these.
_getsignal, _setsignal, _pthread_kill = signal.getsignal, signal.signal, getattr(signal, "pthread_kill", None)
_sigpending, _sigmask = getattr(signal, "sigpending", None), getattr(signal, "pthread_sigmask", None)
_settrace, _gettrace, _getframe = sys.settrace, sys.gettrace, sys._getframe
_ASYNC = ("PyThreadState_SetAsyncExc", ctypes.pythonapi)
_raise_in = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.py_object)(_ASYNC)
_clear_in = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p)(_ASYNC)  # None -> NULL: clears
_Event, _Thread, _get_ident, _main_thread = threading.Event, threading.Thread, threading.get_ident, threading.main_thread


class TimeLimitExceeded(BaseException):
    """Raised inside learner code when the time limit expires (a BaseException: ``except Exception`` misses it)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        guard = _Guard._active
        if guard is not None and guard.expired and not guard.done and _get_ident() == guard.thread_id:
            guard.arm_trace(_getframe(1))


def limit_expired() -> bool:
    """True inside a time-limited call whose deadline has passed (a learner raising TimeLimitExceeded is no timeout)."""
    guard = _Guard._active  # noqa: SLF001
    return guard is not None and guard.expired


def validate_time_limit(seconds: object) -> str | None:
    """None if ``seconds`` is a usable time limit, else what is wrong with it."""
    if isinstance(seconds, bool) or not isinstance(seconds, Real):
        return f"time_limit must be a number of seconds, not {type(seconds).__name__}"
    value = float(seconds)
    if not math.isfinite(value) or value <= 0:
        return f"time_limit must be a positive, finite number of seconds (got {value!r})"
    if value > MAX_SECONDS:
        return f"time_limit can be at most {MAX_SECONDS:g} seconds (got {value:g})"
    return None


def _cpu_clock() -> Callable[[], float]:
    """A clock of the calling thread's CPU time that another thread can read (process CPU time where there is none)."""
    try:
        clock_id = time.pthread_getcpuclockid(_get_ident())
        _clock_gettime(clock_id)
    except (AttributeError, OSError, OverflowError):  # no per-thread clocks (macOS, Windows)
        return time.process_time
    return lambda: _clock_gettime(clock_id)


def _in_package(frame) -> bool:
    return frame.f_code.co_filename.startswith(_PACKAGE)


class _Guard:
    """One time-limited call: the watchdog thread, the trace that follows expiry, and their clean-up."""

    _active: "_Guard | None" = None

    def __init__(self, seconds: float, wall_seconds: float):
        self.seconds, self.wall_seconds = seconds, wall_seconds
        self.thread_id = _get_ident()
        self.cpu = _cpu_clock()
        self.cpu_start = self.cpu()
        self.by_wall = False  # the backstop, not the computing time, ended the call
        self.in_main = _main_thread().ident == self.thread_id and _sigmask is not None
        self.expired = self.done = self.stopped = False
        self.stop_event = _Event()
        self.traced: list[tuple[Any, Any]] = []
        self.previous_trace = None
        self.previous_handler = None
        self.signals_sent = 0
        self.outer: _Guard | None = None
        self.handler, self.killer = self._on_alarm, self._kill_trace  # one bound object each, compared by identity

    # -- the checked thread ------------------------------------------------------------
    def _on_alarm(self, signum, frame):
        if self.expired and not self.done:
            raise TimeLimitExceeded(self.seconds)
        if self.signals_sent:  # our own signal, delivered late: swallow it
            self.signals_sent -= 1
            return
        if callable(self.previous_handler):  # an outer timer (pytest-timeout, say) fired
            self.previous_handler(signum, frame)

    def _kill_trace(self, frame, event, arg):
        if self.expired and not self.done and not _in_package(frame):
            raise TimeLimitExceeded(self.seconds)
        return self.killer

    def arm_trace(self, frame) -> None:
        """From the first TimeLimitExceeded on: trace every learner frame on the stack and every new one."""
        if not self.traced:
            self.previous_trace = _gettrace()
        while frame is not None and frame is not self.entry_frame:
            if frame.f_trace is not self.killer:
                self.traced.append((frame, frame.f_trace))
                frame.f_trace = self.killer
            frame = frame.f_back
        _settrace(self.killer)

    def computed(self) -> float:
        """CPU seconds the checked thread has used since the limit started (read from the watchdog thread)."""
        return self.cpu() - self.cpu_start

    def start(self) -> None:
        self.entry_frame = _getframe(2)
        self.outer, _Guard._active = _Guard._active, self
        if self.in_main:
            self.previous_handler = _getsignal(signal.SIGALRM)
            _setsignal(signal.SIGALRM, self.handler)
        self.watchdog = _Thread(target=self._watch, name="course-time-limit", daemon=True)
        self.watchdog.start()

    def stop(self) -> None:
        """Stop the watchdog, drop any pending injection, undo the trace and the handler; immune to late raises."""
        while True:
            try:
                self.done = True
                self.stop_event.set()
                self.watchdog.join()
                _clear_in(self.thread_id, None)
                break
            except TimeLimitExceeded:
                continue
        if self.traced:
            for frame, previous in self.traced:
                frame.f_trace = previous
            _settrace(self.previous_trace)
        if self.in_main:
            if _getsignal(signal.SIGALRM) is not self.handler:
                _setsignal(signal.SIGALRM, self.handler)  # the answer installed its own handler
            if self.signals_sent and signal.SIGALRM in _sigpending():
                _sigmask(signal.SIG_UNBLOCK, {signal.SIGALRM})  # delivered now, to our handler
            _setsignal(signal.SIGALRM, self.previous_handler)
        _Guard._active = self.outer
        self.stopped = True

    # -- the watchdog thread -----------------------------------------------------------
    def _watch(self) -> None:
        deadline = _monotonic() + self.wall_seconds
        while True:
            # one thread computes at most one CPU second per second: wait until the nearer limit could be reached
            left = min(self.seconds - self.computed(), deadline - _monotonic())
            if left > 0 and self.stop_event.wait(max(left, _POLL)):
                return
            if self.computed() > self.seconds:
                break
            if _monotonic() > deadline:
                self.by_wall = True
                break
        self.expired = True
        while not self.stop_event.is_set():
            _raise_in(self.thread_id, TimeLimitExceeded)
            if self.in_main and _getsignal(signal.SIGALRM) is self.handler:
                self.signals_sent += 1
                _pthread_kill(self.thread_id, signal.SIGALRM)  # breaks out of time.sleep and other waits
            self.stop_event.wait(_TICK)


class Expired(TimeLimitExceeded):
    """What run_with_time_limit raises: which clock ran out, for the message."""

    def __init__(self, seconds: float, by_wall: bool, wall_seconds: float):
        super().__init__(seconds)
        self.seconds, self.by_wall, self.wall_seconds = seconds, by_wall, wall_seconds


def run_with_time_limit(fn: Callable[[], Any], seconds: float, wall_seconds: float | None = None) -> Any:
    """Call ``fn()``; raise Expired if the calling thread computes for more than ``seconds`` (CPU time) in it, or it
    runs for more than ``wall_seconds`` (default ``WALL_FACTOR * seconds``) of wall time, even if the answer caught
    the timeout."""
    wall = float(seconds) * WALL_FACTOR if wall_seconds is None else float(wall_seconds)
    guard = _Guard(float(seconds), wall)
    guard.start()
    try:
        result = fn()
    except TimeLimitExceeded:
        if not guard.expired:
            raise
        result = None
    finally:
        stop_surely(guard)
    if guard.expired:  # interrupted, or the answer swallowed every interruption and returned late
        raise Expired(float(seconds), guard.by_wall, wall)
    return result


def stop_surely(guard: "_Guard | None" = None) -> None:
    """Stop ``guard`` (default: the innermost active one) even if late interruptions land while it stops."""
    guard = guard if guard is not None else _Guard._active
    while guard is not None and not guard.stopped:
        try:
            guard.stop()
        except TimeLimitExceeded:
            continue
