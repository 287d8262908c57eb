"""Model probes against plain PyTorch: trainable counts, optimizer contents, where each architecture's head is."""
import pytest
import torch
from torch import nn
from torchvision import models

from course_utils.checking import probes
from course_utils.models.heads import final_linear

HEADS = {"resnet18": "fc", "mobilenet_v3_small": "classifier.3", "efficientnet_b0": "classifier.1",
         "convnext_tiny": "classifier.2", "vit_b_16": "heads.head"}


@pytest.mark.parametrize("arch", sorted(HEADS))
def test_final_linear_is_found_by_running_the_model(arch):
    torch.manual_seed(0)
    model = getattr(models, arch)(weights=None)
    model.train()
    name, layer = final_linear(model, torch.zeros(1, 3, 224, 224))
    assert name == HEADS[arch] and layer.out_features == 1000 and layer is model.get_submodule(name)
    assert model.training and all(m.training for m in model.modules())  # modes given back


def test_counts_and_names_match_a_manual_count():
    model = models.resnet18(weights=None)
    for name, p in model.named_parameters():
        p.requires_grad = name.startswith("fc.") or name.startswith("layer4.")
    trainable, total = probes.element_counts(model)
    assert total == sum(p.numel() for p in model.parameters())
    assert trainable == sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert probes.trainable_names(model) == probes.names_under(model, "fc") | probes.names_under(model, "layer4")


def test_optimizer_entries_list_every_parameter_with_its_settings():
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    optimizer = torch.optim.AdamW([{"params": model[0].parameters()}, {"params": model[1].parameters(), "lr": 0.5}],
                                  lr=1e-3, weight_decay=1e-4)
    entries = probes.optimizer_entries(optimizer)
    assert [i for i, _ in entries] == [id(p) for p in model.parameters()]
    assert [s["lr"] for _, s in entries] == [1e-3, 1e-3, 0.5, 0.5] and entries[0][1]["weight_decay"] == 1e-4
