"""Lesson 05 answers the checkers know: one wrong answer per named mistake, and correct answers written other ways."""
import torch
from torch import nn
from torchvision import models

from ..declare import alternative, wrong_answer


# ---------------------------------------------------------------- replace_head: wrong answers

@wrong_answer("replace_head")
def hardcoded_in_features(model, num_classes):
    """512 typed in, not read from model.fc.in_features"""
    model.fc = nn.Linear(512, num_classes)          # right for ResNet-18 only
    return model


@wrong_answer("replace_head")
def kept_1000_outputs(model, num_classes):
    """New head still has the old number of outputs"""
    model.fc = nn.Linear(model.fc.in_features, model.fc.out_features)   # a fresh head, but the old size
    return model


@wrong_answer("replace_head")
def reinitialized_backbone(model, num_classes):
    """Fresh untrained ResNet built: pretrained weights lost"""
    model = models.resnet18(weights=None)            # a new network: the pretrained weights are gone
    model.fc = nn.Linear(model.fc.in_features, num_classes)
    return model


@wrong_answer("replace_head")
def stacked_on_old_head(model, num_classes):
    """New layer stacked after the old head, which stays in"""
    model.fc = nn.Sequential(model.fc, nn.Linear(model.fc.out_features, num_classes))
    return model


# ---------------------------------------------------------------- replace_head: correct answers in other styles

@alternative("replace_head")
def replace_head_plain_linear(model, num_classes):
    model.fc = nn.Linear(model.fc.in_features, num_classes)
    return model


@alternative("replace_head")
def replace_head_from_weight_shape(model, num_classes):
    features = model.fc.weight.shape[1]              # the old weight is [out_features, in_features]
    model.fc = nn.Sequential(nn.Dropout(0.5), nn.Linear(features, num_classes))
    return model


@alternative("replace_head")
def replace_head_lazy(model, num_classes):
    model.fc = nn.LazyLinear(num_classes)            # sizes itself on the first forward pass
    return model


# ---------------------------------------------------------------- replace_classifier: wrong answers

@wrong_answer("replace_classifier")
def assumed_fc(model, num_classes):
    """Assumes a .fc head: other models keep their old classifier"""
    model.fc = nn.Linear(model.fc.in_features if hasattr(model, "fc") else 512, num_classes)
    return model


@wrong_answer("replace_classifier")
def replaced_wrong_linear(model, num_classes):
    """First Linear layer replaced, not the last one"""
    for name, module in model.named_modules():       # stops at the FIRST Linear, not the last
        if isinstance(module, nn.Linear):
            parent_name, _, attribute = name.rpartition(".")
            parent = model.get_submodule(parent_name) if parent_name else model
            setattr(parent, attribute, nn.Linear(module.in_features, num_classes))
            return model
    return model


# ---------------------------------------------------------------- replace_classifier: correct answers in other styles

@alternative("replace_classifier")
def replace_classifier_by_attribute(model, num_classes):
    if hasattr(model, "fc"):                         # ResNet
        model.fc = nn.Linear(model.fc.in_features, num_classes)
    elif hasattr(model, "heads"):                    # VisionTransformer
        model.heads.head = nn.Linear(model.heads.head.in_features, num_classes)
    else:                                            # MobileNet, EfficientNet, ConvNeXt
        model.classifier[-1] = nn.Linear(model.classifier[-1].in_features, num_classes)
    return model


@alternative("replace_classifier")
def replace_classifier_in_place(model, num_classes):
    last = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    with torch.no_grad():                            # resize the existing layer instead of swapping it
        last.weight = nn.Parameter(torch.empty(num_classes, last.in_features))
        last.bias = nn.Parameter(torch.zeros(num_classes))
        nn.init.kaiming_uniform_(last.weight, a=5 ** 0.5)
    last.out_features = num_classes
    return model
