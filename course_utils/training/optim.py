"""AdamW as the course's training code builds it: PyTorch's fused kernel wherever the parameters' device has one."""
from __future__ import annotations

import torch

FUSED_DEVICES = ("cpu", "cuda")  # where torch.optim.AdamW(fused=True) runs for floating-point parameters


def adamw(params, **options) -> torch.optim.AdamW:
    """torch.optim.AdamW(params, **options), with fused=True when every parameter is a floating-point tensor on a
    CPU or CUDA device: one kernel for the whole update instead of about ten per tensor (a step over ResNet-18's
    11 M numbers about 4x faster on one CPU thread here); the same rule, rounded differently in the last bits."""
    groups = [dict(group, params=_listed(group["params"])) if isinstance(group, dict) else group
              for group in _listed(params)]
    tensors = [p for group in groups for p in (group["params"] if isinstance(group, dict) else [group])]
    fused = all(p.device.type in FUSED_DEVICES and p.is_floating_point() for p in tensors) or None
    return torch.optim.AdamW(groups, fused=fused, **options)


def _listed(params) -> list:
    """A list of what an optimizer takes as ``params`` (one tensor, or any iterable, read once)."""
    return [params] if isinstance(params, torch.Tensor) else list(params)
