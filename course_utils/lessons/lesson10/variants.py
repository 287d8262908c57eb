"""Lesson 10: more ways of committing each named mistake (abs instead of ReLU, min-max scaling, backward hooks
left, a fixed class, a global max through NumPy, quantiles, sorting the wrong class, the first score that is
enough from below); the tests check that the checker names each one's id."""
import math

import numpy as np
import torch

from ..declare import same_mistake


def _forward(model, layer, images, class_idx, keep):
    """Picked class scores summed and the saved activations, with the hook's handle returned, not removed."""
    saved = []
    handle = layer.register_forward_hook(lambda module, inputs, output: saved.append(output))
    scores = model(images)
    classes = scores.argmax(1) if class_idx is None else torch.as_tensor(class_idx).long().expand(len(images))
    if not keep:
        handle.remove()
    return scores[torch.arange(len(images)), classes].sum(), saved[-1]


def _weighted(model, layer, images, class_idx, keep=False):
    with torch.enable_grad():
        picked, activations = _forward(model, layer, images, class_idx, keep)
        grad, = torch.autograd.grad(picked, activations)
    return (grad.mean(dim=(2, 3), keepdim=True) * activations).sum(1).detach()


# ---------------------------------------------------------------- grad_cam

@same_mistake("grad_cam", "no_relu")
def min_max_scaled_instead_of_relu(model, layer, images, class_idx=None):
    maps = _weighted(model, layer, images, class_idx)
    low, high = maps.amin(dim=(1, 2), keepdim=True), maps.amax(dim=(1, 2), keepdim=True)
    return (maps - low) / (high - low)                            # negative regions become "a little important"


@same_mistake("grad_cam", "no_relu")
def absolute_value_instead_of_relu(model, layer, images, class_idx=None):
    maps = _weighted(model, layer, images, class_idx).abs()      # evidence against the class counted as for it
    return maps / maps.amax(dim=(1, 2), keepdim=True)


@same_mistake("grad_cam", "hooks_left")
def backward_hook_left(model, layer, images, class_idx=None):
    saved = {}
    layer.register_forward_hook(lambda module, inputs, output: saved.__setitem__("A", output))
    layer.register_full_backward_hook(lambda module, grad_in, grad_out: saved.__setitem__("G", grad_out[0]))
    grads = [None if p.grad is None else p.grad.clone() for p in model.parameters()]
    with torch.enable_grad():
        scores = model(images)
        classes = scores.argmax(1) if class_idx is None else torch.as_tensor(class_idx).long().expand(len(images))
        scores[torch.arange(len(images)), classes].sum().backward()
    for p, g in zip(model.parameters(), grads):
        p.grad = g
    maps = torch.relu((saved["G"].mean(dim=(2, 3), keepdim=True) * saved["A"]).sum(1)).detach()
    return maps / maps.amax(dim=(1, 2), keepdim=True).clamp_min(1e-12)


@same_mistake("grad_cam", "hooks_left")
def handle_removed_only_on_success(model, layer, images, class_idx=None):
    maps = torch.relu(_weighted(model, layer, images, class_idx, keep=True))   # the remove() was forgotten
    return maps / maps.amax(dim=(1, 2), keepdim=True).clamp_min(1e-12)


@same_mistake("grad_cam", "ignored_class_idx")
def class_idx_read_as_a_default(model, layer, images, class_idx=None):
    chosen = class_idx if isinstance(class_idx, int) else None   # a list or a tensor falls back to the prediction
    maps = torch.relu(_weighted(model, layer, images, chosen))
    return maps / maps.amax(dim=(1, 2), keepdim=True).clamp_min(1e-12)


@same_mistake("grad_cam", "ignored_class_idx")
def predicted_class_through_topk(model, layer, images, class_idx=None):
    with torch.no_grad():
        predicted = model(images).topk(1, dim=1).indices[:, 0]    # the prediction, whatever class_idx says
    maps = torch.relu(_weighted(model, layer, images, predicted))
    return maps / maps.amax(dim=(1, 2), keepdim=True).clamp_min(1e-12)


@same_mistake("grad_cam", "normalised_over_batch")
def batch_maximum_in_numpy(model, layer, images, class_idx=None):
    maps = np.maximum(_weighted(model, layer, images, class_idx).numpy(), 0)
    return torch.from_numpy(maps / maps.max())                    # np.max over every image at once


@same_mistake("grad_cam", "normalised_over_batch")
def batch_min_max_after_relu(model, layer, images, class_idx=None):
    maps = torch.relu(_weighted(model, layer, images, class_idx))
    return (maps - maps.min()) / (maps.max() - maps.min())        # min is 0 after ReLU: the batch's maximum


# ---------------------------------------------------------------- threshold_for_recall

@same_mistake("threshold_for_recall", "interpolated_quantile")
def numpy_percentile(scores, targets, recall):
    if not 0 < recall <= 1 or not (targets == 1).any():
        raise ValueError("recall in (0, 1] and at least one defective sample, please")
    return float(np.percentile(scores[targets == 1].numpy(), 100 * (1 - recall)))


@same_mistake("threshold_for_recall", "interpolated_quantile")
def midpoint_between_scores(scores, targets, recall):
    if not 0 < recall <= 1 or not (targets == 1).any():
        raise ValueError("recall in (0, 1] and at least one defective sample, please")
    positive = scores[targets == 1].sort(descending=True).values
    k = math.ceil(recall * len(positive) - 1e-9)
    below = positive[k] if k < len(positive) else positive[k - 1] - 0.01
    return ((positive[k - 1] + below) / 2).item()                 # "safely between" two scores


@same_mistake("threshold_for_recall", "wrong_class")
def labels_inverted_by_argsort(scores, targets, recall):
    if not 0 < recall <= 1 or not (targets == 1).any():
        raise ValueError("recall in (0, 1] and at least one defective sample, please")
    functional = scores[targets.long() != 1]                      # the wrong side of the mask
    return torch.topk(functional, math.ceil(recall * len(functional) - 1e-9)).values[-1].item()


@same_mistake("threshold_for_recall", "wrong_class")
def mask_from_numpy_logical_not(scores, targets, recall):
    if not 0 < recall <= 1 or not (targets == 1).any():
        raise ValueError("recall in (0, 1] and at least one defective sample, please")
    chosen = np.sort(scores.numpy()[np.logical_not(targets.numpy())])[::-1]
    return float(chosen[math.ceil(recall * len(chosen) - 1e-9) - 1])


@same_mistake("threshold_for_recall", "not_largest")
def one_too_many(scores, targets, recall):
    if not 0 < recall <= 1 or not (targets == 1).any():
        raise ValueError("recall in (0, 1] and at least one defective sample, please")
    positive = scores[targets == 1].sort(descending=True).values
    k = min(len(positive), math.ceil(recall * len(positive) - 1e-9) + 1)   # "one more, to be safe"
    return positive[k - 1].item()


@same_mistake("threshold_for_recall", "not_largest")
def lowest_score_overall_that_is_enough(scores, targets, recall):
    if not 0 < recall <= 1 or not (targets == 1).any():
        raise ValueError("recall in (0, 1] and at least one defective sample, please")
    return scores.min().item()                                    # calls everything defective: recall 1
