"""Starting and stopping `course grade`'s workers: the context that starts them (on Linux a server that imported
PyTorch and the checker once, and forks each worker), their environment, and killing a worker with what it started."""
from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import os
import signal
import sys
import threading

from ..catalogue.store import STORE_ENV
from ..runtime import course_env

running: set = set()  # worker processes, killed with everything they started if we stop
_PRELOAD = ["course_utils.cli.grade_worker", "IPython.core.interactiveshell", "course_utils.cli.preload"]
_server_lock = threading.Lock()


def kill(process) -> None:
    """SIGKILL the worker's whole process group (what it started included); the worker alone if it has no group
    of its own yet (killed before its first instruction)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def worker_env(threads: int | None = None) -> dict[str, str]:
    """A grading worker's environment: the caller's, no interactive plots, the course's thread policy; never the
    test suite's shared store of measurements (a submission must not write what a later check reads)."""
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONUNBUFFERED="1", **course_env(threads))
    env.pop(STORE_ENV, None)
    return env


def worker_context(env: dict[str, str]):
    """The multiprocessing context that starts workers. On Linux, a server that imported PyTorch, torchvision, the
    checker and IPython once forks them (started here, once per process, with the workers' environment: OpenMP reads its
    settings when PyTorch loads). Elsewhere (forking a process that loaded PyTorch is unsafe on macOS) each worker
    is a fresh interpreter. Call it before any thread starts workers: it changes os.environ for a moment."""
    if not sys.platform.startswith("linux"):
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    with _server_lock:
        context.set_forkserver_preload(_PRELOAD)
        saved = dict(os.environ)
        os.environ.update(env)
        try:
            multiprocessing.forkserver.ensure_running()
        finally:
            os.environ.clear()
            os.environ.update(saved)
    return context
