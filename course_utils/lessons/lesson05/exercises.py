"""Lesson 05 exercises: a new head for a ResNet (replace_head) and for any torchvision classifier
(replace_classifier)."""
from __future__ import annotations

from torch import nn

from ..declare import exercise
from .checks import check_replace_classifier, check_replace_head, prepare_replace_classifier, prepare_replace_head


# ---------------------------------------------------------------- replace_head

@exercise(
    task="give a pretrained ResNet a new fc that maps the model's own in_features (512 for ResNet-18, 2048 "
         "for ResNet-50) to num_classes, leaving every backbone weight as it was",
    check=check_replace_head,
    prepare=prepare_replace_head,
    hints=(
        "The head of a torchvision ResNet is the attribute model.fc; assign a new module to it.",
        "Read the input size from the old head: in_features = model.fc.in_features. Never type 512.",
        "model.fc = nn.Sequential(nn.Dropout(0.2), nn.Linear(model.fc.in_features, num_classes)); return model",
    ),
)
def replace_head(model, num_classes):
    """A ResNet whose fc maps its own in_features to num_classes (after Dropout); the backbone untouched."""
    in_features = model.fc.in_features
    model.fc = nn.Sequential(nn.Dropout(p=0.2), nn.Linear(in_features, num_classes))
    return model


# ---------------------------------------------------------------- replace_classifier

@exercise(
    task="replace the final Linear layer of resnet18, mobilenet_v3_small, efficientnet_b0, convnext_tiny or "
         "vit_b_16, wherever each keeps it, so the model outputs num_classes scores",
    check=check_replace_classifier,
    prepare=prepare_replace_classifier,
    hints=(
        "Not every model has .fc: MobileNet and EfficientNet keep their head in model.classifier, ViT in "
        "model.heads. print(model) shows where.",
        "The head is the last nn.Linear in model.named_modules(); remember its name and its in_features.",
        "Split the name at its last dot: the part before names the parent module "
        "(model.get_submodule(...)); setattr(parent, last_part, nn.Linear(in_features, num_classes)).",
    ),
)
def replace_classifier(model, num_classes):
    """Replace the last nn.Linear layer, wherever the architecture keeps it, by one with num_classes outputs."""
    name, last = None, None
    for path, module in model.named_modules():
        if isinstance(module, nn.Linear):
            name, last = path, module
    parent_path, _, attribute = name.rpartition(".")
    parent = model.get_submodule(parent_path) if parent_path else model
    setattr(parent, attribute, nn.Linear(last.in_features, num_classes))
    return model
