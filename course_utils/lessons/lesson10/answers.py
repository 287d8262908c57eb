"""Lesson 10 answers the checkers know: one wrong answer per named mistake, and correct answers written other ways
(retain_grad instead of autograd.grad, summed gradients, one image at a time, NumPy)."""
import math

import numpy as np
import torch

from ..declare import alternative, wrong_answer


def _scores_and_activations(model, layer, images, class_idx):
    """(picked class scores summed, the layer's output) from one forward pass; the hook is removed."""
    saved = []
    handle = layer.register_forward_hook(lambda module, inputs, output: saved.append(output))
    try:
        scores = model(images)
    finally:
        handle.remove()
    classes = scores.argmax(1) if class_idx is None else torch.as_tensor(class_idx).long().expand(len(images))
    return scores[torch.arange(len(images)), classes].sum(), saved[0]


# ---------------------------------------------------------------- grad_cam

@wrong_answer("grad_cam")
def no_relu(model, layer, images, class_idx=None):
    """Weighted sum kept without ReLU: regions against the class stay"""
    with torch.enable_grad():
        picked, activations = _scores_and_activations(model, layer, images, class_idx)
        grad, = torch.autograd.grad(picked, activations)
    maps = (grad.mean(dim=(2, 3), keepdim=True) * activations).sum(1).detach()   # no ReLU
    return maps / maps.amax(dim=(1, 2), keepdim=True)


@wrong_answer("grad_cam")
def hooks_left(model, layer, images, class_idx=None):
    """Forward hook registered and never removed"""
    saved = []
    layer.register_forward_hook(lambda module, inputs, output: saved.append(output))   # handle dropped
    with torch.enable_grad():
        scores = model(images)
        classes = scores.argmax(1) if class_idx is None else torch.as_tensor(class_idx).long().expand(len(images))
        grad, = torch.autograd.grad(scores[torch.arange(len(images)), classes].sum(), saved[-1])
    maps = torch.relu((grad.mean(dim=(2, 3), keepdim=True) * saved[-1]).sum(1)).detach()
    return maps / maps.amax(dim=(1, 2), keepdim=True).clamp_min(1e-12)


@wrong_answer("grad_cam")
def ignored_class_idx(model, layer, images, class_idx=None):
    """Always the predicted class: class_idx ignored"""
    with torch.enable_grad():
        picked, activations = _scores_and_activations(model, layer, images, None)    # class_idx never used
        grad, = torch.autograd.grad(picked, activations)
    maps = torch.relu((grad.mean(dim=(2, 3), keepdim=True) * activations).sum(1)).detach()
    return maps / maps.amax(dim=(1, 2), keepdim=True).clamp_min(1e-12)


@wrong_answer("grad_cam")
def normalised_over_batch(model, layer, images, class_idx=None):
    """Maps divided by the batch's maximum, not each its own"""
    with torch.enable_grad():
        picked, activations = _scores_and_activations(model, layer, images, class_idx)
        grad, = torch.autograd.grad(picked, activations)
    maps = torch.relu((grad.mean(dim=(2, 3), keepdim=True) * activations).sum(1)).detach()
    return maps / maps.max().clamp_min(1e-12)                     # one maximum for the whole batch


@alternative("grad_cam")
def cam_with_retain_grad(model, layer, images, class_idx=None):
    saved = {}

    def keep(module, inputs, output):
        output.retain_grad()                                     # .grad on this tensor, not on the parameters
        saved["A"] = output

    grads = [None if p.grad is None else p.grad.clone() for p in model.parameters()]
    handle = layer.register_forward_hook(keep)
    try:
        with torch.enable_grad():
            scores = model(images)
            classes = scores.argmax(1) if class_idx is None else torch.as_tensor(class_idx).long().expand(len(images))
            scores.gather(1, classes.view(-1, 1)).sum().backward()
    finally:
        handle.remove()
        for p, g in zip(model.parameters(), grads):              # backward() wrote .grad: put the old ones back
            p.grad = g
    activations = saved["A"]
    maps = torch.relu((activations.grad.mean(dim=(2, 3), keepdim=True) * activations).sum(1)).detach()
    peak = maps.amax(dim=(1, 2), keepdim=True)
    return torch.where(peak > 0, maps / peak.clamp_min(1e-12), maps)


@alternative("grad_cam")
def cam_with_summed_gradients(model, layer, images, class_idx=None):
    with torch.enable_grad():
        picked, activations = _scores_and_activations(model, layer, images, class_idx)
        grad, = torch.autograd.grad(picked, activations)
    maps = torch.relu((grad.sum(dim=(2, 3), keepdim=True) * activations).sum(1)).detach()   # h x w times larger...
    peak = maps.amax(dim=(1, 2), keepdim=True)
    return torch.where(peak > 0, maps / peak.clamp_min(1e-12), maps)                       # ...and divided away


@alternative("grad_cam")
def cam_one_image_at_a_time(model, layer, images, class_idx=None):
    classes = None if class_idx is None else torch.as_tensor(class_idx).long().expand(len(images))
    maps = []
    for i in range(len(images)):
        with torch.enable_grad():
            picked, activations = _scores_and_activations(model, layer, images[i:i + 1],
                                                          None if classes is None else int(classes[i]))
            grad, = torch.autograd.grad(picked, activations)
        cam = torch.relu((grad.mean(dim=(2, 3), keepdim=True) * activations).sum(1))[0].detach()
        maps.append(cam / cam.max() if cam.max() > 0 else cam)
    return torch.stack(maps)


@alternative("grad_cam")
def cam_with_numpy(model, layer, images, class_idx=None):
    with torch.enable_grad():
        picked, activations = _scores_and_activations(model, layer, images, class_idx)
        grad, = torch.autograd.grad(picked, activations)
    a, g = activations.detach().numpy(), grad.numpy()
    maps = np.maximum((g.mean(axis=(2, 3), keepdims=True) * a).sum(axis=1), 0)
    peak = maps.max(axis=(1, 2), keepdims=True)
    return torch.from_numpy(np.where(peak > 0, maps / np.where(peak > 0, peak, 1), maps))


# ---------------------------------------------------------------- threshold_for_recall

def _checked(scores, targets, recall):
    if not 0 < recall <= 1:
        raise ValueError(f"recall={recall} is outside (0, 1]")
    if not (targets == 1).any():
        raise ValueError("no defective sample")


@wrong_answer("threshold_for_recall")
def interpolated_quantile(scores, targets, recall):
    """Quantile of the defective scores, interpolated between two"""
    _checked(scores, targets, recall)
    return torch.quantile(scores[targets == 1].double(), 1 - recall).item()   # lies between two scores


@wrong_answer("threshold_for_recall")
def wrong_class(scores, targets, recall):
    """Threshold computed from the functional samples' scores"""
    _checked(scores, targets, recall)
    negative = scores[targets == 0]                               # the functional cells, not the defective ones
    k = math.ceil(recall * len(negative) - 1e-9)
    return negative.sort(descending=True).values[k - 1].item()


@wrong_answer("threshold_for_recall")
def not_largest(scores, targets, recall):
    """Smallest defective score: enough recall, not the largest threshold"""
    _checked(scores, targets, recall)
    return scores[targets == 1].min().item()                      # finds every defective cell, whatever recall asks


@alternative("threshold_for_recall")
def threshold_by_scanning(scores, targets, recall):
    _checked(scores, targets, recall)
    positives = int((targets == 1).sum())
    for t in sorted(set(scores.tolist()), reverse=True):          # from the highest: the first that is enough
        if ((scores >= t) & (targets == 1)).sum() >= recall * positives - 1e-9:
            return t
    raise AssertionError("unreachable: the lowest score finds every defective sample")


@alternative("threshold_for_recall")
def threshold_with_numpy(scores, targets, recall):
    _checked(scores, targets, recall)
    positive = np.sort(scores.numpy()[targets.numpy() == 1])      # ascending
    k = int(np.ceil(recall * len(positive) - 1e-9))
    return positive[len(positive) - k]                            # a NumPy float
