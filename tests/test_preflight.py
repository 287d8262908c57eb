"""preflight: a correct set-up passes every check; each broken set-up fails exactly its own; nothing is changed."""
import copy

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from course_utils import preflight
from course_utils.data.generated import dataset_root, split_without
from course_utils.training.finetune import train_augmentation
from course_utils.preflight import CHECKS
from course_utils.models.pretrained import pretrained_resnet18
from course_utils.training.loop import frozen_batchnorm_to_eval

IDS = [mistake_id for mistake_id, _ in CHECKS]


def set_up(**change):
    """The course's way (frozen backbone, BatchNorm of frozen blocks in eval, AdamW over the head), then ``change``."""
    root = dataset_root()
    model, weights = pretrained_resnet18("course", progress=False)
    preset = weights.transforms()
    if change.get("optimizer_first"):
        early = torch.optim.AdamW(model.fc.parameters(), lr=1e-3)
    model.fc = nn.Linear(model.fc.in_features, change.get("outputs", 5))
    for name, parameter in model.named_parameters():
        parameter.requires_grad = name.startswith("fc.")
    model.train()
    if not change.get("bn_train"):
        frozen_batchnorm_to_eval(model)
    val_tf = change.get("val_tf", preset)
    val_root = change.get("val_root", root / "val")
    train_loader = DataLoader(datasets.ImageFolder(root / "train", transform=train_augmentation(preset)),
                              batch_size=20, shuffle=True)
    val_loader = DataLoader(datasets.ImageFolder(val_root, transform=val_tf), batch_size=50)
    params = list(model.parameters()) if change.get("all_params") else [p for p in model.parameters() if p.requires_grad]
    optimizer = change.get("make_optimizer", lambda ps: torch.optim.AdamW(ps, lr=1e-3, weight_decay=1e-4))(params)
    if change.get("optimizer_first"):
        optimizer = early
    if change.get("duplicate"):
        optimizer = torch.optim.AdamW([model.fc.weight], lr=1e-3)
        optimizer.add_param_group({"params": [model.fc.bias], "lr": 1e-4})
        optimizer.param_groups[1]["params"].append(model.fc.weight)  # torch refuses this in add_param_group
    return model, train_loader, val_loader, optimizer, weights


def failed(findings):
    return sorted(f.id for f in findings if not f.ok)


def test_the_course_set_up_passes_every_check(capsys):
    findings = preflight(*set_up())
    assert [f.id for f in findings] == IDS and failed(findings) == []
    out = capsys.readouterr().out
    assert out.count("✔") == len(IDS) and "10 of 10 checks passed." in out


BROKEN = {
    "kept_1000_outputs": dict(outputs=16),
    "skip_normalization": dict(val_tf=transforms.Compose([transforms.Resize(56), transforms.CenterCrop(56),
                                                          transforms.ToTensor()])),
    "wrong_normalization": dict(val_tf=transforms.Compose([transforms.Resize(56), transforms.CenterCrop(56),
                                                           transforms.ToTensor(), transforms.Normalize([0.5] * 3, [0.5] * 3)])),
    "bn_stats_drift": dict(bn_train=True),
    "includes_frozen_params": dict(all_params=True),
    "optimizer_before_head_replacement": dict(optimizer_first=True),
    "duplicate_params": dict(duplicate=True),
    "lr_too_high": dict(make_optimizer=lambda ps: torch.optim.SGD(ps, lr=100.0)),
}


@pytest.mark.parametrize("mistake_id", sorted(BROKEN))
def test_a_broken_set_up_fails_exactly_its_check(mistake_id):
    findings = preflight(*set_up(**BROKEN[mistake_id]), show=False)
    assert failed(findings) == [mistake_id], [f.line for f in findings if not f.ok]


def test_a_random_validation_transform_is_found():
    model, train_loader, _, optimizer, weights = set_up()
    augmenting = DataLoader(datasets.ImageFolder(dataset_root() / "val", transform=train_augmentation(weights.transforms())))
    findings = preflight(model, train_loader, augmenting, optimizer, weights, show=False)
    assert failed(findings) == ["augment_validation"]


def test_a_loss_that_does_not_move_is_found():
    findings = preflight(*set_up(make_optimizer=lambda ps: torch.optim.AdamW(ps, lr=0.0)), show=False)
    assert failed(findings) == ["lr_too_high"] and "does not go down" in findings[IDS.index("lr_too_high")].message


def test_class_folders_that_differ_are_found():
    findings = preflight(*set_up(val_root=split_without(dataset_root(), "val", "crescent")), show=False)
    assert failed(findings) == ["class_to_idx_mismatch"]


def test_training_images_used_for_validation_are_found(tmp_path):
    model, train_loader, _, optimizer, weights = set_up()
    same = DataLoader(datasets.ImageFolder(dataset_root() / "train", transform=weights.transforms()))
    assert failed(preflight(model, train_loader, same, optimizer, weights, show=False)) == ["overlapping_splits"]


def test_nothing_of_the_learner_changes():
    model, train_loader, val_loader, optimizer, weights = set_up()
    state = copy.deepcopy(model.state_dict())
    modes = [m.training for m in model.modules()]
    flags = [p.requires_grad for p in model.parameters()]
    groups = [dict(g, params=list(g["params"])) for g in optimizer.param_groups]
    rng = torch.get_rng_state()
    preflight(model, train_loader, val_loader, optimizer, weights, show=False)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state.items())
    assert modes == [m.training for m in model.modules()] and flags == [p.requires_grad for p in model.parameters()]
    assert [dict(g, params=list(g["params"])) for g in optimizer.param_groups] == groups and not optimizer.state
    assert torch.equal(rng, torch.get_rng_state())


class Exploding(nn.Module):
    def forward(self, x):
        raise RuntimeError("boom")


@pytest.mark.parametrize("objects", [
    (None, None, None, None),
    (Exploding(), [1, 2], "loader", object()),
    (nn.Linear(3, 2), DataLoader([]), DataLoader([]), torch.optim.SGD(nn.Linear(3, 2).parameters(), lr=0.1)),
], ids=["nothing", "junk", "empty"])
def test_it_never_raises_because_of_the_learners_objects(objects, capsys):
    findings = preflight(*objects)
    assert [f.id for f in findings] == IDS and all(isinstance(f.ok, bool) and f.message for f in findings)
    assert "checks passed" in capsys.readouterr().out


def test_a_failed_check_points_to_an_entry_that_shows_the_mistake():
    from course_utils.preflight import Finding
    from course_utils.registry import all_mistakes

    for mistake_id in [*IDS, "wrong_normalization"]:
        line = Finding(mistake_id, False, "found").line
        assert line.startswith("✘") and (f"show_symptom({mistake_id!r})" in line) == (mistake_id in all_mistakes())
    assert Finding("lr_too_high", True, "loss 1.6 -> 0.8").line == "✔ lr_too_high: loss 1.6 -> 0.8"
