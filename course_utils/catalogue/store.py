"""A test run's shared record of measured symptoms: each slow scripted entry runs once per run, whichever process
(a test worker, a lesson's kernel under nbval) gets to it first, and the others show what it measured.

Only where ``COURSE_SYMPTOM_STORE`` names a folder (the test suite's conftest.py sets one per run and removes it
afterwards); a learner's ``show_symptom`` always runs the code. The key holds everything the measurement depends
on: the entry's code, what it records, PyTorch's version, this process's thread count, default dtype and gradient
mode, and the weights and cache the course uses. `course grade` never passes the folder on to a notebook.
"""
from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path

import torch

from ..paths import atomic_write
from .contract import Variant

STORE_ENV = "COURSE_SYMPTOM_STORE"


def _path(entry) -> Path | None:
    folder = os.environ.get(STORE_ENV)
    if not folder:
        return None
    key = repr((entry.id, entry.setup, entry.broken_code, entry.fixed_code, entry.record, torch.__version__,
                torch.get_num_threads(), torch.get_default_dtype(), torch.is_grad_enabled(),
                os.environ.get("COURSE_WEIGHTS"), os.environ.get("COURSE_CACHE")))
    return Path(folder) / f"{entry.id}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.pickle"


def recalled(entry) -> tuple[Variant, Variant] | None:
    """The two variants another process of this test run measured for ``entry``, or None."""
    path = _path(entry)
    if path is None or not path.is_file():
        return None
    try:
        broken, fixed = pickle.loads(path.read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError, TypeError):
        return None
    return (broken, fixed) if isinstance(broken, Variant) and isinstance(fixed, Variant) else None


def remember(entry, broken: Variant, fixed: Variant) -> None:
    """Keep what ``entry`` measured for the rest of this test run (nothing when there is no store or it cannot be
    pickled: then each process measures for itself)."""
    path = _path(entry)
    if path is None:
        return
    try:
        payload = pickle.dumps((broken, fixed))
    except (pickle.PicklingError, TypeError, AttributeError):
        return
    if not path.parent.is_dir():
        return  # the run that made the folder has ended
    try:
        atomic_write(path, lambda temporary: temporary.write_bytes(payload))
    except OSError:
        pass  # a full or read-only disk: the others measure for themselves
