"""Grad-CAM (Selvaraju et al., 2017): where a CNN looks when it scores a class, as a map at one layer's
resolution."""
from __future__ import annotations

import torch
from torch import nn

from ..models.modes import evaluating


def grad_cam(model: nn.Module, layer: nn.Module, images: torch.Tensor, class_idx=None) -> torch.Tensor:
    """Grad-CAM maps [B, h, w] in [0, 1] at ``layer``'s resolution: per image, the layer's output A weighted by
    the spatial mean of the gradient of that image's class score (``class_idx``: an int, one per image, or None
    for the predicted class) with respect to A, summed over channels, ReLU, divided by its own maximum.
    Run in eval mode; afterwards no hook is left, every parameter's .grad is as before and the mode unchanged."""
    saved: dict[str, torch.Tensor] = {}
    handle = layer.register_forward_hook(lambda module, inputs, output: saved.__setitem__("A", output))
    grads = {name: None if p.grad is None else p.grad.clone() for name, p in model.named_parameters()}
    try:
        with evaluating(model), torch.enable_grad():
            scores = model(images)
            activations = saved["A"]
            if class_idx is None:
                chosen = scores.argmax(1)
            else:
                chosen = torch.as_tensor(class_idx, dtype=torch.long).expand(len(images))
            picked = scores.gather(1, chosen[:, None]).sum()  # each image's score depends on that image alone
            gradient, = torch.autograd.grad(picked, activations)
    finally:
        handle.remove()
        for name, p in model.named_parameters():
            p.grad = grads[name]
    weights = gradient.mean(dim=(2, 3), keepdim=True)
    maps = torch.relu((weights * activations).sum(1)).detach()
    peak = maps.amax(dim=(1, 2), keepdim=True)
    return torch.where(peak > 0, maps / peak.clamp_min(1e-12), maps)
