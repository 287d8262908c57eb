"""The original tutorial's own line, run safely. `resnet18(weights=ResNet18_Weights.DEFAULT)` downloads ImageNet's
weights on first use: offline it fails at once, behind a firewall that drops packets it can wait for minutes, and
where it succeeds it fills torch.hub's folder, which `pretrained_resnet18()` reads afterwards."""
from __future__ import annotations

import tempfile
import time
from typing import Callable

import torch
from torch import nn

from .pretrained import DOWNLOAD_TIMEOUT, within_timeout


def seed_call(build: Callable[[], nn.Module], timeout: float = DOWNLOAD_TIMEOUT) -> tuple[nn.Module | None, str]:
    """(``build()``'s model, or None when it failed or ran out of time; what happened and how long it took):
    ``build`` runs with ``timeout`` seconds for the network and a temporary torch.hub folder, removed afterwards;
    the random numbers it draws (building a network initialises its weights) leave the caller's stream as it was."""
    previous = torch.hub.get_dir()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="course-seed-call-", ignore_cleanup_errors=True) as folder:
        torch.hub.set_dir(folder)
        try:
            with torch.random.fork_rng():
                model, error = within_timeout(build, timeout)
        finally:
            torch.hub.set_dir(previous)
    seconds = time.perf_counter() - start
    if error is None:
        return model, (f"ImageNet weights downloaded and loaded in {seconds:.1f} s (into a temporary folder, "
                       f"removed again)")
    return None, f"no weights after {seconds:.1f} s, the limit being {timeout:g} s ({error})"
