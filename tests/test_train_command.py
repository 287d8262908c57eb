"""`course train`: lesson 09's recipe as a command, in one process and in two under torchrun (gloo, this CPU):
the same weights as one process with the global batch, the reported validation accuracy equal to a single-process
evaluation, every output written, and exit code 2 for bad input. A process killed mid-epoch and the run resumed with
two processes to the uninterrupted weights: lesson 11's checked cells (nbval), with $COURSE_FAULT."""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from course_utils.cli import main
from course_utils.data.folders import FileListDataset, class_files, images_folder, load_splits
from course_utils.models.finetunable import new_model
from course_utils.models.pretrained import training_transforms
from course_utils.training.launch import largest_difference
from course_utils.training.loop import evaluate

TORCHRUN = Path(sys.executable).with_name("torchrun")
# Augmentation stays on (each image's versions are drawn from its own seed, not from the process's); dropout off and
# BatchNorm's statistics frozen: those two depend on how the global batch is split between processes.
SAME_MATH = ["--backbone", "resnet18", "--head-epochs", "2", "--block-epochs", "2", "--dropout", "0",
             "--batchnorm", "frozen"]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """3 classes x 16 of the course's images: train 30, validation 9, test 9."""
    root = tmp_path_factory.mktemp("data")
    source = images_folder(progress=False)
    classes, files = class_files(source)
    for name, paths in list(zip(classes, files))[:3]:
        (root / name).mkdir()
        for path in paths[:16]:
            shutil.copy(path, root / name / path.name)
    return root


def _run(args: list[str], processes: int, env: dict | None = None) -> subprocess.CompletedProcess:
    launcher = ([str(TORCHRUN), "--standalone", f"--nproc-per-node={processes}"] if processes > 1
                else [sys.executable])
    return subprocess.run(launcher + ["-m", "course_utils", "train"] + args, capture_output=True, text=True,
                          timeout=240, env={**os.environ, **(env or {})})


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    return torch.load(folder / "last.pt", weights_only=True)["model"]


@pytest.fixture(scope="module")
def runs(data, tmp_path_factory) -> dict[str, Path]:
    """Two processes with batch 4, and one with batch 8 (in this process)."""
    out = tmp_path_factory.mktemp("runs")
    done = {}
    result = _run([str(data), *SAME_MATH, "--batch-size", "4", "--out", str(out / "two")], 2)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert main(["train", str(data), *SAME_MATH, "--batch-size", "8", "--out", str(out / "one")]) == 0  # here
    done["two"], done["one"] = out / "two", out / "one"
    return done


def test_two_processes_end_with_the_weights_of_one_with_twice_the_batch(runs):
    two, one = runs["two"], runs["one"]
    assert json.loads((two / "summary.json").read_text())["world_size"] == 2
    assert json.loads((two / "summary.json").read_text())["global_batch"] == 8
    assert json.loads((one / "summary.json").read_text())["world_size"] == 1
    assert largest_difference(_weights(two), _weights(one)) < 1e-5
    first_step = _weights(two)["fc.weight"] - new_model(3, backbone="resnet18", dropout=0)[0].fc.weight
    assert first_step.abs().max() > 1e-3  # the head did train: equal weights are not two untouched models


def test_reported_validation_accuracy_is_the_single_process_evaluation_of_the_checkpoint(runs, data):
    folder = runs["two"]
    rows = list(csv.DictReader(open(folder / "metrics.csv")))
    saved = torch.load(folder / "best.pt", weights_only=True)
    reported = float(rows[saved["epoch"] - 1]["val_accuracy"])
    classes = saved["classes"]
    splits = load_splits(folder / "splits.csv", data, classes)
    model, weights = new_model(len(classes), backbone="resnet18", dropout=0)
    model.load_state_dict(saved["model"])
    preset, _ = training_transforms(weights, torch.device("cpu"), images_px=64)
    val = FileListDataset(splits["val"], classes, preset)
    assert evaluate(model, DataLoader(val, batch_size=5), device="cpu").accuracy == pytest.approx(reported, abs=1e-12)
    summary = json.loads((folder / "summary.json").read_text())
    test = FileListDataset(splits["test"], classes, preset)
    assert summary["test_images"] == len(test) == 9
    assert evaluate(model, DataLoader(test, batch_size=9), device="cpu").accuracy == pytest.approx(
        summary["test_accuracy"], abs=1e-12)


def test_one_process_writes_every_output_and_skips_unreadable_images(data, tmp_path, capsys):
    messy = tmp_path / "messy"
    shutil.copytree(data, messy)
    (messy / class_files(data)[0][0] / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not an image")
    code = main(["train", str(messy), "--backbone", "resnet18", "--head-epochs", "1", "--block-epochs", "1",
                 "--amp", "--channels-last", "--out", str(tmp_path / "run")])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "broken.png" in printed.out and "skipped" in printed.out
    for name in ("best.pt", "last.pt", "metrics.csv", "splits.csv", "summary.json"):
        assert (tmp_path / "run" / name).is_file(), name
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["amp"] == "torch.bfloat16" and summary["channels_last"] is True
    assert summary["world_size"] == 1 and summary["device"] == "cpu"
    assert len((tmp_path / "run" / "metrics.csv").read_text().strip().splitlines()) == 1 + 2
    assert "broken.png" not in (tmp_path / "run" / "splits.csv").read_text()
    again = main(["train", str(messy), "--backbone", "resnet18", "--out", str(tmp_path / "run")])
    assert again == 2 and "--resume" in capsys.readouterr().err


def _one_class(tmp_path: Path) -> Path:
    (tmp_path / "only" / "cats").mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(tmp_path / "only" / "cats" / "a.png")
    return tmp_path / "only"


@pytest.mark.parametrize("case, expected", [
    ("missing", "is not a folder"),
    ("empty", "class folder(s) with images"),
    ("one_class", "at least two"),
    ("cuda", "no CUDA device"),
    ("epochs", "--head-epochs -1"),
])
def test_bad_input_exits_2_with_what_to_do(case, expected, tmp_path, capsys):
    if case == "cuda" and torch.cuda.is_available():
        pytest.skip("this machine has a GPU: --device cuda is valid here")
    (tmp_path / "empty").mkdir()
    data = {"missing": tmp_path / "nowhere", "empty": tmp_path / "empty"}.get(case) or _one_class(tmp_path)
    extra = {"cuda": ["--device", "cuda"], "epochs": ["--head-epochs", "-1"]}.get(case, [])
    assert main(["train", str(data), "--out", str(tmp_path / "out"), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("course train: ") and expected in err, err


def test_an_unknown_option_exits_2_and_names_it(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["train", "somewhere", "--epochs", "3"])
    assert stopped.value.code == 2 and "--epochs" in capsys.readouterr().err


def test_what_is_written_once_per_machine_is_prepared_by_rank_0_before_the_others(monkeypatch):
    """Under torchrun every rank resolves DATA and the backbone; the first to do it may write the cache (the
    generated images, a pooled copy, the elpv cells). Rank 0 does it before a barrier, the others after it: two
    ranks that built the same folder at once deleted each other's files (found with an empty cache)."""
    import course_utils.training.distributed as distributed
    from course_utils.training.distributed import World, first_on_rank0
    events = []
    monkeypatch.setattr(distributed, "barrier", lambda world: events.append(("barrier", world.rank)))
    for rank in (0, 1):
        made = first_on_rank0(World(rank=rank, size=2), lambda: events.append(("make", rank)) or f"made by {rank}")
        assert made == f"made by {rank}"
    assert events == [("make", 0), ("barrier", 0), ("barrier", 1), ("make", 1)]
