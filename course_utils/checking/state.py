"""Everything global a check saves and restores, as one table; checks also run in a known, clean state."""
from __future__ import annotations

import contextlib
import gc
import logging
import os
import random
import signal
import sys
import threading
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np
import torch

# Private references, taken at import: an answer that replaces os.chdir or warnings._filters_mutated with
# something that loops or undoes a patch cannot reach the restore through them.
_IN_MAIN, _current_thread = threading.main_thread, threading.current_thread
_chdir, _getcwd, _filters_mutated = os.chdir, os.getcwd, warnings._filters_mutated  # noqa: SLF001
_getsignal, _signal, _valid_signals = signal.getsignal, signal.signal, signal.valid_signals
_getitimer, _setitimer = signal.getitimer, signal.setitimer
_sigmask, _sigpending, _sigtimedwait = signal.pthread_sigmask, signal.sigpending, signal.sigtimedwait
_getrecursionlimit, _setrecursionlimit = sys.getrecursionlimit, sys.setrecursionlimit


@dataclass(frozen=True)
class Saved:
    """One piece of global state: how to read it, and how to put a read value back."""

    name: str
    get: Callable[[], Any]
    put: Callable[[Any], None]
    main_thread_only: bool = False
    compare: bool = True  # put back only when it differs (some setters are slow); False: always put back


def _put_default_device(device: torch.device) -> None:
    torch.set_default_device(None if device.type == "cpu" else device)


def _get_environ() -> tuple[Any, dict[str, str]]:
    return os.environ, dict(os.environ)


def _put_environ(saved: tuple[Any, dict[str, str]]) -> None:
    environ, values = saved
    os.environ = environ  # the answer may have replaced the object itself
    for key in [k for k in environ if k not in values]:
        del environ[key]
    for key, value in values.items():
        if environ.get(key) != value:
            environ[key] = value


def _get_list(owner: Any, name: str) -> Callable[[], tuple[Any, list]]:
    return lambda: (getattr(owner, name), list(getattr(owner, name)))


def _put_list(owner: Any, name: str) -> Callable[[tuple[Any, list]], None]:
    def put(saved: tuple[Any, list]) -> None:
        original, items = saved
        original[:] = items
        setattr(owner, name, original)
    return put


def _put_warning_filters(saved: tuple[Any, list]) -> None:
    _put_list(warnings, "filters")(saved)
    _filters_mutated()  # tell the warnings cache the filters changed


def _get_handlers() -> dict[int, Any]:
    handlers = {}
    for signum in _valid_signals():
        try:
            handlers[signum] = _getsignal(signum)
        except (OSError, ValueError):
            continue
    return handlers


def _put_handlers(saved: dict[int, Any]) -> None:
    for signum, handler in saved.items():
        if handler is not None and _getsignal(signum) is not handler:
            with contextlib.suppress(OSError, ValueError, TypeError):
                _signal(signum, handler)


_TIMERS = tuple(getattr(signal, n) for n in ("ITIMER_REAL", "ITIMER_VIRTUAL", "ITIMER_PROF") if hasattr(signal, n))


def _get_timers() -> dict[int, tuple[float, float]]:
    return {timer: _getitimer(timer) for timer in _TIMERS}


def _put_timers(saved: dict[int, tuple[float, float]]) -> None:
    # A timer the answer started is stopped; one running before the check keeps what it has left.
    for timer, (delay, interval) in saved.items():
        now_delay, now_interval = _getitimer(timer)
        if (now_delay > 0) != (delay > 0) or now_interval != interval or now_delay > delay:
            _setitimer(timer, max(delay, 0.0), interval)


def _get_mask() -> set:
    return _sigmask(signal.SIG_BLOCK, [])


def _put_mask(saved: set) -> None:
    # Signals the answer blocked and left pending (say, an alarm it sent itself) would be delivered the
    # moment they are unblocked, possibly to a default handler that ends the process: discard them.
    newly_unblocked = _get_mask() - set(saved)
    for signum in _sigpending() & newly_unblocked:
        with contextlib.suppress(OSError, ValueError):
            _sigtimedwait([signum], 0)
    _sigmask(signal.SIG_SETMASK, saved)


def _cuda_rng() -> Any:
    return torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None


def _put_cuda_rng(states: Any) -> None:
    if states is not None:
        torch.cuda.set_rng_state_all(states)


def _deterministic() -> tuple[bool, bool]:
    return torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()


def _anomaly() -> tuple[bool, bool]:
    return torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled()


def _put_cudnn(saved: tuple[bool, bool, bool]) -> None:
    torch.backends.cudnn.enabled, torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = saved


def _std_streams() -> tuple[Any, ...]:
    return sys.stdin, sys.stdout, sys.stderr, sys.displayhook, sys.excepthook


def _put_std_streams(saved: tuple[Any, ...]) -> None:
    sys.stdin, sys.stdout, sys.stderr, sys.displayhook, sys.excepthook = saved


def _get_cwd() -> str | None:
    """The working directory, or None when it no longer exists (an answer moved into a folder later deleted)."""
    try:
        return _getcwd()
    except OSError:
        return None


def _put_cwd(path: str | None) -> None:
    if path is not None:
        with contextlib.suppress(OSError):
            _chdir(path)


# Restored in reverse order, so the signal mask comes back last (after handlers and timers).
STATE: tuple[Saved, ...] = (
    Saved("signal mask", _get_mask, _put_mask, main_thread_only=True),
    Saved("signal handlers", _get_handlers, _put_handlers, main_thread_only=True, compare=False),
    Saved("interval timers", _get_timers, _put_timers, main_thread_only=True, compare=False),
    Saved("Python RNG", random.getstate, random.setstate, compare=False),
    Saved("NumPy RNG", np.random.get_state, np.random.set_state, compare=False),
    Saved("torch RNG", torch.get_rng_state, torch.set_rng_state, compare=False),
    Saved("CUDA RNG", _cuda_rng, _put_cuda_rng, compare=False),
    Saved("grad mode", torch.is_grad_enabled, torch.set_grad_enabled),
    Saved("default dtype", torch.get_default_dtype, torch.set_default_dtype),
    Saved("default device", torch.get_default_device, _put_default_device),
    Saved("torch threads", torch.get_num_threads, torch.set_num_threads),
    Saved("deterministic algorithms", _deterministic, lambda v: torch.use_deterministic_algorithms(v[0], warn_only=v[1])),
    Saved("anomaly detection", _anomaly, lambda v: torch.set_anomaly_enabled(v[0], v[1])),
    Saved("cuDNN flags", lambda: (torch.backends.cudnn.enabled, torch.backends.cudnn.benchmark,
                                  torch.backends.cudnn.deterministic), _put_cudnn),
    Saved("float32 matmul precision", torch.get_float32_matmul_precision, torch.set_float32_matmul_precision),
    Saved("NumPy error handling", np.geterr, lambda v: np.seterr(**v)),
    Saved("working directory", _get_cwd, _put_cwd),
    Saved("environment", _get_environ, _put_environ, compare=False),
    Saved("standard streams and hooks", _std_streams, _put_std_streams, compare=False),
    Saved("warnings filters", _get_list(warnings, "filters"), _put_warning_filters, compare=False),
    Saved("warnings display", lambda: (warnings.showwarning, warnings.formatwarning),
          lambda v: (setattr(warnings, "showwarning", v[0]), setattr(warnings, "formatwarning", v[1])), compare=False),
    Saved("sys.path", _get_list(sys, "path"), _put_list(sys, "path"), compare=False),
    Saved("recursion limit", _getrecursionlimit, _setrecursionlimit),
    Saved("switch interval", sys.getswitchinterval, sys.setswitchinterval),
    Saved("trace and profile functions", lambda: (sys.gettrace(), sys.getprofile()),
          lambda v: (sys.settrace(v[0]), sys.setprofile(v[1])), compare=False),
    Saved("garbage collector", lambda: (gc.isenabled(), gc.get_threshold()),
          lambda v: (gc.enable() if v[0] else gc.disable(), gc.set_threshold(*v[1]))),
    Saved("int digits limit", sys.get_int_max_str_digits, sys.set_int_max_str_digits),
    Saved("print options", lambda: (np.get_printoptions(), dict(vars(torch._tensor_str.PRINT_OPTS))),  # noqa: SLF001
          lambda v: (np.set_printoptions(**v[0]), torch.set_printoptions(**v[1]))),
    Saved("logging switch", lambda: logging.root.manager.disable, logging.disable),
    Saved("exception hooks", lambda: (sys.unraisablehook, threading.excepthook),
          lambda v: (setattr(sys, "unraisablehook", v[0]), setattr(threading, "excepthook", v[1])), compare=False),
    Saved("import hooks", _get_list(sys, "meta_path"), _put_list(sys, "meta_path"), compare=False),
    Saved("oneDNN switch", lambda: torch.backends.mkldnn.enabled, lambda v: setattr(torch.backends.mkldnn, "enabled", v)),
)


def clean_check_state() -> None:
    """The state every check runs in, whatever the notebook set: expectations never depend on it."""
    torch.set_grad_enabled(True)
    torch.set_default_dtype(torch.float32)
    if torch.get_default_device().type != "cpu":
        torch.set_default_device(None)
    if torch.are_deterministic_algorithms_enabled():
        torch.use_deterministic_algorithms(False)  # slow to call (~20 ms), so only when needed
    torch.set_anomaly_enabled(False)
    limit = _getrecursionlimit()
    if not 1000 <= limit <= 10_000:  # enough for any checker, too little to overflow the C stack
        _setrecursionlimit(min(max(limit, 1000), 10_000))


@contextlib.contextmanager
def preserved_global_state(clean: bool = True) -> Iterator[None]:
    """Save every entry of STATE, optionally switch to the clean check state, and restore everything after."""
    in_main = _current_thread() is _IN_MAIN()
    entries = [entry for entry in STATE if in_main or not entry.main_thread_only]
    saved = [(entry, entry.get()) for entry in entries]
    try:
        if clean:
            clean_check_state()
        yield
    finally:
        for entry, value in reversed(saved):
            try:
                if not entry.compare or entry.get() != value:
                    entry.put(value)
            except (RuntimeError, ValueError, TypeError, OSError):
                continue  # e.g. CUDA became unusable: restore the rest
