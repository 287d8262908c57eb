"""`course train` started from a notebook: in one new process or under torchrun in several, its output streamed
line by line with a bar over its epochs, and what it wrote read back."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

EPOCH = re.compile(r"^epoch (\d+)/(\d+) ")
NOISE = re.compile(r"^\S+ [\d:.]+ \d+ \S+\] \*+$|^\S+ [\d:.]+ \d+ \S+\] $")  # torchrun's banner of asterisks


@dataclass(frozen=True)
class Launched:
    """A finished `course train`: the command, its exit code, wall seconds, what it printed, its --out folder."""

    command: list[str]
    returncode: int
    seconds: float
    output: str
    out: Path

    @property
    def summary(self) -> dict:
        import json
        return json.loads((self.out / "summary.json").read_text())

    def weights(self) -> dict[str, torch.Tensor]:
        """The model's weights after the last epoch (last.pt)."""
        return torch.load(self.out / "last.pt", weights_only=True, map_location="cpu")["model"]

    def training_seconds(self) -> float:
        """Seconds spent in the epochs (training and validation), from metrics.csv: start-up and the frozen trunk's
        single pass left out."""
        import csv
        with open(self.out / "metrics.csv") as handle:
            return sum(float(row["seconds"]) for row in csv.DictReader(handle))


def command_line(data: str, out: str | Path, processes: int = 1, options: tuple | list = ()) -> list[str]:
    """The command that runs `course train` in one process, or in ``processes`` under torchrun on this machine."""
    if processes > 1:
        torchrun = Path(sys.executable).with_name("torchrun")
        launcher = [str(torchrun) if torchrun.exists() else "torchrun", "--standalone", f"--nproc-per-node={processes}"]
    else:
        launcher = [sys.executable]
    return launcher + ["-m", "course_utils", "train", str(data), *map(str, options), "--out", str(out)]


def largest_difference(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    """The largest absolute difference between two state dicts with the same keys."""
    if a.keys() != b.keys():
        raise ValueError("the two models have different parameters: compare runs of the same backbone and head")
    return max((a[k].double() - b[k].double()).abs().max().item() for k in a)


def course_train(data: str, out: str | Path, processes: int = 1, threads: int = 1, options: tuple | list = (),
                 env: dict | None = None, timeout: float = 900, echo: bool = True, fresh: bool = False,
                 check: bool = True) -> Launched:
    """Run `course train DATA ... --out OUT` with ``processes`` processes of ``threads`` PyTorch threads each,
    printing its lines as they come (``echo``) under a bar over its epochs; returns what it did. ``fresh``: delete
    OUT first (a cell run again starts over instead of finding the last run there). ``check``: raise RuntimeError,
    with the command's last lines, when it fails."""
    if fresh:
        import shutil
        shutil.rmtree(out, ignore_errors=True)
    command = command_line(data, out, processes, options)
    variables = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
                 "PYTHONUNBUFFERED": "1", **(env or {})}
    started = time.perf_counter()
    printed: list[str] = []
    bar = tqdm(total=None, desc=f"{processes} process{'es' * (processes > 1)}", unit="epoch", leave=True)
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=variables) as run:
        try:
            for line in run.stdout:
                line = line.rstrip("\n")
                printed.append(line)
                epoch = EPOCH.match(line)
                if epoch:
                    if bar.total is None:
                        bar.reset(total=int(epoch.group(2)))  # reset() also resizes the notebook's bar
                    bar.update(int(epoch.group(1)) - bar.n)
                if echo and not NOISE.match(line):
                    bar.write(line)
                if time.perf_counter() - started > timeout:
                    run.kill()
                    bar.write(f"stopped after {timeout:.0f} s")
                    break
        finally:
            bar.close()
        run.wait()
    launched = Launched(command, run.returncode, time.perf_counter() - started, "\n".join(printed), Path(out))
    if check and launched.returncode != 0:
        last = "\n".join(line for line in printed[-12:] if not NOISE.match(line))
        raise RuntimeError(f"course train exited with code {launched.returncode}:\n{last}")
    return launched
