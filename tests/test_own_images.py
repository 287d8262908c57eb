"""Lesson 09's pipeline: splitting one folder, the data checks, every image mode, class weights, the recipe's
resumable training on a trunk run once, predictions to CSV; and the lesson itself run top to bottom on real
solar-cell photographs saved as a messy folder, with each backbone option."""
import csv
import math
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from nbclient import NotebookClient
from PIL import Image

from course_utils import check_exercise, preflight
from course_utils.tools.execute_notebooks import fresh_cache
from course_utils.data.folders import (FileListDataset, audit, class_counts, class_files, images_folder, load_splits,
                                      open_rgb, save_splits, split_files)
from course_utils.data.imbalance import class_weights, make_rare, rare_and_others, rare_class_study, rare_gain
from course_utils.data.messy import CORRUPT_NAME, MESSY_COUNTS, messy_folder
from course_utils.training.recipe import (BACKBONES, Recipe, default_backbone, feature_extractor, fit_recipe,
                                         load_best, new_model, predict_files)
from course_utils.models.pretrained import describe_weights, training_transforms
from course_utils.training.loop import get_device
from test_notebooks import this_python_as_kernel  # noqa: F401  (a fixture)

ROOT = Path(__file__).resolve().parent.parent
FRACTIONS = {"train": 0.6, "val": 0.2, "test": 0.2}


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    return messy_folder(tmp_path_factory.mktemp("photos") / "my_photos")


def test_split_is_stratified_disjoint_complete_and_deterministic(messy):
    classes, files = class_files(messy)
    splits = split_files(messy, FRACTIONS, seed=3)
    listed = [f for part in splits.values() for f, _ in part]
    assert sorted(listed) == sorted(str(p) for class_list in files for p in class_list)   # each file exactly once
    for k, class_list in enumerate(files):
        n = len(class_list)
        for name in ("val", "test"):
            assert abs(class_counts(splits, classes)[name][k] - n * FRACTIONS[name]) <= 0.5 + 1e-9
    assert split_files(messy, FRACTIONS, seed=3) == splits
    assert split_files(messy, FRACTIONS, seed=4) != splits
    labels = {Path(f).parent.name: c for part in splits.values() for f, c in part}
    assert labels == {name: k for k, name in enumerate(classes)}                          # ImageFolder's numbering


def test_bad_fractions_say_what_to_pass(messy):
    with pytest.raises(ValueError, match="sum to 1"):
        split_files(messy, {"train": 0.9, "val": 0.2}, seed=0)


def test_split_list_round_trip(messy, tmp_path):
    classes, _ = class_files(messy)
    splits = split_files(messy, FRACTIONS, seed=0)
    path = save_splits(splits, classes, messy, tmp_path / "splits.csv")
    assert load_splits(path, messy, classes) == splits


def test_a_split_dataset_is_pooled_into_one_folder_per_class(tmp_path, monkeypatch):
    for split, count in (("train", 2), ("valid", 3), ("test", 1)):
        for name in ("a", "b"):
            (tmp_path / "data" / split / name).mkdir(parents=True)
            for i in range(count):
                Image.new("RGB", (8, 8), (i, 0, 0)).save(tmp_path / "data" / split / name / f"{i}.png")
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "data"))
    classes, files = class_files(images_folder())
    assert classes == ["a", "b"] and [len(f) for f in files] == [6, 6]
    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "nothing here"))
    with pytest.raises(FileNotFoundError, match="one folder per class"):
        images_folder()


def test_audit_finds_each_kind_of_problem_and_cleaned_skips_them(messy):
    classes, _ = class_files(messy)
    splits = split_files(messy, FRACTIONS, seed=0)
    report = audit(splits, classes, progress=False)
    assert [Path(f).name for f, _ in report.unreadable] == [CORRUPT_NAME]
    assert {"L", "CMYK", "RGBA", "P", "I;16", "RGB"} <= set(report.modes)
    assert [Path(f).name for f, _ in report.tiny] == ["img_tiny.jpg"]
    assert report.cross_split_duplicates, "a photo saved twice, its copies in two splits"
    assert len(report.cross_split_duplicates) + len(report.same_split_duplicates) == 2   # both pairs found
    text = "\n".join(report.lines())
    assert CORRUPT_NAME in text and "skipped" in text
    cleaned = report.cleaned(splits)
    kept = {f for part in cleaned.values() for f, _ in part}
    assert not any(f.endswith(CORRUPT_NAME) for f in kept)
    hashes = [report.pixels[f] for name in cleaned for f, _ in cleaned[name]]
    assert len(hashes) == len(set(hashes)), "each image once after cleaning"


def test_a_class_missing_from_a_split_is_reported(tmp_path):
    for name, count in (("many", 10), ("two", 2)):
        (tmp_path / name).mkdir()
        for i in range(count):
            Image.new("RGB", (40, 40), (i * 20, 0, 0)).save(tmp_path / name / f"{i}.png")
    classes, _ = class_files(tmp_path)
    report = audit(split_files(tmp_path, FRACTIONS, seed=0), classes, progress=False)
    assert report.missing_classes == {"val": ["two"], "test": ["two"]}


@pytest.mark.parametrize("mode", ["L", "CMYK", "RGBA", "LA", "P", "I;16", "I", "F", "1"])
def test_open_rgb_gives_8_bit_rgb_for_every_mode(tmp_path, mode):
    grey = Image.new("L", (20, 10), 128)
    image = {"I;16": Image.fromarray(np.full((10, 20), 128 * 257, np.uint16)),
             "I": Image.fromarray(np.full((10, 20), 128 * 257, np.int32)),
             "F": Image.fromarray(np.full((10, 20), 128.0, np.float32))}.get(mode) or grey.convert(mode)
    path = tmp_path / ("x.tiff" if mode in ("I", "F") else "x.jpg" if mode == "CMYK" else "x.png")
    image.save(path)
    out = open_rgb(path)
    assert out.mode == "RGB" and out.size == (20, 10)
    if mode != "1":
        assert abs(np.asarray(out).mean() - 128) < 3, f"{mode}: brightness changed"


def test_open_rgb_composites_transparency_on_white_and_applies_exif_rotation(tmp_path):
    Image.new("RGBA", (4, 4), (0, 0, 0, 0)).save(tmp_path / "clear.png")
    assert np.asarray(open_rgb(tmp_path / "clear.png")).min() == 255
    exif = Image.Exif()
    exif[0x0112] = 6                                          # "rotate 90° to display"
    Image.new("RGB", (30, 10)).save(tmp_path / "phone.jpg", exif=exif)
    assert open_rgb(tmp_path / "phone.jpg").size == (10, 30)


def test_class_weights_invert_the_counts_and_ignore_absent_classes():
    assert class_weights([0, 0, 1, 1], 2).tolist() == [1.0, 1.0]
    weights = class_weights(torch.tensor([0] * 6 + [1] * 2), 3)
    assert weights.dtype == torch.float32
    assert torch.allclose(weights, torch.tensor([8 / 18, 8 / 6, 0.0]))


def test_make_rare_keeps_the_others_and_at_most_the_rare_class_count():
    samples = [(i, i % 3) for i in range(30)]
    rare = make_rare(samples, 2, keep=3, seed=0)
    assert sum(1 for _, c in rare if c == 2) == 3 and sum(1 for _, c in rare if c != 2) == 20
    assert sum(1 for _, c in make_rare(samples, 2, keep=50, seed=0) if c == 2) == 10


def test_weighting_measures_rare_class_recall():
    generator = torch.Generator().manual_seed(0)
    centres = torch.randn(3, 16, generator=generator) * 2
    y = torch.arange(3).repeat_interleave(30)
    x = centres[y] + torch.randn(90, 16, generator=generator)
    val_y = torch.arange(3).repeat_interleave(20)
    val_x = centres[val_y] + torch.randn(60, 16, generator=generator)
    study = rare_class_study((x, y), (val_x, val_y), 3, keep=2, seeds=range(2), progress=False)
    assert set(study) == {"all images", "plain", "weighted loss", "weighted sampler"}
    assert all(recalls.shape == (3, 2, 3) for recalls in study.values())
    rare, others = rare_and_others(study["all images"])
    assert rare.shape == others.shape == (3,) and bool(((0 <= rare) & (rare <= 1)).all())


def test_the_rare_class_gain_is_paired_with_an_error_over_the_classes():
    plain = torch.tensor([[[0.2, 0.9], [0.4, 0.9]], [[0.9, 0.1], [0.9, 0.3]]])      # [rare class, seed, class]
    better = plain.clone()
    better[0, :, 0] += torch.tensor([0.2, 0.0])                                     # class 0 rare: +0.2, +0.0
    better[1, :, 1] += torch.tensor([0.4, 0.2])                                     # class 1 rare: +0.4, +0.2
    gain, error, higher, heads = rare_gain({"plain": plain, "better": better}, "better", "plain")
    per_class = torch.tensor([0.1, 0.3])
    assert math.isclose(gain, 0.2, abs_tol=1e-6) and (higher, heads) == (3, 4)
    assert math.isclose(error, (per_class.std() / math.sqrt(2)).item(), rel_tol=1e-5)


@pytest.fixture(scope="module")
def small_run(messy):
    classes, _ = class_files(messy)
    splits = audit(split_files(messy, FRACTIONS, seed=0), classes, progress=False).cleaned(
        split_files(messy, FRACTIONS, seed=0))
    model, weights = new_model(len(classes), "course")
    preset, _ = training_transforms(weights, get_device())
    train = FileListDataset(splits["train"], classes, preset)
    val = FileListDataset(splits["val"], classes, preset)
    return classes, splits, weights, preset, train, val


SHORT = Recipe(head_epochs=1, block_epochs=2, batch_size=8)


def trained(small_run, folder, **options):
    """(model, history): a fresh course-backbone model trained by SHORT on the small run's images."""
    classes, _, _, _, train, val = small_run
    model, _ = new_model(len(classes), "course")
    return model, fit_recipe(model, train, val, SHORT, folder, progress=False, **options)


@pytest.fixture(scope="module")
def whole_run(small_run, tmp_path_factory):
    """(model, history) of one uninterrupted SHORT run, with the trunk cached: what the next two tests compare with."""
    return trained(small_run, tmp_path_factory.mktemp("whole"))


def test_an_interrupted_run_resumes_to_the_same_weights(small_run, whole_run, tmp_path):
    whole, history = whole_run
    trained(small_run, tmp_path / "parts", stop_after=2)
    again, resumed = trained(small_run, tmp_path / "parts")          # as after a restart: a new model
    assert [row["epoch"] for row in resumed] == [1, 2, 3]
    assert [row["train_loss"] for row in resumed] == [row["train_loss"] for row in history]
    assert all(torch.equal(a, b) for a, b in zip(whole.state_dict().values(), again.state_dict().values()))
    best = max(history, key=lambda row: row["val_accuracy"])["epoch"]
    assert load_best(again, tmp_path / "parts") == best
    assert [row["phase"] for row in history] == ["head", "last block", "last block"]


def test_the_recipe_fine_tunes_the_imagenet_efficientnet_too(small_run, tmp_path):
    from course_utils.training.recipe import phase_optimizer, set_phase
    classes, splits, _, _, _, _ = small_run
    model, weights = new_model(len(classes), backbone="efficientnet_lite0")
    set_phase(model, "last block")
    trained = {name.split(".")[0] for name, p in model.named_parameters() if p.requires_grad}
    assert trained == {"blocks", "conv_head", "bn2", "classifier"}
    assert {name.split(".")[1] for name, p in model.named_parameters() if p.requires_grad and name[:6] == "blocks"} == {"6"}
    optimizer, _ = phase_optimizer(model, Recipe(), "last block")
    assert [len(g["params"]) for g in optimizer.param_groups] == [2, sum(1 for n, p in model.named_parameters()
                                                                          if p.requires_grad) - 2]
    small = weights.transforms(crop_size=64, resize_size=64)            # small inputs: a quick test
    train = FileListDataset(splits["train"][:6], classes, small)
    history = fit_recipe(model, train, FileListDataset(splits["val"][:3], classes, small),
                         Recipe(head_epochs=1, block_epochs=1, batch_size=6), tmp_path, progress=False)
    assert [row["phase"] for row in history] == ["head", "last block"]
    with pytest.raises(ValueError, match="choose one of 'resnet18', 'efficientnet_lite0'"):
        new_model(2, backbone="vgg")


@pytest.mark.parametrize("backbone", sorted(BACKBONES))
def test_every_backbone_option_runs_the_lessons_set_up(backbone):
    """Lesson 09's set-up cell with each BACKBONE it offers: weights described, preset chosen, features out."""
    model, weights = new_model(3, backbone=backbone)
    assert describe_weights(weights).split(":")[0] in ("course backbone", "ImageNet", "ImageNet-1k")
    preset, _ = training_transforms(weights, get_device(), images_px=300)
    image = Image.fromarray(np.full((300, 300, 3), 128, np.uint8))
    assert model(preset(image).unsqueeze(0)).shape == (1, 3)
    features = feature_extractor(model)(preset(image).unsqueeze(0))          # the head replaced: features out
    assert features.ndim == 2 and features.shape[0] == 1 and features.shape[1] > 3


def test_a_checkpoint_of_another_recipe_is_not_resumed(small_run, tmp_path, capsys):
    classes, _, _, _, train, val = small_run
    model, _ = new_model(len(classes), "course")
    fit_recipe(model, train, val, Recipe(head_epochs=1, block_epochs=0, batch_size=8), tmp_path, progress=False)
    model, _ = new_model(len(classes), "course")
    history = fit_recipe(model, train, val, Recipe(head_epochs=1, block_epochs=0, batch_size=16), tmp_path,
                         progress=False)
    assert "another recipe" in capsys.readouterr().out and len(history) == 1


def test_preflight_accepts_the_lessons_file_list_set_up(small_run):
    from torch.utils.data import DataLoader
    from course_utils.training.finetune import train_augmentation
    from course_utils.training.recipe import phase_optimizer, set_phase
    from course_utils.training.loop import frozen_batchnorm_to_eval
    classes, splits, weights, preset, _, val = small_run
    model, _ = new_model(len(classes), "course")
    set_phase(model, "head")
    model.train()
    frozen_batchnorm_to_eval(model)
    optimizer, _ = phase_optimizer(model, Recipe(), "head")
    train_loader = DataLoader(FileListDataset(splits["train"], classes, train_augmentation(preset)), batch_size=8,
                              shuffle=True)
    findings = preflight(model, train_loader, DataLoader(val, batch_size=8), optimizer, weights, show=False)
    assert [f.id for f in findings if not f.ok] == []
    leaky = FileListDataset(splits["val"] + splits["train"][:2], classes, preset)
    findings = preflight(model, train_loader, DataLoader(leaky, batch_size=8), optimizer, weights, show=False)
    assert [f.id for f in findings if not f.ok] == ["overlapping_splits"]


def test_predictions_go_to_a_csv_with_unreadable_files_reported(small_run, messy, tmp_path):
    classes, _, _, preset, _, _ = small_run
    model, _ = new_model(len(classes), "course")
    files = sorted((messy / "trefoil").iterdir()) + [messy / "crescent" / CORRUPT_NAME]
    rows = predict_files(model, files, preset, classes, tmp_path / "out.csv", threshold=0.9)
    with open(tmp_path / "out.csv", newline="") as handle:
        written = list(csv.DictReader(handle))
    assert len(written) == len(files) and written[-1]["note"].startswith("unreadable")
    assert all(row["class"] in classes for row in written[:-1])
    assert all(row["low_confidence"] == (row["probability"] < 0.9) for row in rows[:-1])


@pytest.fixture(scope="module")
def messy_solar_cells(tmp_path_factory):
    """Real photographs: cells written by `course data elpv` (binary), 16 functional and 10 defective ones, saved the
    messy way (sizes from 72 to 128 px, odd modes, copies, a thumbnail, a truncated upload, a note beside the class
    folders). Under the weights' 224 px, the lesson runs them at their own size, as on a CPU it runs any small photo."""
    from course_utils.cli import main
    written = tmp_path_factory.mktemp("elpv") / "cells"
    assert main(["data", "elpv", str(written)]) == 0
    chosen = {"functional": 16, "defective": 10}
    sides = iter(np.random.default_rng(0).integers(72, 129, size=sum(chosen.values())).tolist())
    images = {name: [Image.open(p).resize((next(sides),) * 2) for p in sorted((written / name).iterdir())[:count]]
              for name, count in chosen.items()}
    return messy_folder(tmp_path_factory.mktemp("photos") / "my_cells", images=images), chosen


def test_lesson_runs_top_to_bottom_on_messy_real_photos(messy_solar_cells, this_python_as_kernel,  # noqa: F811
                                                        monkeypatch):
    """The lesson on real solar-cell photographs saved as a messy folder, with the backbone it chooses for a
    learner's folder (offline: EfficientNet-Lite0); ResNet-18 runs the same cells under nbval, on the course's
    images. The catalogue's cells (show_symptom) measure the catalogue's own data, not the folder: the lesson's run
    under nbval covers them."""
    folder, chosen = messy_solar_cells
    notebook = nbformat.read(ROOT / "notebooks" / "09_your_own_images.ipynb", as_version=4)
    notebook.cells = [c for c in notebook.cells if not c.source.startswith("show_symptom(")]
    monkeypatch.setenv("COURSE_DATA", str(folder))
    backbone = default_backbone(folder)  # offline, as in `make test`: efficientnet_lite0
    with fresh_cache():
        NotebookClient(notebook, timeout=600, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    code = [c for c in notebook.cells if c.cell_type == "code"]
    for index, cell in enumerate(code):
        errors = [o for o in cell.outputs if o.output_type == "error"]
        expected = "raises-exception" in cell.metadata.get("tags", [])
        assert bool(errors) == expected, f"code cell {index}: {[e.ename + ': ' + e.evalue for e in errors]}"
    text = "\n".join(o.get("text", "") for c in code for o in c.outputs if o.output_type == "stream")
    assert f"2 classes, {sum(chosen.values()) + 4} image files" in text
    assert f"{CORRUPT_NAME}: OSError" in text and "(skipped)" in text
    assert f"backbone: {backbone}; weights: " in text and "trunk run once" in text
    assert "test accuracy, measured once" in text and "held-out images got their class" in text


def test_short_tracebacks_hide_the_code_torch_generates_at_run_time():
    from course_utils.paths import is_library_file
    assert is_library_file("<eval_with_key>.11") and is_library_file(torch.__file__)
    assert not is_library_file("/home/learner/my_notebook.py") and not is_library_file("<ipython-input-3>")


@pytest.mark.parametrize("name", ["class_weights", "confusion_matrix"])
def test_the_pointer_of_a_generic_mistake_shows_an_existing_entry(name):
    """An input changed in place is named `modified_input` by any checker; the pointer must run."""
    from course_utils import run_symptom
    def changes_its_input(*args):
        args[0].zero_() if isinstance(args[0], torch.Tensor) else args[0].clear()
        return torch.zeros(3)
    result = check_exercise(name, changes_its_input)
    assert result.mistake == "modified_input"
    call = result.message.split("See it happen: ")[1].strip()
    arguments = [part.strip(" '\")") for part in call.removeprefix("show_symptom(").split(",")]
    assert run_symptom(*arguments).broken is not None


@pytest.mark.parametrize("backbone", sorted(BACKBONES))
def test_trunk_then_body_then_head_is_the_whole_network(backbone):
    """The split the trunk cache relies on: the layers below the last block, then the rest, give the model's output."""
    model, _ = new_model(3, "course", backbone=backbone)
    parts = BACKBONES[backbone]
    model.eval()
    images = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        split = getattr(model, parts.head)(parts.body(model, parts.trunk(model, images)))
        assert torch.allclose(split, model(images), atol=1e-6)
        before = parts.trunk(model, images)
        for name, parameter in model.named_parameters():      # what the recipe trains moves: the trunk must not
            if name.startswith(parts.trained_prefixes()):
                parameter.add_(1.0)
        assert torch.equal(parts.trunk(model, images), before)
        assert not torch.allclose(model(images), split)


def test_the_trunk_run_once_gives_the_weights_of_running_every_image_every_epoch(small_run, whole_run, tmp_path):
    """With a transform that draws nothing at random, caching changes nothing: bit-identical weights and history."""
    cached, history = whole_run
    plain, reference = trained(small_run, tmp_path / "plain", cache=False)
    assert [row["train_loss"] for row in history] == [row["train_loss"] for row in reference]
    assert all(torch.equal(a, b) for a, b in zip(cached.state_dict().values(), plain.state_dict().values()))


def test_the_trunk_outputs_are_read_back_and_computed_again_when_an_image_changes(small_run, tmp_path, capsys):
    classes, splits, _, preset, _, _ = small_run
    files = tmp_path / "files"
    samples = []
    for index, (path, target) in enumerate(splits["train"] + splits["val"]):
        copy = files / f"{index:03d}{Path(path).suffix}"
        copy.parent.mkdir(exist_ok=True)
        copy.write_bytes(Path(path).read_bytes())
        samples.append((str(copy), target))
    cut = len(splits["train"])
    train, val = FileListDataset(samples[:cut], classes, preset), FileListDataset(samples[cut:], classes, preset)
    recipe = Recipe(head_epochs=1, block_epochs=0, batch_size=8)
    runs = []
    for change in (False, False, True):
        if change:
            Image.open(samples[0][0]).convert("RGB").rotate(90).save(samples[0][0])
        model, _ = new_model(len(classes), "course")
        runs.append(fit_recipe(model, train, val, recipe, tmp_path / "run", fresh=True, progress=False))
    out = capsys.readouterr().out
    assert out.count("trunk run once") == 2 and out.count("read from trunk-") == 1
    assert runs[0] == [{**row, "seconds": runs[0][i]["seconds"]} for i, row in enumerate(runs[1])]
    assert len(list((tmp_path / "run").glob("trunk-*.pt"))) == 1                # the old outputs are deleted


def test_the_cache_asks_for_datasets_of_files():
    from torch.utils.data import TensorDataset
    data = TensorDataset(torch.randn(4, 3, 32, 32), torch.tensor([0, 1, 0, 1]))
    model, _ = new_model(2, "course")
    with pytest.raises(ValueError, match="pass cache=False"):
        fit_recipe(model, data, data, Recipe(head_epochs=1, block_epochs=0), Path("/nonexistent/never"))


def test_a_learners_folder_gets_an_imagenet_backbone_never_the_shapes_one(messy, monkeypatch):
    from course_utils.models import finetunable
    monkeypatch.delenv("COURSE_DATA", raising=False)
    assert default_backbone(images_folder()) == "resnet18"               # the course's images: its usual network
    monkeypatch.setenv("COURSE_DATA", str(messy))
    monkeypatch.setenv("COURSE_WEIGHTS", "course")                      # resnet18 would be the shapes backbone
    assert default_backbone(messy) == "efficientnet_lite0"
    monkeypatch.setenv("COURSE_WEIGHTS", "auto")
    monkeypatch.setattr(finetunable, "imagenet_cache_file", lambda: Path(__file__))  # ImageNet ResNet-18 on disk
    assert default_backbone(messy) == "resnet18"
    monkeypatch.setattr(finetunable, "imagenet_cache_file", lambda: Path("/nonexistent/resnet18.pth"))
    def offline(mode, progress=True):
        raise RuntimeError("could not be downloaded")
    monkeypatch.setattr(finetunable, "resolve_weights", offline)
    assert default_backbone(messy) == "efficientnet_lite0"


def test_the_reports_are_printed_from_the_runs_numbers():
    from course_utils.training.run_report import predictions_report, rare_class_report, run_report
    history = [{"epoch": 1, "phase": "head", "val_accuracy": 0.5}, {"epoch": 2, "phase": "last block",
                                                                       "val_accuracy": 0.75}]
    lines = run_report(history, 2, 0.8, 100)
    assert "reached 0.500" in lines[0] and "the best was 0.750" in lines[0] and "epoch 2 (last block phase)" in lines[1]
    assert "±0.080" in lines[2] and "inside" in lines[2]
    assert "outside" in run_report(history, 2, 0.95, 1000)[2] and "rule of three" in run_report(history, 2, 1.0, 50)[2]
    rows = [{"file": "a", "class": "x", "probability": 0.9, "low_confidence": False},
            {"file": "b", "class": "x", "probability": 0.5, "low_confidence": True},
            {"file": "photo.jpg", "class": "y", "probability": 0.7, "low_confidence": False},
            {"file": "broken", "class": "", "probability": "", "low_confidence": ""}]
    lines = predictions_report(rows, {"a": "x", "b": "y"}, 0.6)
    assert lines[0].startswith("* 1 of the 2 held-out images got their class; of the 1 mistake, 1 flagged")
    assert "'y' at 0.70: NOT flagged" in lines[1] and lines[2].startswith("* 1 unreadable file:")
    recalls = torch.full((2, 3, 2), 0.9)                                  # [rare class, seed, class]
    plain = recalls.clone()
    plain[0, :, 0], plain[1, :, 1] = 0.3, 0.5
    better = plain.clone()
    better[0, :, 0], better[1, :, 1] = 0.5, 0.6
    lines = rare_class_report({"all images": recalls, "plain": plain, "weighted loss": better,
                               "weighted sampler": plain}, ["a", "b"], keep=3)
    assert "0.900 of the time" in lines[0] and "0.400 of the time" in lines[0]
    assert "+0.150 ± 0.050 (z = +3.0, more than noise" in lines[1] and "no z" in lines[2]
    assert "'b' is still recognised 0.50" in lines[3] and "'a' 0.30" in lines[3]


def test_the_range_test_stops_where_the_loss_breaks_and_the_schedules_pair_up():
    from torch.utils.data import TensorDataset
    from course_utils.training.rates import lr_sweep, schedule_study
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 3, (240,), generator=g)
    x = torch.randn(240, 8, generator=g)
    x[:, 0] += 2 * y
    rates, losses = lr_sweep(TensorDataset(x, y), 3, start=1e-5, end=1e3, steps=120)
    assert rates[0] == pytest.approx(1e-5) and all(b > a for a, b in zip(rates, rates[1:]))
    assert len(rates) < 120 and losses[-1] > 4 * min(losses)           # it stopped once the loss broke
    assert min(losses) < 0.8 * losses[0]                                # and the loss fell on the way
    study = schedule_study(TensorDataset(x[:160], y[:160]), TensorDataset(x[160:], y[160:]), 3, epochs=4, lr=1e-2)
    assert {row.strategy for row in study.summary()} == {"cosine", "constant"}
    gap = study.gap("cosine", "constant")
    assert gap.seeds == 3 and math.isfinite(gap.standard_error)
    again = schedule_study(TensorDataset(x[:160], y[:160]), TensorDataset(x[160:], y[160:]), 3, epochs=4, lr=1e-2)
    assert again.gap("cosine", "constant") == gap                       # seeded: the same runs again


def test_a_recipe_refuses_an_unknown_schedule_and_a_constant_one_keeps_its_rates():
    from course_utils.training.recipe import phase_optimizer, set_phase
    with pytest.raises(ValueError, match="choose one of 'cosine', 'constant'"):
        Recipe(schedule="linear")
    model, _ = new_model(2, "course")
    set_phase(model, "last block")
    cosine = (1 + math.cos(math.pi / 4)) / 2                             # one epoch of 4 along the cosine
    for schedule, after in (("constant", [1e-3, 1e-4]), ("cosine", [1e-3 * cosine, 1e-4 * cosine])):
        optimizer, scheduler = phase_optimizer(model, Recipe(schedule=schedule, block_epochs=4), "last block")
        optimizer.step()
        scheduler.step()
        assert [group["lr"] for group in optimizer.param_groups] == pytest.approx(after)
