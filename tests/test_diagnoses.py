"""Classes of outside answers (issue 16) and what the checker must say about each: the mistake the answer made,
never a wrong id, and a next step that fits what the code did."""
import torch
from torch import nn

from course_utils import check_exercise
from helpers import assert_concrete


def _failed(name, answer):
    result = check_exercise(name, answer)
    assert result.status == "failed", result
    assert_concrete(result)
    return result


# ---------------------------------------------------------------- 1. the answer's own guard raises

def test_a_guard_that_raises_is_diagnosed_by_what_it_assumed():
    def needs_fc(model, num_classes):
        if "fc" not in dict(model.named_children()):
            raise ValueError("unsupported model")
        model.fc = nn.Linear(model.fc.in_features, num_classes)
        return model

    def asserts_512(model, num_classes):
        assert model.fc.in_features == 512
        model.fc = nn.Linear(512, num_classes)
        return model
    assert _failed("replace_classifier", needs_fc).mistake == "assumed_fc"
    assert _failed("replace_head", asserts_512).mistake == "hardcoded_in_features"


def test_a_head_looked_up_under_another_name_says_where_the_head_is():
    def classifier_last(model, num_classes):
        last = model.classifier[-1]
        model.classifier[-1] = nn.Linear(last.in_features, num_classes)
        return model
    result = _failed("replace_classifier", classifier_last)
    assert result.mistake is None and "model.classifier" in result.message and "fc" in result.message


# ---------------------------------------------------------------- 3. never a wrong id

def test_a_head_left_frozen_from_before_is_not_called_froze_everything():
    def frozen_but_not_fc(model):
        for name, parameter in model.named_parameters():
            if not name.startswith("fc"):
                parameter.requires_grad = False
        return model
    result = _failed("freeze_backbone", frozen_but_not_fc)
    assert result.mistake == "head_left_frozen" and "as it came in" in result.message


def test_module_requires_grad_attribute_is_explained():
    def attribute_on_module(model):
        for parameter in model.parameters():
            parameter.requires_grad = False
        model.fc.requires_grad = True                 # an attribute of the module, not of its parameters
        return model
    result = _failed("freeze_backbone", attribute_on_module)
    assert result.mistake is None and "requires_grad_(True)" in result.message


# ---------------------------------------------------------------- 5. specific where it is easy

def test_counts_in_the_wrong_order_or_with_buffers_are_named_as_such():
    def swapped(model):
        return sum(p.numel() for p in model.parameters()), sum(p.numel() for p in model.parameters() if p.requires_grad)

    def with_buffers(model):
        return (sum(p.numel() for p in model.parameters() if p.requires_grad),
                sum(v.numel() for v in model.state_dict().values()))
    assert "wrong order" in _failed("count_trainable", swapped).message
    assert "buffers" in _failed("count_trainable", with_buffers).message


def test_a_local_rebinding_is_not_called_kept_1000_outputs():
    def rebinds(model, num_classes):
        head = model.fc
        head = nn.Linear(head.in_features, num_classes)  # noqa: F841  (never put into the model)
        return model
    result = _failed("replace_head", rebinds)
    assert result.mistake is None and "no new layer was put into the model" in result.message


def test_a_typed_512_gets_advice_about_in_features():
    def typed(model, num_classes):
        model.fc = nn.Linear(512, num_classes)
        return model
    result = _failed("replace_head", typed)
    assert result.mistake == "hardcoded_in_features" and "in_features" in result.message.split("Try:")[1]


def test_adam_is_its_own_mistake():
    def adam(model):
        return torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3, weight_decay=1e-4)
    assert _failed("head_optimizer", adam).mistake == "not_adamw"


def test_repeated_indices_that_do_not_accumulate_are_explained():
    def fancy_index(preds, targets, num_classes):
        matrix = torch.zeros(num_classes, num_classes, dtype=torch.long)
        matrix[targets.long(), preds.long()] += 1
        return matrix
    assert "index_put_" in _failed("confusion_matrix", fancy_index).message


# ---------------------------------------------------------------- 6. why the starting state matters

def test_an_optimizer_over_the_head_only_is_told_what_else_trains():
    def head_only(model):
        return torch.optim.AdamW(model.fc.parameters(), lr=1e-3, weight_decay=1e-4)
    result = _failed("head_optimizer", head_only)
    assert "on this model" in result.message and "requires_grad" in result.message


# ---------------------------------------------------------------- found by an outside review of new answers

def test_a_resized_attribute_is_not_a_new_layer():
    def sets_out_features(model, num_classes):
        model.fc.out_features = num_classes
        return model
    result = _failed("replace_head", sets_out_features)
    assert result.mistake is None and "only changed a number" in result.message


def test_code_that_expects_classifier_is_not_told_it_expects_fc():
    def fc_or_classifier(model, num_classes):
        if hasattr(model, "fc"):
            model.fc = nn.Linear(model.fc.in_features, num_classes)
        else:
            last = model.classifier[-1]
            model.classifier[-1] = nn.Linear(last.in_features, num_classes)
        return model
    result = _failed("replace_classifier", fc_or_classifier)
    assert result.mistake != "assumed_fc" and "model.classifier" in result.message


def test_conv_layers_frozen_by_name_leaving_batchnorm_and_a_shortcut():
    def conv_by_name(model):
        for name, parameter in model.named_parameters():
            if "conv" in name:
                parameter.requires_grad = False
        for parameter in model.fc.parameters():
            parameter.requires_grad = True
        return model
    assert _failed("freeze_backbone", conv_by_name).mistake == "froze_only_conv_layers"


def test_counting_by_grad_or_by_nested_modules_is_explained():
    def by_grad(model):
        return (sum(p.numel() for p in model.parameters() if p.grad is not None),
                sum(p.numel() for p in model.parameters()))

    def nested(model):
        return (sum(p.numel() for m in model.modules() for p in m.parameters() if p.requires_grad),
                sum(p.numel() for m in model.modules() for p in m.parameters()))
    assert "p.grad" in _failed("count_trainable", by_grad).message
    assert "recurse=False" in _failed("count_trainable", nested).message
