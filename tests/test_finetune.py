"""The comparison machinery of lesson 07: splitting a ResNet, parameter groups, cached training, summaries."""
import math

import pytest
import torch
from torch.utils.data import TensorDataset
from torchvision.models import ResNet18_Weights, resnet18

from course_utils.comparison import Comparison, compare, verdicts
from course_utils.finetune import (STRATEGIES, ComparisonData, Run, Strategy, backbone_state, fine_tune, new_model,
                                   param_groups, train_strategy)
from course_utils.models import split_resnet
from course_utils.pretrained import course_weights, training_transforms


@pytest.fixture(scope="module")
def data():
    g = torch.Generator().manual_seed(0)
    images, labels = torch.randn(24, 3, 32, 32, generator=g), torch.arange(24) % 3
    torch.manual_seed(0)
    return ComparisonData(TensorDataset(images[:16], labels[:16]), TensorDataset(images[16:], labels[16:]),
                          num_classes=3, pretrained_state=backbone_state(resnet18()), batch_size=8)


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
    assert sum(run.val_correct) / len(run.val_correct) == run.val_accuracy[-1]
    assert run.drift == 0 and run.drift_layer4 > 0


def test_frozen_batchnorm_left_training_cannot_be_cached(data):
    with pytest.raises(ValueError, match="cached=False"):
        fine_tune(data, STRATEGIES[2], seed=0, epochs=1, frozen_bn="train")
    model, _ = fine_tune(data, STRATEGIES[2], seed=0, epochs=1, cached=False, frozen_bn="train")
    assert not torch.equal(model.layer1[0].bn1.running_mean, data.pretrained_state["layer1.0.bn1.running_mean"])


def test_training_every_layer_moves_layer1(data):
    run = train_strategy(data, STRATEGIES[-1], seed=0, epochs=1)
    assert run.drift > 0 and len(run.val_accuracy) == 1


def test_comparison_summarises_every_strategy_over_seeds(data):
    comparison = compare(data, STRATEGIES[:2], seeds=(0, 1), epochs=1, progress=False)
    assert comparison.strategies == ["scratch", "head only"]
    row = comparison["head only"]
    finals = [r.val_accuracy[-1] for r in comparison.runs if r.strategy == "head only"]
    assert row.final == finals and math.isclose(row.mean, sum(finals) / 2)
    assert "head only" in comparison.table() and "±" in comparison.table()
    assert any(line.startswith("transfer vs scratch") for line in verdicts(comparison))
    with pytest.raises(KeyError, match="scratch, head only"):
        comparison["last block"]


def _run(name, seed, correct):
    return Run(name, seed, [0.0], [sum(correct) / len(correct)], correct, 1.0, 0.1, 0.2)


def test_summary_statistics_are_mean_and_sample_std():
    runs = [_run("a", seed, [True] * k + [False] * (10 - k)) for seed, k in enumerate((8, 9, 10))]
    row = Comparison(runs, epochs=1)["a"]
    assert math.isclose(row.mean, 0.9) and math.isclose(row.std, 0.1)


def test_paired_gap_against_a_direct_computation():
    g = torch.Generator().manual_seed(0)
    a = [(torch.rand(50, generator=g) < 0.8).tolist() for _ in range(3)]
    b = [(torch.rand(50, generator=g) < 0.6).tolist() for _ in range(3)]
    comparison = Comparison([_run("a", s, a[s]) for s in range(3)] + [_run("b", s, b[s]) for s in range(3)], 1)
    differences = (torch.tensor(a, dtype=torch.float) - torch.tensor(b, dtype=torch.float)).mean(0)
    gap = comparison.gap("a", "b")
    assert math.isclose(gap.gap, differences.mean().item(), abs_tol=1e-6)
    assert math.isclose(gap.standard_error, differences.std().item() / math.sqrt(50), rel_tol=1e-5)
    assert gap.seeds == 3 and gap.verdict in ("ahead", "within noise")
    same = Comparison([_run("a", 0, a[0]), _run("b", 0, a[0])], 1).gap("a", "b")
    assert same.gap == 0 and same.verdict == "within noise"


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
