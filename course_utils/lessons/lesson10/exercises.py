"""Lesson 10 exercises: Grad-CAM maps (grad_cam) and the decision threshold for a target recall
(threshold_for_recall)."""
from __future__ import annotations

import math

import torch

from ..declare import exercise
from .checks import check_grad_cam, check_threshold_for_recall


@exercise(
    task="return Grad-CAM maps [B, h, w] in [0, 1] at `layer`: per image, the layer's output weighted by the "
         "spatially averaged gradient of that image's class score, summed over channels, ReLU, divided by its own "
         "maximum; no hook left, every .grad and the model's mode as before",
    check=check_grad_cam,
    hints=(
        "Two things are needed from one forward pass: the layer's output A and the gradient of the class scores "
        "with respect to A. A forward hook can save A; torch.autograd.grad(score, A) gives the gradient without "
        "touching any parameter's .grad.",
        "handle = layer.register_forward_hook(lambda module, inputs, output: saved.append(output)); scores = "
        "model(images); pick each image's class (scores.argmax(1) when class_idx is None); sum the picked scores "
        "(each depends on its own image only) and take the gradient with respect to saved[0]. Remove the handle "
        "in a `finally:` block.",
        "weights = grad.mean(dim=(2, 3), keepdim=True); maps = torch.relu((weights * A).sum(1)); divide each map "
        "by maps.amax(dim=(1, 2), keepdim=True) where that is > 0; return maps.detach().",
    ),
)
def grad_cam(model, layer, images, class_idx=None):
    """Grad-CAM maps [B, h, w] in [0, 1] at ``layer`` for each image's class (its predicted one when None)."""
    saved = []
    handle = layer.register_forward_hook(lambda module, inputs, output: saved.append(output))
    try:
        with torch.enable_grad():
            scores = model(images)                                  # [B, num_classes]
            if class_idx is None:
                classes = scores.argmax(dim=1)
            else:
                classes = torch.as_tensor(class_idx).long().expand(len(images))
            picked = scores[torch.arange(len(images)), classes].sum()
            grad, = torch.autograd.grad(picked, saved[0])          # no parameter's .grad is written
    finally:
        handle.remove()                                             # no hook left, whatever happened
    activations = saved[0].detach()
    weights = grad.mean(dim=(2, 3), keepdim=True)                   # one weight per channel and image
    maps = torch.relu((weights * activations).sum(dim=1))           # [B, h, w]
    peak = maps.amax(dim=(1, 2), keepdim=True)
    return torch.where(peak > 0, maps / peak.clamp_min(1e-12), maps)


@exercise(
    task="return the largest threshold t, one of the scores, such that calling every sample with score >= t "
         "defective finds at least `recall` of the defective samples (target 1); ValueError when there is no "
         "defective sample or recall is outside (0, 1]",
    check=check_threshold_for_recall,
    hints=(
        "Only the defective samples' scores decide the recall. Sorted from the highest, the first k of them are "
        "found by any threshold at or below the k-th; you need k = ceil(recall x number of defective samples).",
        "positive = scores[targets == 1]; k = math.ceil(recall * len(positive)); the answer is the k-th largest "
        "of them: positive.sort(descending=True).values[k - 1]. Check recall and len(positive) first.",
        "if not 0 < recall <= 1 or len(positive) == 0: raise ValueError(...); return "
        "torch.topk(positive, k).values[-1].item(). (Beware 0.28 x 25 = 7.000000000000001 in floating point: "
        "subtract a tiny 1e-9 before ceil.)",
    ),
)
def threshold_for_recall(scores, targets, recall):
    """The largest score t such that score >= t finds at least ``recall`` of the samples whose target is 1."""
    if not 0 < recall <= 1:
        raise ValueError(f"recall={recall}: give a share of the defective samples in (0, 1]")
    positive = scores[targets == 1]
    if len(positive) == 0:
        raise ValueError("no defective sample (target 1): a recall needs at least one")
    k = max(1, math.ceil(recall * len(positive) - 1e-9))           # how many defective samples must be found
    return torch.topk(positive, k).values[-1].item()               # the k-th largest defective score
