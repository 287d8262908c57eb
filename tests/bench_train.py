"""`course train` timed: training images per second in 1 process (all the cores' threads) and in 2 processes under
torchrun (the threads shared out), and on one GPU when there is one. A measurement to read, never a test.

    make bench-train                      # the course's images, resnet18
    make bench-train BENCH_ARGS="elpv --backbone efficientnet_lite0"
"""
from __future__ import annotations

import argparse
import csv
import tempfile
from pathlib import Path

import torch

from course_utils.runtime import cpu_count
from course_utils.training.launch import course_train


def images_per_second(run) -> float:
    """Training images x epochs over the epochs' seconds (start-up and the frozen trunk's single pass left out)."""
    with open(run.out / "splits.csv") as handle:
        train = sum(row["split"] == "train" for row in csv.DictReader(handle))
    recipe = run.summary["recipe"]
    return train * (recipe["head_epochs"] + recipe["block_epochs"]) / run.training_seconds()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default="shapes")
    parser.add_argument("--backbone", default="resnet18")
    parser.add_argument("--epochs", type=int, default=8, help="head and block epochs together (default 8)")
    args = parser.parse_args()
    cores = cpu_count()
    options = ["--backbone", args.backbone, "--head-epochs", "2", "--block-epochs", str(args.epochs - 2)]
    setups = [("cpu", 1, cores, 32), ("cpu", 2, max(1, cores // 2), 16)]
    if torch.cuda.is_available():
        setups.append(("cuda", 1, cores, 32))
    with tempfile.TemporaryDirectory() as folder:
        for device, processes, threads, batch in setups:
            run = course_train(args.data, Path(folder) / f"{device}{processes}", processes, threads,
                               options + ["--device", device, "--batch-size", str(batch)], echo=False)
            if run.returncode:
                print(run.output[-2000:])
                raise SystemExit(f"{device} x {processes}: exit code {run.returncode}")
            print(f"{device}, {processes} process(es) x {threads} thread(s), global batch 32: "
                  f"{images_per_second(run):7.1f} training images/s (epochs {run.training_seconds():.1f} s, whole "
                  f"command {run.seconds:.1f} s, test accuracy {run.summary['test_accuracy']:.3f})")


if __name__ == "__main__":
    main()
