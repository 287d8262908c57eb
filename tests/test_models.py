"""Classifier heads of torchvision architectures: found by running the model, replaced wherever they live."""
import pytest
import torch
from torchvision import models

from course_utils.models.heads import find_head, head_table, replace_classifier
from test_probes import HEADS


@pytest.mark.parametrize("arch", sorted(HEADS))
def test_replace_classifier_swaps_the_final_linear_wherever_it_lives(arch):
    torch.manual_seed(0)
    model = getattr(models, arch)(weights=None)
    before = {name: p.clone() for name, p in model.named_parameters() if not name.startswith(HEADS[arch])}
    replace_classifier(model, 5, dropout=0.2)
    model.eval()
    assert model(torch.zeros(2, 3, 224, 224)).shape == (2, 5)
    path, head = find_head(model)
    assert path == f"{HEADS[arch]}.1" and head.out_features == 5           # Dropout, then the new Linear
    after = dict(model.named_parameters())
    assert all(torch.equal(after[name], value) for name, value in before.items())  # the backbone is untouched


def test_head_table_reports_each_architecture():
    rows = head_table({"resnet18": models.resnet18(weights=None), "resnet50": models.resnet50(weights=None)})
    assert [(r["head"], r["in_features"], r["out_features"]) for r in rows] == [("fc", 512, 1000), ("fc", 2048, 1000)]


def test_a_model_without_a_linear_layer_gets_a_clear_error():
    with pytest.raises(ValueError, match="no classifier head"):
        find_head(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3)))
