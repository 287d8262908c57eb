"""The comparison machinery of lesson 07: splitting a ResNet, parameter groups, cached training, summaries."""
import dataclasses
import math

import pytest
import torch
from torch.utils.data import TensorDataset
from torchvision.models import ResNet18_Weights, resnet18

from course_utils.training.comparison import Comparison, cached_comparison_path, compare, verdicts
from course_utils.training.finetune import (STRATEGIES, ComparisonData, Run, Strategy, augmented, backbone_state,
                                            fine_tune, new_model, param_groups, strategy_named,
                                            train_strategy)
from course_utils.models.heads import split_resnet
from course_utils.models.pretrained import course_weights, training_transforms


@pytest.fixture(scope="module")
def data():
    g = torch.Generator().manual_seed(0)
    images, labels = torch.randn(24, 3, 32, 32, generator=g), torch.arange(24) % 3
    torch.manual_seed(0)
    return ComparisonData(TensorDataset(images[:16], labels[:16]), TensorDataset(images[16:], labels[16:]),
                          num_classes=3, pretrained_state=backbone_state(resnet18()), batch_size=8,
                          augmented_train=_Flipped(TensorDataset(images[:16], labels[:16])))


class _Flipped(torch.utils.data.Dataset):
    """The training tensors, each flipped left-right with probability 1/2 (drawn from torch's global stream)."""

    def __init__(self, base):
        self.base = base

    def __len__(self):
        return len(self.base)

    def __getitem__(self, index):
        image, label = self.base[index]
        return (image.flip(-1) if torch.rand(()) < 0.5 else image), label


def test_a_strategy_is_found_by_name_and_a_wrong_name_lists_the_valid_ones():
    assert strategy_named("last block + head") is STRATEGIES[2]
    with pytest.raises(KeyError, match="'two-phase'"):
        strategy_named("two phase")


@pytest.mark.parametrize("at", ["layer1", "layer3", "layer4", "avgpool", "fc"])
def test_split_resnet_computes_the_same_as_the_model(at):
    model = resnet18(num_classes=7).eval()
    x = torch.randn(2, 3, 40, 40)
    below, above = split_resnet(model, at)
    with torch.no_grad():
        assert torch.allclose(above(below(x)), model(x), atol=1e-5)
    assert all(any(p is q for q in model.parameters()) for p in above.parameters())  # shared, not copied


def test_split_resnet_lists_the_valid_cut_points():
    with pytest.raises(ValueError, match="layer4"):
        split_resnet(resnet18(), "layer5")


def test_strategy_rejects_an_unknown_part():
    with pytest.raises(ValueError, match="head, layer4, all"):
        Strategy("odd", pretrained=True, trains="layer2", head_lr=1e-3)


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: s.name)
def test_new_model_trains_what_the_strategy_says_and_groups_it(data, strategy):
    model = new_model(data, strategy, seed=0)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    expected = {"head": ("fc.",), "layer4": ("fc.", "layer4."), "all": ("",)}[strategy.trains]
    assert trainable == {n for n, _ in model.named_parameters() if n.startswith(expected)}
    groups = param_groups(model, strategy.head_lr, strategy.backbone_lr)
    held = [id(p) for g in groups for p in g["params"]]
    assert sorted(held) == sorted(id(p) for p in model.parameters() if p.requires_grad)
    head = {id(p) for p in model.fc.parameters()}
    for group in groups:
        want = strategy.head_lr if all(id(p) in head for p in group["params"]) else strategy.backbone_lr
        assert math.isclose(group["lr"], want)
    if strategy.pretrained:
        assert torch.equal(model.conv1.weight, data.pretrained_state["conv1.weight"])


@pytest.mark.parametrize("strategy", STRATEGIES[1:3], ids=lambda s: s.name)
def test_cached_training_gives_the_same_run_as_training_through_the_network(data, strategy):
    cached = train_strategy(data, strategy, seed=1, epochs=2, cached=True)
    through = train_strategy(data, strategy, seed=1, epochs=2, cached=False)
    assert cached.val_accuracy == through.val_accuracy and cached.train_accuracy == through.train_accuracy
    assert cached.val_correct == through.val_correct
    assert cached.drift == through.drift == 0.0                 # layer1 is frozen in both


def test_fine_tune_returns_the_model_in_eval_mode_with_its_final_correctness(data):
    model, run = fine_tune(data, STRATEGIES[2], seed=0, epochs=1)
    assert not any(m.training for m in model.modules())
    assert sum(run.val_correct) / len(run.val_correct) == run.accuracy
    watched = data.watched().tolist()
    assert sum(run.val_correct[i] for i in watched) / len(watched) == run.val_accuracy[-1]
    assert run.drift == 0 and run.drift_layer4 > 0


@pytest.mark.parametrize("strategy", [STRATEGIES[-1], STRATEGIES[3]], ids=lambda s: s.name)
def test_watching_fewer_validation_images_changes_the_curve_not_the_run(data, strategy):
    every = dataclasses.replace(data, watch_per_class=None, _cache={})
    few = dataclasses.replace(data, watch_per_class=1, _cache={})
    assert every.watched().tolist() == list(range(len(data.val))) and few.watched().tolist() == [0, 1, 2]
    all_seen = train_strategy(every, strategy, seed=0, epochs=4, progress=False)
    one_each = train_strategy(few, strategy, seed=0, epochs=4, progress=False)
    assert one_each.val_correct == all_seen.val_correct and one_each.accuracy == all_seen.accuracy
    assert one_each.train_accuracy == all_seen.train_accuracy and one_each.drift == all_seen.drift
    assert all(a in (0, 1 / 3, 2 / 3, 1) for a in one_each.val_accuracy)


def test_frozen_batchnorm_left_training_cannot_be_cached(data):
    with pytest.raises(ValueError, match="cached=False"):
        fine_tune(data, STRATEGIES[2], seed=0, epochs=1, frozen_bn="train")
    model, _ = fine_tune(data, STRATEGIES[2], seed=0, epochs=1, cached=False, frozen_bn="train")
    assert not torch.equal(model.layer1[0].bn1.running_mean, data.pretrained_state["layer1.0.bn1.running_mean"])


def test_training_every_layer_moves_layer1(data):
    run = train_strategy(data, STRATEGIES[-1], seed=0, epochs=1)
    assert run.drift > 0 and len(run.val_accuracy) == 1


def test_comparison_summarises_every_strategy_over_seeds(data):
    comparison = compare(data, STRATEGIES[:2], seeds=(0, 1), epochs=1, progress=False, workers=1)
    assert comparison.strategies == ["scratch", "head only"]
    row = comparison["head only"]
    finals = [sum(r.val_correct) / len(r.val_correct) for r in comparison.runs if r.strategy == "head only"]
    assert row.final == finals and math.isclose(row.mean, sum(finals) / 2)
    assert "head only" in comparison.table() and "±" in comparison.table()
    assert any(line.startswith("transfer vs scratch") for line in verdicts(comparison))
    with pytest.raises(KeyError, match="scratch, head only"):
        comparison["last block"]


def _run(name, seed, correct):
    return Run(name, seed, [0.0], [sum(correct) / len(correct)], correct, 1.0, 0.1, 0.2)


def _two_strategies(seed: int):
    """Correctness of strategies "a" (80 % right) and "b" (60 %) on 50 images for 3 seeds, and their Comparison."""
    g = torch.Generator().manual_seed(seed)
    a = [(torch.rand(50, generator=g) < 0.8).tolist() for _ in range(3)]
    b = [(torch.rand(50, generator=g) < 0.6).tolist() for _ in range(3)]
    return a, b, Comparison([_run("a", s, a[s]) for s in range(3)] + [_run("b", s, b[s]) for s in range(3)], 1)


def test_summary_statistics_are_mean_and_sample_std():
    runs = [_run("a", seed, [True] * k + [False] * (10 - k)) for seed, k in enumerate((8, 9, 10))]
    row = Comparison(runs, epochs=1)["a"]
    assert math.isclose(row.mean, 0.9) and math.isclose(row.std, 0.1)


def test_paired_gap_adds_the_image_and_the_seed_components():
    a, b, comparison = _two_strategies(seed=0)
    differences = torch.tensor(a, dtype=torch.float) - torch.tensor(b, dtype=torch.float)  # [seed, image]
    per_image, per_seed = differences.mean(0), differences.mean(1)
    gap = comparison.gap("a", "b")
    assert math.isclose(gap.gap, per_image.mean().item(), abs_tol=1e-6)
    assert math.isclose(gap.image_error, per_image.std().item() / math.sqrt(50), rel_tol=1e-5)
    assert math.isclose(gap.seed_error, per_seed.std().item() / math.sqrt(3), rel_tol=1e-5)
    assert math.isclose(gap.standard_error, math.hypot(gap.image_error, gap.seed_error), rel_tol=1e-9)
    assert math.isclose(gap.z, gap.gap / gap.standard_error) and gap.seeds == 3
    assert gap.verdict == ("ahead" if gap.z > 2 else "within noise")
    same = Comparison([_run("a", 0, a[0]), _run("b", 0, a[0])], 1).gap("a", "b")
    assert same.gap == 0 and same.z == 0 and same.verdict == "within noise"


def test_the_gap_picture_draws_the_comparisons_own_numbers(monkeypatch):
    import matplotlib

    from course_utils import plots
    from course_utils.training.gap_plot import plot_gap

    matplotlib.use("Agg")
    shown = []
    monkeypatch.setattr(plots, "show_figure", lambda figure, **_: shown.append(figure))
    _, _, comparison = _two_strategies(seed=1)
    plot_gap(comparison, "a", "b")
    gap = comparison.gap("a", "b")
    seeds, band = shown[0].axes
    assert f"z = {gap.z:+.2f}" in band.get_title() and gap.verdict in band.get_title()
    assert [label.get_text() for label in band.get_yticklabels()] == ["SE from images", "SE from seeds", "SE from both"]
    assert len(seeds.lines) >= 3  # one line per seed


def test_seeds_that_disagree_widen_the_error_and_can_cancel_a_verdict():
    # On each seed a beats b on 20 of 200 images, and on one seed b beats a on 40 others: every image alone is
    # a small, consistent-looking difference, but the seeds disagree, so the seed component must show it.
    n = 200
    b = [[False] * n for _ in range(3)]
    a = [[i < 20 for i in range(n)], [i < 20 for i in range(n)], [False] * n]
    b[2] = [20 <= i < 60 for i in range(n)]
    comparison = Comparison([_run("a", s, a[s]) for s in range(3)] + [_run("b", s, b[s]) for s in range(3)], 1)
    gap = comparison.gap("a", "b")
    assert gap.seed_error > gap.image_error
    images_only = abs(gap.gap) / gap.image_error
    assert abs(gap.z) < images_only and gap.verdict == "within noise"


def test_two_phase_trains_the_head_alone_first_then_the_last_block(data):
    two_phase = strategy_named("two-phase")
    assert two_phase.phases(10) == [("head", 3), ("layer4", 7)]
    head_only = train_strategy(data, strategy_named("head only"), seed=2, epochs=2)
    run = train_strategy(data, two_phase, seed=2, epochs=4)
    assert len(run.val_accuracy) == 4 and run.drift == 0 and run.drift_layer4 > 0
    # nothing outside the head moves in the first phase: its first epochs are head-only training, number for number
    phase_one = train_strategy(data, Strategy("first", True, "layer4", 1e-3, 1e-4, head_epochs=2), seed=2, epochs=3)
    assert phase_one.val_accuracy[:2] == head_only.val_accuracy and phase_one.train_accuracy[:2] == head_only.train_accuracy


@pytest.mark.parametrize("bad", [dict(trains="head", head_epochs=2), dict(trains="layer4", head_epochs=-1)])
def test_a_head_first_phase_needs_something_to_open_after_it(bad):
    with pytest.raises(ValueError, match="head_epochs"):
        Strategy("odd", pretrained=True, head_lr=1e-3, **bad)
    with pytest.raises(ValueError, match="no epoch"):
        strategy_named("two-phase").phases(3)


def test_two_phase_cached_equals_two_phase_through_the_network(data):
    cached = train_strategy(data, strategy_named("two-phase"), seed=1, epochs=4, cached=True)
    through = train_strategy(data, strategy_named("two-phase"), seed=1, epochs=4, cached=False)
    assert cached.val_accuracy == through.val_accuracy and cached.val_correct == through.val_correct


def test_an_augmented_strategy_trains_on_new_draws_and_is_reproducible(data):
    arm = augmented(strategy_named("last block + head"))
    assert arm.name == "last block + head, augmented" and arm.augment and arm.trains == "layer4"
    plain = train_strategy(data, strategy_named("last block + head"), seed=0, epochs=2)
    once, again = (train_strategy(data, arm, seed=0, epochs=2) for _ in range(2))
    assert once == dataclasses.replace(again, seconds=once.seconds)   # same seed, same run
    assert once.drift == 0 and once.drift_layer4 > 0 and once.drift_layer4 != plain.drift_layer4
    without = ComparisonData(data.train, data.val, data.num_classes, data.pretrained_state)
    with pytest.raises(ValueError, match="augmented_train"):
        train_strategy(without, arm, seed=0, epochs=1)


def test_the_high_rate_arms_change_only_the_backbone_rate():
    assert strategy_named("last block, high lr").head_lr == strategy_named("last block + head").head_lr
    assert strategy_named("full, high lr").head_lr == strategy_named("full, low lr").head_lr
    assert strategy_named("full, high lr").backbone_lr > strategy_named("full, low lr").backbone_lr


def test_compare_augments_the_best_pretrained_strategy_from_the_same_seeds(data):
    strategies = [strategy_named("scratch"), strategy_named("head only"), strategy_named("last block + head")]
    comparison = compare(data, strategies, seeds=(0, 1), epochs=1, progress=False, augment_best=True, workers=1)
    best = comparison.best()
    assert comparison.strategies == ["scratch", "head only", "last block + head", f"{best}, augmented"]
    assert best != "scratch" and comparison[best].mean == max(comparison[n].mean for n in ("head only", "last block + head"))
    lines = verdicts(comparison)
    assert any(line.startswith(f"{best}, augmented vs {best}:") for line in lines)
    assert "comparisons at |z| > 2" in lines[-1] and "Corrected for" in lines[-1]


def test_training_transforms_shrink_only_oversized_presets_on_a_cpu():
    preset, note = training_transforms(ResNet18_Weights.DEFAULT, torch.device("cpu"))
    assert list(preset.crop_size) == [64] and "224" in note
    preset, note = training_transforms(ResNet18_Weights.DEFAULT, torch.device("cuda"))
    assert list(preset.crop_size) == [224] and note is None
    weights = course_weights(progress=False)
    preset, note = training_transforms(weights, torch.device("cpu"))
    assert preset.crop_size == [weights.meta["crop_size"]] and note is None


def test_backbone_state_leaves_out_the_head():
    state = backbone_state(resnet18())
    assert state and not any(k.startswith("fc.") for k in state)


def test_runs_in_worker_processes_give_the_numbers_of_one_process(data):
    # two-phase with one head-only epoch: both phases in 2 epochs (its 3 head epochs would need 4)
    two_phase = dataclasses.replace(strategy_named("two-phase"), head_epochs=1)
    strategies = [strategy_named("scratch"), strategy_named("head only"), two_phase]
    alone = compare(data, strategies, seeds=(0, 1), epochs=2, progress=False, augment_best=True, workers=1)
    side_by_side = compare(data, strategies, seeds=(0, 1), epochs=2, progress=False, augment_best=True, workers=2)
    assert len(alone.runs) == len(side_by_side.runs) == 8
    timeless = [dataclasses.replace(run, seconds=0.0) for run in alone.runs]
    assert [dataclasses.replace(run, seconds=0.0) for run in side_by_side.runs] == timeless
    assert [run.seed for run in alone.runs[-2:]] == [0, 1] and alone.strategies[-1].endswith(", augmented")


def test_data_that_cannot_go_to_a_worker_process_trains_in_this_one(data, capsys):
    local = ComparisonData(data.train, data.val, data.num_classes, data.pretrained_state, batch_size=8,
                           augmented_train=_Flipped(data.train))
    local.augmented_train.note = lambda: None  # a lambda cannot be pickled
    comparison = compare(local, [strategy_named("head only")], seeds=(0,), epochs=1, progress=False, workers=2)
    assert "one after another in this process" in capsys.readouterr().out and len(comparison.runs) == 1


def test_a_cached_comparison_is_loaded_instead_of_trained_again(data, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))
    strategies = [strategy_named("head only")]
    first = compare(data, strategies, seeds=(0,), epochs=1, progress=False, cache=True, workers=1)
    again = compare(data, strategies, seeds=(0,), epochs=1, progress=False, cache=True, workers=1)
    assert "Loaded from this machine's cache" in capsys.readouterr().out
    assert again.runs == first.runs
    other = cached_comparison_path(data, strategies, seeds=(0,), epochs=2)
    assert other != cached_comparison_path(data, strategies, seeds=(0,), epochs=1) and not other.exists()


def test_a_cell_that_needs_an_earlier_section_says_which():
    from course_utils.notebook import MissingStep, needs
    comparison = object()  # noqa: F841  (a local: needs looks at the notebook's globals, as a cell would)
    with pytest.raises(MissingStep, match="`comparison`, made by section 5"):
        needs("comparison", made_by="section 5")
    needs("pytest", made_by="the imports")  # defined: nothing happens
