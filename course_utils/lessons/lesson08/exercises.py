"""Lesson 08 exercises: predicting one image (predict) and counting errors class by class (confusion_matrix)."""
from __future__ import annotations

import torch

from ..declare import exercise
from .checks import prototype, check_confusion_matrix, check_predict


@exercise(
    task="return the class name and softmax probability the model gives one PIL image: transformed, as a "
         "batch of one, in eval mode, without gradients",
    check=check_predict,
    prepare=prototype,
    hints=(
        "Four steps: transform the image, add a batch dimension, run the model in eval mode without "
        "gradients, turn the logits into probabilities.",
        "transform(image).unsqueeze(0) has shape [1, 3, H, W]; model.eval() and `with torch.no_grad():`; "
        "logits.softmax(dim=1).",
        "model.eval(); with torch.no_grad(): p = model(transform(image).unsqueeze(0)).softmax(dim=1)[0]; "
        "i = int(p.argmax()); return class_names[i], p[i].item()",
    ),
)
def predict(model, image, transform, class_names):
    """(class name, softmax probability) of one PIL image: transform, batch of one, eval mode, no gradients."""
    model.eval()
    with torch.no_grad():
        probabilities = model(transform(image).unsqueeze(0)).softmax(dim=1)[0]
    index = int(probabilities.argmax())
    return class_names[index], probabilities[index].item()


@exercise(
    task="return the [num_classes, num_classes] int64 confusion matrix, row = true class, column = predicted "
         "class",
    check=check_confusion_matrix,
    hints=(
        "Start from torch.zeros(num_classes, num_classes, dtype=torch.long) and add one count per sample.",
        "For sample i the count goes to row targets[i] (the truth), column preds[i]. Size the matrix by "
        "num_classes, not by the labels you happen to see.",
        "for t, p in zip(targets.tolist(), preds.tolist()): matrix[t, p] += 1",
    ),
)
def confusion_matrix(preds, targets, num_classes):
    """[num_classes, num_classes] int64 counts: row = true class, column = predicted class."""
    matrix = torch.zeros(num_classes, num_classes, dtype=torch.int64)
    for true, predicted in zip(targets.tolist(), preds.tolist()):
        matrix[true, predicted] += 1
    return matrix
