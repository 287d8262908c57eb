"""Lesson 05 answers the checkers know: one wrong answer per named mistake, and correct answers written other ways."""
import torch
from torch import nn
from torchvision import models


# ---------------------------------------------------------------- replace_head: wrong answers

def hardcoded_in_features(model, num_classes):
    model.fc = nn.Linear(512, num_classes)          # right for ResNet-18 only
    return model


def kept_1000_outputs(model, num_classes):
    model.fc = nn.Linear(model.fc.in_features, model.fc.out_features)   # a fresh head, but the old size
    return model


def reinitialized_backbone(model, num_classes):
    model = models.resnet18(weights=None)            # a new network: the pretrained weights are gone
    model.fc = nn.Linear(model.fc.in_features, num_classes)
    return model


def stacked_on_old_head(model, num_classes):
    model.fc = nn.Sequential(model.fc, nn.Linear(model.fc.out_features, num_classes))
    return model


REPLACE_HEAD_BROKEN = {
    "hardcoded_in_features": hardcoded_in_features,
    "kept_1000_outputs": kept_1000_outputs,
    "reinitialized_backbone": reinitialized_backbone,
    "stacked_on_old_head": stacked_on_old_head,
}


# ---------------------------------------------------------------- replace_head: correct answers in other styles

def replace_head_plain_linear(model, num_classes):
    model.fc = nn.Linear(model.fc.in_features, num_classes)
    return model


def replace_head_from_weight_shape(model, num_classes):
    features = model.fc.weight.shape[1]              # the old weight is [out_features, in_features]
    model.fc = nn.Sequential(nn.Dropout(0.5), nn.Linear(features, num_classes))
    return model


def replace_head_lazy(model, num_classes):
    model.fc = nn.LazyLinear(num_classes)            # sizes itself on the first forward pass
    return model


REPLACE_HEAD_ALTERNATIVES = (replace_head_plain_linear, replace_head_from_weight_shape, replace_head_lazy)


# ---------------------------------------------------------------- replace_classifier: wrong answers

def assumed_fc(model, num_classes):
    model.fc = nn.Linear(model.fc.in_features if hasattr(model, "fc") else 512, num_classes)
    return model


def replaced_wrong_linear(model, num_classes):
    for name, module in model.named_modules():       # stops at the FIRST Linear, not the last
        if isinstance(module, nn.Linear):
            parent_name, _, attribute = name.rpartition(".")
            parent = model.get_submodule(parent_name) if parent_name else model
            setattr(parent, attribute, nn.Linear(module.in_features, num_classes))
            return model
    return model


REPLACE_CLASSIFIER_BROKEN = {"assumed_fc": assumed_fc, "replaced_wrong_linear": replaced_wrong_linear}


# ---------------------------------------------------------------- replace_classifier: correct answers in other styles

def replace_classifier_by_attribute(model, num_classes):
    if hasattr(model, "fc"):                         # ResNet
        model.fc = nn.Linear(model.fc.in_features, num_classes)
    elif hasattr(model, "heads"):                    # VisionTransformer
        model.heads.head = nn.Linear(model.heads.head.in_features, num_classes)
    else:                                            # MobileNet, EfficientNet, ConvNeXt
        model.classifier[-1] = nn.Linear(model.classifier[-1].in_features, num_classes)
    return model


def replace_classifier_in_place(model, num_classes):
    last = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    with torch.no_grad():                            # resize the existing layer instead of swapping it
        last.weight = nn.Parameter(torch.empty(num_classes, last.in_features))
        last.bias = nn.Parameter(torch.zeros(num_classes))
        nn.init.kaiming_uniform_(last.weight, a=5 ** 0.5)
    last.out_features = num_classes
    return model


REPLACE_CLASSIFIER_ALTERNATIVES = (replace_classifier_by_attribute, replace_classifier_in_place)
