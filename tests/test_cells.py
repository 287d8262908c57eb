"""Lesson 10's measurements (course_utils/training/cells.py) on stand-in features and pixels: the splits, the floor,
heads chosen on validation only, the small CNN with TTA, paired gaps, the threshold study, the figures; presizing
and features of chosen cells."""
import math

import matplotlib
import numpy as np
import pytest
import torch
from PIL import Image

from course_utils.data.elpv import SolarCells, presized
from course_utils.training import cell_analysis, cell_plots, cells as benchmark

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def data():
    cells, levels = SolarCells("binary"), SolarCells("levels")
    return cells, levels, benchmark.Splits.draw(cells, seeds=(0, 1))


def _features(cells, noise: float, seed: int = 0) -> torch.Tensor:
    """Stand-in features: the defect level plus Gaussian noise in the first column, noise elsewhere."""
    g = torch.Generator().manual_seed(seed)
    levels = torch.tensor([round(p * 3) for p in cells.probabilities], dtype=torch.float)
    x = torch.randn(len(cells), 6, generator=g)
    x[:, 0] = levels + noise * x[:, 0]
    return x


def test_the_splits_nest_validation_in_training_and_keep_test_apart(data):
    cells, _, splits = data
    truth = torch.tensor(cells.targets)
    for split in splits.by_seed.values():
        train, fit, val, test = (set(split[k].tolist()) for k in ("train", "fit", "val", "test"))
        assert (len(train), len(fit), len(val), len(test)) == (1968, 1476, 492, 656)
        assert fit | val == train and not fit & val and not train & test
        assert abs(truth[split["val"]].float().mean() - truth[split["test"]].float().mean()) < 0.01
    assert not torch.equal(splits.by_seed[0]["test"], splits.by_seed[1]["test"])


def test_the_floor_finds_nothing_and_scores_the_majority_share(data):
    cells, levels, splits = data
    floor = benchmark.floor_arm(cells, levels, splits)
    truth = torch.tensor(cells.targets)
    for s in floor.seeded:
        assert s.result.accuracy == pytest.approx(1 - truth[s.test].float().mean().item())
        assert s.result.balanced_accuracy == 0.5 and s.result.recall == 0 and math.isnan(s.result.precision)
    assert math.isnan(floor.mean("precision")[0])


def test_a_head_learns_what_the_features_hold_and_chooses_on_validation_only(data, monkeypatch):
    cells, levels, splits = data
    seen = []
    original = benchmark._choose

    def spy(features, y, split, weights, k):
        seen.append(set(split["test"].tolist()))
        return original(features, y, {"fit": split["fit"], "val": split["val"]}, weights, k)  # no test cells

    monkeypatch.setattr(benchmark, "_choose", spy)
    clean = benchmark.probe_arm("clean", _features(cells, 0.05), cells, levels, splits, progress=False)
    noisy = benchmark.probe_arm("noisy", _features(cells, 3.0), cells, levels, splits, progress=False)
    assert len(seen) == 4
    assert clean.mean("accuracy")[0] > 0.97 and clean.mean("levels_accuracy")[0] > 0.75   # the floor: 0.575
    assert noisy.mean("accuracy")[0] < clean.mean("accuracy")[0] - 0.05
    assert all(s.validation is not None and s.validation.accuracy > 0.9 for s in clean.seeded)
    gap = benchmark.comparison([clean, noisy], cells).gap("clean", "noisy")
    assert gap.verdict == "ahead" and gap.seeds == 2


def test_four_level_targets_and_class_weights_give_binary_predictions(data):
    cells, levels, splits = data
    x = _features(cells, 0.3)
    for weighted, targets in ((True, "binary"), (False, "levels"), (True, "levels")):
        arm = benchmark.probe_arm("x", x, cells, levels, splits, weighted=weighted, targets=targets, progress=False)
        for s in arm.seeded:
            assert set(s.preds.unique().tolist()) <= {0, 1} and len(s.preds) == 656
            assert ((s.defect_probability >= 0) & (s.defect_probability <= 1)).all()


def test_class_weights_make_each_class_weigh_the_same_in_total():
    from course_utils.data.imbalance import class_weights

    targets = torch.tensor([0] * 90 + [1] * 10 + [2] * 20)
    weights = class_weights(targets, 3)
    totals = [weights[k] * (targets == k).sum() for k in range(3)]
    assert torch.allclose(torch.stack(totals), torch.full((3,), 40.0))


def test_the_small_cnn_trains_from_pixels_and_tta_averages_the_symmetries(data):
    cells, _, splits = data
    g = torch.Generator().manual_seed(0)
    pixels = torch.randint(0, 256, (len(cells), 1, 8, 8), dtype=torch.uint8, generator=g)
    pixels[torch.tensor(cells.targets) == 1, :, 2:6, 2:6] = 0            # a dark square marks a defective cell
    plain, tta = benchmark.scratch_arm(pixels, cells, splits, epochs=2, progress=False)
    again, _ = benchmark.scratch_arm(pixels, cells, splits, epochs=2, progress=False)
    assert plain.name + " + TTA" == tta.name
    assert all(torch.equal(a.preds, b.preds) for a, b in zip(plain.seeded, again.seeded))
    assert plain.mean("accuracy")[0] > 0.9                               # the mark is easy to learn
    assert any(not torch.equal(a.defect_probability, b.defect_probability) for a, b in zip(plain.seeded, tta.seeded))


def test_the_threshold_chosen_on_validation_is_checked_on_the_test_cells(data):
    cells, _, splits = data
    study = cell_analysis.threshold_study(_features(cells, 1.0), cells, splits, recall=0.9)
    for choice in study:
        assert choice.at_test_choice.recall >= 0.9                       # by construction
        assert choice.at_validation_choice.recall > 0.75
        assert choice.at_validation_choice.recall >= choice.at_half.recall   # a lower threshold than 0.5
        assert choice.at_validation_choice.precision <= choice.at_half.precision + 1e-9


def test_uncertain_levels_and_types_are_reported_for_every_test_cell(data):
    cells, levels, splits = data
    arm = benchmark.probe_arm("x", _features(cells, 0.5), cells, levels, splits, targets="levels", progress=False)
    groups = cell_analysis.by_level(arm, levels)
    assert list(groups) == levels.classes and sum(map(len, groups.values())) == 2 * 656
    assert sum(groups["3_of_3"]) / len(groups["3_of_3"]) > sum(groups["0_of_3"]) / len(groups["0_of_3"])
    assert set(cell_analysis.per_type(arm, cells)) == {"mono", "poly"}
    assert "paper: VGG-19" in benchmark.table([arm])


def test_the_figures_draw_without_a_display(data, monkeypatch):
    cells, levels, splits = data
    drawn = []
    monkeypatch.setattr(cell_plots, "show_figure", lambda figure, colors=128: drawn.append(figure))
    arm = benchmark.probe_arm("x", _features(cells, 0.5), cells, levels, splits, progress=False)
    cell_plots.plot([benchmark.floor_arm(cells, levels, splits), arm], "title")
    cell_plots.plot_threshold(cell_analysis.threshold_study(_features(cells, 1.0), cells, splits)[0])
    cell_plots.plot_by_level(cell_analysis.by_level(arm, levels), "title")
    cell_plots.show_cams(torch.rand(3, 3, 16, 16), torch.rand(3, 4, 4), ["a", "b", "c"], mean=0.5, std=0.25)
    cell_plots.show_examples(levels, per_level=2, pixels=32)
    assert len(drawn) == 5


def test_presized_cells_are_decoded_once_and_match_the_images(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))
    pixels = presized(12, progress=False)
    assert pixels.shape == (2624, 1, 12, 12) and pixels.dtype == torch.uint8
    assert torch.equal(presized(12, progress=False), pixels) and len(list(tmp_path.rglob("pixels-12px-*.pt"))) == 1
    image, _ = SolarCells()[5]
    small = torch.from_numpy(np.asarray(image.convert("L").resize((12, 12), Image.Resampling.BILINEAR,
                                                                   reducing_gap=None)).copy())
    assert torch.equal(small, pixels[5, 0])                              # the sixth cell, in labels.csv order


def test_features_of_chosen_cells_leave_the_random_stream_alone_and_a_classifier_reproduces_a_head():
    from course_utils.models.cell_features import cell_classifier, features_of_cells

    torch.manual_seed(123)
    state = torch.get_rng_state()
    x, _ = features_of_cells("random", 32, indices=[4, 0, 9])
    assert torch.equal(torch.get_rng_state(), state)
    again, _ = features_of_cells("random", 32, indices=[4, 0, 9])
    assert x.shape == (3, 512) and torch.equal(x, again)
    head = torch.nn.Linear(512, 2)
    model, preset = cell_classifier("random", 32, head)
    images = torch.stack([SolarCells(transform=preset)[i][0] for i in (4, 0, 9)])
    with torch.no_grad():
        assert torch.allclose(model(images), head(x), atol=1e-5)


def test_imagenet_features_from_the_cached_trunk_are_those_of_one_whole_pass():
    """Lite0's trunk, then its last block and pooling: bit for bit the features of the whole frozen network."""
    from torch.utils.data import DataLoader, Subset
    from course_utils.models.cell_features import _Trunk, _body_of, features_of_cells, lite0_for_cells
    from course_utils.models.features import extract_features
    from course_utils.models.pretrained import Preset
    chosen = [7, 3, 2000, 11]
    whole, _ = features_of_cells("imagenet", 64, indices=chosen)
    model, preset = lite0_for_cells()
    preset = Preset(crop_size=64, resize_size=64, mean=preset.mean, std=preset.std, interpolation=preset.interpolation)
    trunk = extract_features(_Trunk(model), DataLoader(Subset(SolarCells(transform=preset), chosen), batch_size=64),
                             channels_last=True).tensors[0]
    assert trunk.shape == (4, 192, 2, 2) and torch.equal(_body_of(trunk)[0], whole)


def test_the_fine_tuned_arm_learns_keeps_the_epoch_validation_chose_and_is_reproducible(data):
    """Stand-in trunk outputs that carry the level, on a few hundred cells of each split: the arm learns, chooses an
    epoch from 1 to 3 on validation, reports that epoch's validation score, and gives the same numbers twice."""
    from course_utils.training.cell_finetune import LITE0, finetune_arm
    from course_utils.models.cell_features import lite0_for_cells
    cells, levels, drawn = data
    splits = benchmark.Splits({seed: {name: index[:300] for name, index in split.items()}
                               for seed, split in drawn.by_seed.items() if seed == 0})
    g = torch.Generator().manual_seed(0)
    level = torch.tensor([round(p * 3) for p in cells.probabilities], dtype=torch.float)
    trunk = torch.randn(len(cells), 192, 2, 2, generator=g) * 0.5
    trunk[:, :64] += 2 * level.view(-1, 1, 1, 1)                         # the defect level in 64 channels
    model, _ = lite0_for_cells()
    with torch.no_grad():
        features = torch.cat([LITE0.body(model, chunk) for chunk in trunk.split(256)])
    arms = [finetune_arm("tuned", trunk, features, cells, levels, splits, epochs=3, progress=False) for _ in range(2)]
    for seeded in arms[0].seeded:
        epoch = int(seeded.settings.split()[1])
        assert 1 <= epoch <= 3 and seeded.validation.balanced_accuracy > 0.6 and seeded.result.accuracy > 0.75
        assert math.isnan(seeded.levels_accuracy)                       # binary targets: no level predicted
    assert [s.result for s in arms[0].seeded] == [s.result for s in arms[1].seeded]
    levels_arm = finetune_arm("tuned", [trunk, trunk.flip(-1)], features, cells, levels, splits, epochs=1,
                              targets="levels", tta=True, progress=False)
    assert all(0 <= s.levels_accuracy <= 1 for s in levels_arm.seeded)
