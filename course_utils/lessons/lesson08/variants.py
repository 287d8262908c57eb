"""Lesson 08: more ways of committing each named mistake (topk, NumPy, PIL transforms of its own, bincount,
index_put); the tests check that the checker names each one's id."""
import numpy as np
import torch
from torch.nn import functional as F
from torchvision import transforms

from ..declare import same_mistake


# ---------------------------------------------------------------- predict

@same_mistake("predict", "forgot_eval")
def train_mode_with_topk(model, image, transform, class_names):
    with torch.inference_mode():
        probability, index = F.softmax(model(transform(image)[None]), dim=1).topk(1)
    return class_names[index.item()], probability.item()


@same_mistake("predict", "forgot_eval")
def train_mode_set_on_purpose(model, image, transform, class_names):
    model.train()                                    # "so BatchNorm adapts to the new image"
    with torch.no_grad():
        scores = model(transform(image).unsqueeze(0)).softmax(1).numpy()[0]
    return class_names[int(np.argmax(scores))], float(np.max(scores))


@same_mistake("predict", "no_softmax")
def max_logit_with_topk(model, image, transform, class_names):
    model.eval()
    with torch.no_grad():
        value, index = model(transform(image)[None]).topk(1, dim=1)
    return class_names[index.item()], value.item()


@same_mistake("predict", "no_softmax")
def sigmoid_instead_of_softmax(model, image, transform, class_names):
    model.eval()
    with torch.no_grad():
        scores = torch.sigmoid(model(transform(image)[None]))[0]   # per-class, not a distribution
    return class_names[int(scores.argmax())], scores.max().item()


@same_mistake("predict", "missing_batch_dim")
def flattened_chw_image(model, image, transform, class_names):
    model.eval()
    with torch.no_grad():
        scores = model(transform(image)).flatten().softmax(0)
    index = int(scores.argmax())
    return class_names[index % len(class_names)], scores[index].item()


@same_mistake("predict", "missing_batch_dim")
def squeezed_before_the_model(model, image, transform, class_names):
    model.eval()
    with torch.no_grad():
        scores = F.softmax(model(transform(image).unsqueeze(0).squeeze(0)), dim=-1)
    index = int(scores.argmax())
    return class_names[index % len(class_names)], scores.flatten()[index].item()


@same_mistake("predict", "skipped_transform")
def a_transform_of_its_own(model, image, transform, class_names):
    own = transforms.Compose([transforms.Resize(32), transforms.ToTensor()])   # not the one it was given
    model.eval()
    with torch.no_grad():
        scores = model(own(image)[None]).softmax(1)[0]
    return class_names[int(scores.argmax())], scores.max().item()


@same_mistake("predict", "skipped_transform")
def pixels_through_numpy(model, image, transform, class_names):
    array = np.asarray(image.convert("RGB"), dtype=np.float32) / 255
    model.eval()
    with torch.no_grad():
        scores = model(torch.from_numpy(array).permute(2, 0, 1)[None]).softmax(1)[0]
    return class_names[int(scores.argmax())], scores.max().item()


@same_mistake("predict", "tracks_gradients")
def gradients_with_topk(model, image, transform, class_names):
    model.eval()
    probability, index = model(transform(image)[None]).softmax(1).topk(1)
    return class_names[index.item()], probability.item()


@same_mistake("predict", "tracks_gradients")
def enable_grad_on_purpose(model, image, transform, class_names):
    model.eval()
    with torch.enable_grad():
        scores = F.softmax(model(transform(image).unsqueeze(0)), dim=1)[0]
    return class_names[int(scores.argmax())], float(scores.max())


# ---------------------------------------------------------------- confusion_matrix

@same_mistake("confusion_matrix", "transposed")
def transposed_with_bincount(preds, targets, num_classes):
    flat = preds.long() * num_classes + targets.long()
    return torch.bincount(flat, minlength=num_classes ** 2).view(num_classes, num_classes)


@same_mistake("confusion_matrix", "transposed")
def transposed_in_numpy(preds, targets, num_classes):
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (preds.numpy(), targets.numpy()), 1)
    return torch.from_numpy(matrix)


@same_mistake("confusion_matrix", "wrong_size")
def sized_by_the_targets(preds, targets, num_classes):
    k = len(torch.unique(targets))                   # classes seen, not classes that exist
    matrix = torch.zeros(k, k, dtype=torch.long)
    for t, p in zip(targets.tolist(), preds.tolist()):
        if t < k and p < k:
            matrix[t, p] += 1
    return matrix


@same_mistake("confusion_matrix", "wrong_size")
def bincount_without_minlength(preds, targets, num_classes):
    k = int(torch.max(torch.cat([preds, targets]).long())) + 1
    flat = targets.long() * k + preds.long()
    return torch.bincount(flat, minlength=k * k).view(k, k)
