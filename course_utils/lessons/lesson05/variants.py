"""Lesson 05: more ways of committing each named mistake (wrappers, guards that raise, loops over modules,
torchvision constructors, reset_parameters); the tests check that the checker names each one's id."""
import copy

from torch import nn
from torchvision import models

from ..declare import same_mistake


# ---------------------------------------------------------------- replace_head

@same_mistake("replace_head", "hardcoded_in_features")
def in_features_typed_as_a_power_of_two(model, num_classes):
    model.fc = nn.Sequential(nn.Dropout(0.2), nn.Linear(2 ** 9, num_classes))
    return model


@same_mistake("replace_head", "hardcoded_in_features")
def guarded_resnet18_only(model, num_classes):
    if model.fc.in_features != 512:
        raise ValueError("replace_head expects a ResNet-18")    # the answer's own guard
    model.fc = nn.Linear(512, num_classes)
    return model


@same_mistake("replace_head", "hardcoded_in_features")
def features_from_a_table(model, num_classes):
    sizes = {"resnet18": 512, "resnet34": 512}
    model.fc = nn.Linear(sizes["resnet18"], num_classes)
    return model


@same_mistake("replace_head", "kept_1000_outputs")
def out_features_from_the_old_weight(model, num_classes):
    out_features, in_features = model.fc.weight.shape
    model.fc = nn.Linear(in_features, out_features)
    return model


@same_mistake("replace_head", "kept_1000_outputs")
def classes_typed_as_1000(model, num_classes):
    model.fc = nn.Sequential(nn.Dropout(0.5), nn.Linear(model.fc.in_features, 1000))
    return model


@same_mistake("replace_head", "reinitialized_backbone")
def rebuilt_with_the_right_head(model, num_classes):
    return models.resnet18(weights=None, num_classes=num_classes)


@same_mistake("replace_head", "reinitialized_backbone")
def reset_every_layer(model, num_classes):
    for module in model.modules():                  # "start clean" before fine-tuning
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    model.fc = nn.Linear(model.fc.in_features, num_classes)
    return model


@same_mistake("replace_head", "stacked_on_old_head")
def wrapped_in_a_sequential(model, num_classes):
    return nn.Sequential(model, nn.Linear(model.fc.out_features, num_classes))


class _WithNewHead(nn.Module):
    def __init__(self, base, num_classes):
        super().__init__()
        self.base, self.head = base, nn.Linear(base.fc.out_features, num_classes)

    def forward(self, x):
        return self.head(self.base(x).relu())


@same_mistake("replace_head", "stacked_on_old_head")
def wrapped_in_a_module(model, num_classes):
    return _WithNewHead(model, num_classes)


# ---------------------------------------------------------------- replace_classifier

@same_mistake("replace_classifier", "assumed_fc")
def guard_that_raises_without_fc(model, num_classes):
    if not hasattr(model, "fc"):
        raise ValueError("this model has no .fc layer to replace")
    model.fc = nn.Linear(model.fc.in_features, num_classes)
    return model


@same_mistake("replace_classifier", "assumed_fc")
def reads_fc_in_features(model, num_classes):
    features = model.fc.in_features                   # AttributeError on every model without .fc
    model.fc = nn.Linear(features, num_classes)
    return model


@same_mistake("replace_classifier", "replaced_wrong_linear")
def first_linear_from_a_list(model, num_classes):
    linears = [name for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    parent, _, attribute = linears[0].rpartition(".")
    module = model.get_submodule(parent) if parent else model
    setattr(module, attribute, nn.Linear(getattr(module, attribute).in_features, num_classes))
    return model


@same_mistake("replace_classifier", "replaced_wrong_linear")
def replaced_every_linear(model, num_classes):
    for name, module in list(model.named_modules()):
        if isinstance(module, nn.Linear):
            parent, _, attribute = name.rpartition(".")
            holder = model.get_submodule(parent) if parent else model
            setattr(holder, attribute, nn.Linear(module.in_features, num_classes))
    return copy.deepcopy(model)
