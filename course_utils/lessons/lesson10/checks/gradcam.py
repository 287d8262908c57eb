"""Lesson 10: the checker of grad_cam, on a small network whose every module counts the hooks registered on it."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ....checking import expect
from ....checking.sandbox import Mismatch
from ....training.gradcam import grad_cam as reference_grad_cam


class _Counter:
    """Calls of the hooks registered on any module of the checker's network; every module shares one."""

    def __init__(self):
        self.fired = 0


class _Counting:
    """Mixin for a module that counts the calls of every hook registered on it, so a hook left behind shows when
    the network runs again (nothing private is read: the hooks report themselves)."""

    counter: _Counter

    def _counted(self, hook):
        counter = self.counter

        def counted(*args, **kwargs):
            counter.fired += 1
            return hook(*args, **kwargs)
        return counted

    def register_forward_hook(self, hook, *args, **kwargs):
        return super().register_forward_hook(self._counted(hook), *args, **kwargs)

    def register_forward_pre_hook(self, hook, *args, **kwargs):
        return super().register_forward_pre_hook(self._counted(hook), *args, **kwargs)

    def register_full_backward_hook(self, hook, *args, **kwargs):
        return super().register_full_backward_hook(self._counted(hook), *args, **kwargs)

    def register_full_backward_pre_hook(self, hook, *args, **kwargs):
        return super().register_full_backward_pre_hook(self._counted(hook), *args, **kwargs)

    def register_backward_hook(self, hook):
        return super().register_backward_hook(self._counted(hook))


class _Conv(_Counting, nn.Conv2d):
    pass


class _Norm(_Counting, nn.BatchNorm2d):
    pass


class _ReLU(_Counting, nn.ReLU):
    pass


class _MaxPool(_Counting, nn.MaxPool2d):
    pass


class _AvgPool(_Counting, nn.AdaptiveAvgPool2d):
    pass


class _Flatten(_Counting, nn.Flatten):
    pass


class _Linear(_Counting, nn.Linear):
    pass


class _Block(_Counting, nn.Sequential):
    pass


class _Net(_Counting, nn.Module):
    """A small CNN with BatchNorm whose every module counts its hooks: stem, the block whose output Grad-CAM reads
    ([B, 6, 8, 8] for 16 px images), then a convolution (so the gradient differs from place to place), pooling and
    a linear layer over 4 classes."""

    def __init__(self):
        super().__init__()
        self.stem = _Block(_Conv(3, 6, 3, padding=1), _Norm(6), _ReLU(), _MaxPool(2))
        self.block = _Block(_Conv(6, 6, 3, padding=1), _ReLU())
        self.head = _Block(_Conv(6, 6, 3, padding=1), _ReLU(), _AvgPool(1), _Flatten(), _Linear(6, 4))
        counter = _Counter()
        for module in self.modules():
            module.counter = counter

    def forward(self, x):
        return self.head(self.block(self.stem(x)))


def cam_model() -> _Net:
    """The checker's network in eval mode, its weights and BatchNorm statistics fixed by a seed, scaled so that
    the maps' raw maxima are of order 1 (an epsilon in a division then changes nothing visible)."""
    with torch.random.fork_rng():
        torch.manual_seed(3)
        model = _Net()
        with torch.no_grad():
            model.stem[1].running_mean.uniform_(-0.1, 0.1)
            model.stem[1].running_var.uniform_(0.5, 1.5)
            for layer in (model.block[0], model.head[0], model.head[4]):
                layer.weight.mul_(4)
    return model.eval()


def cam_images(batch: int, seed: int) -> torch.Tensor:
    """``batch`` 16 px images, each brighter than the last, so their maps peak at different heights."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.randn(batch, 3, 16, 16, generator=generator)
    return images * torch.linspace(0.5, 2.5, batch).view(batch, 1, 1, 1)


def _raw_maps(model: nn.Module, images: torch.Tensor, class_idx) -> torch.Tensor:
    """sum over channels of weight x A, before the ReLU and before any division: for naming mistakes."""
    saved = {}
    handle = nn.Module.register_forward_hook(model.block, lambda m, i, o: saved.__setitem__("A", o))
    try:
        with torch.enable_grad():
            scores = model(images)
            chosen = scores.argmax(1) if class_idx is None else torch.as_tensor(class_idx).long().expand(len(images))
            gradient, = torch.autograd.grad(scores.gather(1, chosen[:, None]).sum(), saved["A"])
    finally:
        handle.remove()
    return (gradient.mean(dim=(2, 3), keepdim=True) * saved["A"]).sum(1).detach()


def _by_own_max(maps: torch.Tensor) -> torch.Tensor:
    peak = maps.amax(dim=(1, 2), keepdim=True)
    return torch.where(peak > 0, maps / peak.clamp_min(1e-12), maps)


def _cases():
    """(description, images, class_idx): None, 0, an int, a list, a tuple, a tensor, a NumPy array and a NumPy int,
    and a single image."""
    yield "3 images, class_idx=None (each image's predicted class)", cam_images(3, 0), None
    yield "3 images, class_idx=2 for all", cam_images(3, 1), 2
    yield "3 images, class_idx=[0, 3, 1]", cam_images(3, 2), [0, 3, 1]
    yield "4 images, class_idx=torch.tensor([1, 1, 0, 2])", cam_images(4, 3), torch.tensor([1, 1, 0, 2])
    yield "3 images, class_idx=(3, 0, 2) (a tuple)", cam_images(3, 5), (3, 0, 2)
    yield "2 images, class_idx=np.array([2, 3])", cam_images(2, 6), np.array([2, 3])
    yield "3 images, class_idx=0 (class 0 for all, not None)", cam_images(3, 7), 0
    yield "2 images, class_idx=np.int64(1)", cam_images(2, 8), np.int64(1)
    yield "1 image, class_idx=None", cam_images(1, 4), None


def _grads(model: nn.Module) -> list:
    return [None if p.grad is None else p.grad.clone() for p in model.parameters()]


def _hooks_fire(model: _Net, images: torch.Tensor) -> tuple[int, str | None]:
    """How many hook calls one more forward and backward pass of the network triggers (0 when none is left), and
    the error that pass raised, if any. The network's .grad is cleared afterwards: run this last."""
    model.counter.fired = 0
    error = None
    try:
        with torch.enable_grad():
            model(images).sum().backward()
    except Exception as exc:  # noqa: BLE001  (a hook the answer left, or a network it changed)
        error = f"{type(exc).__name__}: {exc}"
    model.zero_grad(set_to_none=True)
    return model.counter.fired, error


def _state(model: nn.Module) -> dict:
    return {name: value.detach().clone() for name, value in model.state_dict().items()}


def _changed_state(model: nn.Module, before: dict, flags: list) -> str | None:
    """What the answer changed in the network besides .grad and hooks: dtypes, requires_grad flags, weights."""
    state = model.state_dict()
    if any(state[name].dtype != value.dtype for name, value in before.items()):
        return "the network's parameters left in another dtype (e.g. model.double() without model.float())"
    if [p.requires_grad for p in model.parameters()] != flags:
        return "the parameters' requires_grad flags changed"
    if any(not torch.equal(state[name], value) for name, value in before.items()):
        return "the network's weights or BatchNorm statistics changed (a forward pass in train mode updates them)"
    return None


def _name_map_mistake(out: torch.Tensor, model: nn.Module, images: torch.Tensor, class_idx, want: str) -> None:
    """The maps are wrong: say which known mistake they match, else what differs."""
    raw = _raw_maps(model, images, class_idx)
    if class_idx is not None and expect.close(out, reference_grad_cam(model, model.block, images), atol=1e-4):
        raise Mismatch(want, "the maps of each image's predicted class, not of the classes in class_idx",
                       "score the class you are given: scores[range(B), class_idx] (an int means that class for "
                       "every image); only class_idx=None means the predicted class.", "ignored_class_idx")
    spread = (raw.amax(dim=(1, 2), keepdim=True) - raw.amin(dim=(1, 2), keepdim=True)).clamp_min(1e-12)
    no_relu = ((raw - raw.amin(dim=(1, 2), keepdim=True)) / spread,  # min-max scaled: negative regions turn grey
               raw.abs() / raw.abs().amax(dim=(1, 2), keepdim=True).clamp_min(1e-12))  # evidence against counted for
    if (out.min() < -1e-6 and raw.min() < 0) or any(expect.close(out, m, atol=1e-4) for m in no_relu):
        raise Mismatch(want, "maps that keep the regions with a negative weighted sum (negative values, or all values "
                       "shifted to make room for them)", "apply ReLU to the weighted sum before dividing by its "
                       "maximum: Grad-CAM keeps only what argues FOR the class.", "no_relu")
    relu = torch.relu(raw)
    over_batch = relu / relu.amax().clamp_min(1e-12)
    if len(images) > 1 and expect.close(out, over_batch, atol=1e-4):
        raise Mismatch(want, "maps divided by the largest value of the whole batch: one image's map depends on "
                       "the others (a faint image next to a bright one comes out nearly blank)",
                       "divide each map by its own maximum: maps.amax(dim=(1, 2), keepdim=True).",
                       "normalised_over_batch")
    if expect.close(out, relu, atol=1e-4) or expect.close(out, relu, rtol=1e-3):
        raise Mismatch(want, "the right maps, not divided by their maximum (values above 1)",
                       "divide each map by its own maximum when that maximum is > 0, so it lies in [0, 1].")
    raise Mismatch(want, f"maps that differ from Grad-CAM's by up to {(out - _by_own_max(relu)).abs().max():.3g}",
                   "per image: weights = gradient of its class score w.r.t. the layer's output A, averaged over "
                   "height and width; map = ReLU(sum over channels of weights x A) / its maximum.")


def check_grad_cam(answer) -> None:
    """Judge grad_cam on a small CNN with BatchNorm in eval mode (a convolution after the layer, so gradients differ
    from place to place), 16 px images of different brightness, class_idx given eight ways, against the course's
    Grad-CAM; afterwards no hook on any module may fire, every .grad, requires_grad flag, weight and dtype must be
    as before and the model still in eval mode.

    Names: `no_relu`, `hooks_left`, `ignored_class_idx`, `normalised_over_batch`.
    """
    for description, images, class_idx in _cases():
        model = cam_model()
        with torch.enable_grad():  # a .grad the learner's model could hold from training: it must stay as it is
            model(cam_images(2, 99)).sum().backward()
        expected = reference_grad_cam(model, model.block, images, class_idx)
        before, state, flags = _grads(model), _state(model), [p.requires_grad for p in model.parameters()]
        want = (f"a [{len(images)}, 8, 8] float tensor of maps in [0, 1], each divided by its own maximum, for "
                f"{description}")
        given_idx = class_idx.copy() if hasattr(class_idx, "copy") else class_idx
        given_idx = class_idx.clone() if isinstance(class_idx, torch.Tensor) else given_idx
        out = expect.on_copies(answer, model, model.block, images, given_idx)
        out = expect.tensor(out, want, "return the maps as one tensor [B, h, w].")
        if any(m.training for m in model.modules()):
            raise Mismatch(want, "the model left in train mode", "leave the model's mode as it was: it arrived in "
                           "eval mode (model.eval() is fine; never model.train() at the end).")
        changed = _changed_state(model, state, flags)
        if changed:
            raise Mismatch(want, changed, "Grad-CAM only reads the network: leave its weights, dtype and "
                           "requires_grad flags as they were (undo anything you change, in a `finally:` block).")
        if not all((a is None and b is None) or (a is not None and b is not None and torch.equal(a, b))
                   for a, b in zip(before, _grads(model))):
            raise Mismatch(want, "the parameters' .grad changed (zeroed, accumulated or cleared)",
                           "take the gradient with torch.autograd.grad(score, activations), which writes no .grad; or "
                           "save every parameter's .grad first and put it back.")
        hooks, error = _hooks_fire(model, images)
        if hooks:
            raise Mismatch(want, f"hooks left behind: one more forward and backward pass of the network called them "
                           f"{hooks} time(s)", "keep the handle that register_forward_hook (or "
                           "register_full_backward_hook) returns and call handle.remove() when done, in a `finally:` "
                           "block so an error cannot leave it behind.", "hooks_left")
        if error:
            raise Mismatch(want, f"a network that no longer trains after your function ran ({error})",
                           "leave the network as you found it: restore anything you changed.")
        if out.requires_grad:
            raise Mismatch(want, "a tensor that still requires grad", "return maps.detach(): they are for looking "
                           "at, not for training.")
        if tuple(out.shape) != tuple(expected.shape):
            got = list(out.shape)
            hint = (" (a batch dimension missing?)" if out.dim() == 2 else
                    " (an extra dimension of size 1: sum(dim=1) without keepdim=True)"
                    if out.dim() == 4 and out.shape[1] == 1 else " (the channels kept: sum over them)"
                    if out.dim() == 4 else "")
            raise Mismatch(want, f"shape {got}{hint}", "one map per image at the layer's resolution: [B, h, w].")
        if not out.is_floating_point():
            raise Mismatch(want, f"dtype {out.dtype}", "return float maps: they hold fractions of the maximum.")
        if torch.isnan(out).any():
            raise Mismatch(want, "NaN in the maps: a map that is 0 everywhere after the ReLU was divided by its "
                           "maximum, 0", "divide only where the maximum is > 0: torch.where(peak > 0, maps / "
                           "peak.clamp_min(1e-12), maps).")
        if not expect.close(out, expected, atol=1e-4):
            _name_map_mistake(out.detach(), model, images, class_idx, want)


