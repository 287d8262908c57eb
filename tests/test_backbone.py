"""The shipped course backbone (size, hash, precision) and its recipe: deterministic, resumable, reproducible."""
import json
from dataclasses import replace

import pytest
import torch
from torchvision.models import resnet18

from course_utils.models.backbone import MANIFEST, SHIPPED, Recipe, build_course_backbone, sha256_of
from course_utils.data.generated import SOURCE_TASK
from course_utils.models.pretrained import CourseWeights, course_weights
from helpers import linear_probe_accuracy

TINY = replace(SOURCE_TASK, name="tiny-source", classes=SOURCE_TASK.classes[:2], per_class={"train": 16, "val": 4})
TINY_RECIPE = Recipe(epochs=3, batch_size=8)


def test_shipped_file_is_small_verified_half_precision_and_loads():
    manifest = json.loads(MANIFEST.read_text())
    assert SHIPPED.stat().st_size <= 25_000_000 and manifest["bytes"] == SHIPPED.stat().st_size
    assert sha256_of(SHIPPED) == manifest["sha256"]
    stored = torch.load(SHIPPED, map_location="cpu", weights_only=True)
    assert stored["meta"] == manifest["meta"] and stored["meta"]["dtype"] == "float16"
    assert all(v.dtype == torch.float16 for v in stored["state_dict"].values() if v.is_floating_point())
    weights = course_weights(progress=False)
    assert weights.path == SHIPPED
    model = resnet18(num_classes=len(weights.meta["categories"]))
    model.load_state_dict(weights.get_state_dict())
    assert all(p.dtype == torch.float32 for p in model.parameters())


@pytest.fixture(scope="module")
def tiny_build(tmp_path_factory):
    """One uninterrupted build of the tiny recipe, with one thread: the reference both tests below compare with."""
    folder = tmp_path_factory.mktemp("tiny")
    return build_course_backbone(folder / "whole.pt", TINY, TINY_RECIPE, progress=False, threads=1,
                                 checkpoint=folder / "whole")


def test_build_is_deterministic_for_a_fixed_thread_count(tiny_build, tmp_path):
    b = build_course_backbone(tmp_path / "b.pt", TINY, TINY_RECIPE, progress=False, threads=1, checkpoint=tmp_path / "b")
    first, second = torch.load(tiny_build), torch.load(b)
    assert first["meta"]["mean"] == second["meta"]["mean"]
    assert all(torch.equal(first["state_dict"][k], second["state_dict"][k]) for k in first["state_dict"])


def test_an_interrupted_build_resumes_where_it_stopped(tiny_build, tmp_path, capsys):
    whole = tiny_build
    resume = tmp_path / "resume"
    assert build_course_backbone(tmp_path / "parts.pt", TINY, TINY_RECIPE, progress=False, threads=1,
                                 checkpoint=resume, stop_after=1) is None
    assert resume.exists() and not (tmp_path / "parts.pt").exists()
    parts = build_course_backbone(tmp_path / "parts.pt", TINY, TINY_RECIPE, progress=True, threads=1, checkpoint=resume)
    assert "Resuming the backbone build after epoch 1 of 3" in capsys.readouterr().out
    assert not resume.exists()
    first, second = torch.load(whole)["state_dict"], torch.load(parts)["state_dict"]
    assert all(torch.equal(first[k], second[k]) for k in first)


def test_the_shipped_backbone_transfers_to_the_target_task():
    # measured (make bench-thresholds): 0.884 with 1 and with 2 threads; margin 0.034, a load changes only speed
    assert linear_probe_accuracy(course_weights(progress=False)) >= 0.85


@pytest.mark.slow
def test_a_regenerated_backbone_is_as_good_as_the_shipped_one(tmp_path):
    shipped = course_weights(progress=False)
    path = build_course_backbone(tmp_path / "again.pt", progress=False, checkpoint=tmp_path / "again")
    again = CourseWeights(path, torch.load(path, weights_only=True)["meta"])
    # builds differ by about 0.02-0.03 in source accuracy across CPUs and thread counts (0.843-0.878 measured)
    assert again.meta["source_val_accuracy"] >= shipped.meta["source_val_accuracy"] - 0.05
    assert again.meta["mean"] == shipped.meta["mean"] and again.meta["std"] == shipped.meta["std"]
    # a rebuilt backbone probed 0.848 on a slower, busy CPU (issue 14) against 0.884 for the shipped one:
    # rebuilds are judged with 0.03 of room below that
    assert linear_probe_accuracy(again) >= 0.82
