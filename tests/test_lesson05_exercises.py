"""Lesson 05 checks beyond the contract: heads written other ways, heads that are not plain scores, hostile hooks."""
import collections
import copy

import torch
from torch import nn

from course_utils import check_exercise
from course_utils.lessons.lesson05.answers import replace_classifier_in_place


def test_resizing_the_old_layer_or_copying_the_model_first_pass():
    def resize_in_place(model, num_classes):
        fc = model.fc
        fc.weight = nn.Parameter(torch.empty(num_classes, fc.in_features))
        fc.bias = nn.Parameter(torch.zeros(num_classes))
        nn.init.kaiming_uniform_(fc.weight, a=5 ** 0.5)
        fc.out_features = num_classes
        return model

    def copy_first(model, num_classes):
        return replace_classifier_in_place(copy.deepcopy(model), num_classes)

    def wide_mlp_head(model, num_classes):
        model.fc = nn.Sequential(nn.Linear(model.fc.in_features, 1000), nn.ReLU(), nn.Linear(1000, num_classes))
        return model
    assert check_exercise("replace_head", resize_in_place).passed
    assert check_exercise("replace_head", wide_mlp_head).passed
    assert check_exercise("replace_classifier", copy_first).passed


def test_heads_that_are_not_raw_trainable_scores_fail():
    def ending_in(last):
        def answer(model, num_classes):
            model.fc = nn.Sequential(nn.Linear(model.fc.in_features, num_classes), last)
            return model
        return answer

    def frozen_head(model, num_classes):
        model.fc = nn.Linear(model.fc.in_features, num_classes)
        for parameter in model.parameters():
            parameter.requires_grad = False
        return model
    assert "probabilities" in check_exercise("replace_head", ending_in(nn.Softmax(dim=1))).message
    assert "zero or positive" in check_exercise("replace_head", ending_in(nn.ReLU())).message
    assert "frozen" in check_exercise("replace_head", frozen_head).message


def test_returning_only_the_head_or_a_head_without_linear_is_explained():
    class Cosine(nn.Module):
        def __init__(self, features, classes):
            super().__init__()
            self.weight = nn.Parameter(torch.randn(classes, features))

        def forward(self, x):
            return nn.functional.linear(nn.functional.normalize(x), nn.functional.normalize(self.weight))

    def cosine_head(model, num_classes):
        model.fc = Cosine(model.fc.in_features, num_classes)
        return model
    result = check_exercise("replace_head", lambda model, n: (setattr(model, "fc", nn.Linear(model.fc.in_features, n)),
                                                              model.fc)[1])
    assert result.status == "failed" and "whole model" in result.message
    assert check_exercise("replace_head", cosine_head).status == "failed"


def test_a_global_hook_left_behind_is_refused_and_removed():
    from torch.nn.modules import module
    before = len(module._global_forward_hooks)  # noqa: SLF001

    def trims_every_output(model, num_classes):
        torch.nn.modules.module.register_module_forward_hook(lambda mod, args, out: out[..., :num_classes]
                                                             if mod is model else out)
        return model
    result = check_exercise("replace_head", trims_every_output)
    assert result.status == "error" and "global module hook" in result.message
    assert len(module._global_forward_hooks) == before  # noqa: SLF001


def test_count_trainable_accepts_a_namedtuple():
    Counts = collections.namedtuple("Counts", "trainable total")
    count = lambda model: Counts(sum(p.numel() for p in model.parameters() if p.requires_grad),  # noqa: E731
                                 sum(p.numel() for p in model.parameters()))
    assert check_exercise("count_trainable", count).passed
