"""Lesson 06 checks beyond the contract: returning the model given, shared parameters, optimizer details."""
import pytest
import torch
from torch import nn
from torchvision import models

from course_utils import check_exercise


def test_freeze_backbone_must_keep_the_model_and_its_head():
    def tutorial_copy(model):
        for parameter in model.parameters():
            parameter.requires_grad = False
        model.fc = nn.Linear(512, 2)                 # the tutorial's head, pasted in
        return model

    def fresh_model(model):
        new = models.resnet18(weights=None)
        for name, parameter in new.named_parameters():
            parameter.requires_grad = name.startswith("fc.")
        return new
    assert "head was replaced" in check_exercise("freeze_backbone", tutorial_copy).message
    assert "not the model that was passed in" in check_exercise("freeze_backbone", fresh_model).message


def test_shared_parameters_are_counted_once():
    def twice(model):
        params = [p for _, p in model.named_parameters(remove_duplicate=False)]
        return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)
    assert "counted twice" in check_exercise("count_trainable", twice).message


@pytest.mark.filterwarnings("ignore:optimizer contains a parameter group with duplicate parameters")
def test_optimizer_details_are_named():
    def listed_twice(model):
        trainable = [p for p in model.parameters() if p.requires_grad]
        return torch.optim.AdamW(list(model.fc.parameters()) + trainable, lr=1e-3, weight_decay=1e-4)

    def adam(model):
        return torch.optim.Adam((p for p in model.parameters() if p.requires_grad), lr=1e-3, weight_decay=1e-4)

    def maximizing(model):
        return torch.optim.AdamW((p for p in model.parameters() if p.requires_grad), lr=1e-3, weight_decay=1e-4,
                                 maximize=True)

    class Fake:
        __class__ = torch.optim.AdamW
        param_groups: list = []
    assert "twice" in check_exercise("head_optimizer", listed_twice).message
    assert check_exercise("head_optimizer", adam).mistake == "not_adamw"
    assert check_exercise("head_optimizer", maximizing).mistake == "wrong_hyperparameters"
    assert check_exercise("head_optimizer", lambda model: Fake()).status == "failed"
