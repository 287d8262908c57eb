"""Lesson 08 answers the checkers know: one wrong answer per named mistake, and correct answers written other ways."""
import numpy as np
import torch
import torch.nn.functional as F
from torchvision.transforms import functional as TF

from ..declare import alternative, wrong_answer


# ---------------------------------------------------------------- predict

@wrong_answer("predict")
def forgot_eval(model, image, transform, class_names):
    """Predicted in training mode: model.eval() never called"""
    with torch.no_grad():                            # no model.eval(): Dropout still drops, BatchNorm still updates
        probabilities = model(transform(image).unsqueeze(0)).softmax(dim=1)[0]
    index = int(probabilities.argmax())
    return class_names[index], probabilities[index].item()


@wrong_answer("predict")
def no_softmax(model, image, transform, class_names):
    """Raw logit returned as if it were a probability"""
    model.eval()
    with torch.no_grad():
        logits = model(transform(image).unsqueeze(0))[0]
    index = int(logits.argmax())
    return class_names[index], logits[index].item()  # a logit, not a probability


@wrong_answer("predict")
def missing_batch_dim(model, image, transform, class_names):
    """Image fed to the model without a batch dimension"""
    model.eval()
    with torch.no_grad():
        probabilities = model(transform(image)).softmax(dim=-1)     # [3, H, W]: no batch dimension
    index = int(probabilities.argmax())
    return class_names[index], probabilities.flatten()[index].item()


@wrong_answer("predict")
def skipped_transform(model, image, transform, class_names):
    """Given transform skipped: image not resized or normalised"""
    model.eval()
    with torch.no_grad():
        probabilities = model(TF.to_tensor(image).unsqueeze(0)).softmax(dim=1)[0]   # not resized, not normalised
    index = int(probabilities.argmax())
    return class_names[index], probabilities[index].item()


@wrong_answer("predict")
def tracks_gradients(model, image, transform, class_names):
    """Gradients tracked while predicting: no torch.no_grad()"""
    model.eval()
    probabilities = model(transform(image).unsqueeze(0)).softmax(dim=1)[0]        # builds a graph for nothing
    index = int(probabilities.argmax())
    return class_names[index], probabilities[index].item()


@alternative("predict")
def predict_with_inference_mode(model, image, transform, class_names):
    model.eval()
    with torch.inference_mode():
        batch = transform(image)[None]
        probability, index = F.softmax(model(batch), dim=1).max(dim=1)
    return class_names[index.item()], probability.item()


@alternative("predict")
def predict_with_numpy(model, image, transform, class_names):
    model.train(False)
    with torch.no_grad():
        logits = model(torch.stack([transform(image)])).numpy()[0]
    probabilities = np.exp(logits - logits.max())
    probabilities /= probabilities.sum()
    index = probabilities.argmax()
    return str(class_names[index]), probabilities[index]             # a NumPy float


# ---------------------------------------------------------------- confusion_matrix

@wrong_answer("confusion_matrix")
def transposed(preds, targets, num_classes):
    """Rows are predictions, columns true classes: transposed"""
    matrix = torch.zeros(num_classes, num_classes, dtype=torch.int64)
    for p, t in zip(preds.tolist(), targets.tolist()):
        matrix[p, t] += 1                            # row = predicted
    return matrix


@wrong_answer("confusion_matrix")
def wrong_size(preds, targets, num_classes):
    """Matrix sized from the largest label seen, not num_classes"""
    k = int(max(preds.max(), targets.max())) + 1     # misses classes above the largest label seen
    matrix = torch.zeros(k, k, dtype=torch.int64)
    for t, p in zip(targets.tolist(), preds.tolist()):
        matrix[t, p] += 1
    return matrix


@alternative("confusion_matrix")
def matrix_with_bincount(preds, targets, num_classes):
    flat = targets.long() * num_classes + preds.long()
    return torch.bincount(flat, minlength=num_classes ** 2).view(num_classes, num_classes)


@alternative("confusion_matrix")
def matrix_with_index_put(preds, targets, num_classes):
    matrix = torch.zeros((num_classes, num_classes), dtype=torch.long)
    ones = torch.ones(len(preds), dtype=torch.long)
    return matrix.index_put_((targets.long(), preds.long()), ones, accumulate=True)


@alternative("confusion_matrix")
def matrix_with_numpy(preds, targets, num_classes):
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (targets.numpy().astype(np.int64), preds.numpy().astype(np.int64)), 1)
    return torch.from_numpy(matrix)
