"""Lesson 01: the checkers of to_batch and flatten_features, with the mistakes each can name."""
from __future__ import annotations

import numpy as np
import torch

from ...checking import expect
from ...checking.describe import describe, shape_of
from ...checking.sandbox import LearnerError, Mismatch


def _image(height: int, width: int, channels: int | None, seed: int) -> np.ndarray:
    shape = (height, width) if channels is None else (height, width, channels)
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


_TO_BATCH_FIX = "torch.from_numpy(image).permute(2, 0, 1).float().div(255).unsqueeze(0)"


def _judge_batch(out, image: np.ndarray, label: str) -> None:
    """Compare one to_batch output with the reference, naming the mistake its shape or values reveal."""
    h, w = image.shape[:2]
    want = f"a float32 tensor of shape [1, 3, {h}, {w}] with values in [0, 1] for {label}"
    out = expect.tensor(out, want, f"build the tensor with {_TO_BATCH_FIX}.")
    shape = tuple(out.shape)
    if shape in ((1, h, w, 3), (h, w, 3), (1, h, w, 4), (h, w, 4)):
        raise Mismatch(want, f"{describe(out)}: channels are still last (height x width x channels)",
                       "move the channel axis to the front with .permute(2, 0, 1) before adding the batch "
                       "dimension; a Conv2d reads dimension 1 as channels.", "hwc_not_permuted")
    if shape == (3, h, w):
        raise Mismatch(want, f"{describe(out)}: there is no batch dimension",
                       "add one with .unsqueeze(0): models take [batch, channels, height, width], even for one image.",
                       "missing_batch_dim")
    if shape != (1, 3, h, w):
        raise Mismatch(want, describe(out), f"check each step's shape; the usual recipe is {_TO_BATCH_FIX}.")

    values = out.detach().cpu().to(torch.float64)
    rgb = torch.from_numpy(np.ascontiguousarray(image[..., :3])).to(torch.float64)
    correct = rgb.permute(2, 0, 1).unsqueeze(0) / 255
    viewed = rgb.reshape(1, 3, h, w) / 255  # what .view/.reshape does instead of permute
    unscaled = values.max().item() > 1.0 + 1e-6
    if out.is_floating_point() and out.dtype != torch.float32 and not unscaled:
        raise Mismatch(want, describe(out),
                       "convert with .float() (float32, what model weights use); NumPy's `/ 255.0` gives float64.",
                       "wrong_dtype")
    scaled = values / 255 if unscaled else values
    if not expect.close(scaled, correct, atol=1e-6):
        if expect.close(scaled, viewed, atol=1e-6):
            raise Mismatch(want, "the right shape, but pixels in the wrong places: .view/.reshape "
                           "reinterpreted height x width x channels memory instead of moving the axes",
                           "use .permute(2, 0, 1), which moves axes; .view only relabels the same memory.",
                           "view_instead_of_permute")
        _judge_scale(values, correct, want)
        y, x, c = (1 % h, 2 % w, 2)
        raise Mismatch(want, f"values in the wrong places: pixel (y={y}, x={x}, channel={c}) holds "
                       f"{image[y, x, c]} and should appear at [0, {c}, {y}, {x}] as {image[y, x, c] / 255:.4f}, "
                       f"but your tensor has {values[0, c, y, x].item():.4f} there",
                       f"pixel (y, x, c) must land at [0, c, y, x]: {_TO_BATCH_FIX}.")
    if unscaled or not out.is_floating_point():
        raise Mismatch(want, f"{describe(out)} with values up to {values.max().item():g}",
                       "convert to float and divide by 255: .float() / 255.", "not_scaled")


def _judge_scale(values: torch.Tensor, correct: torch.Tensor, want: str) -> None:
    """Pixels in the right places but scaled another way (normalised, min-max, integer division)?"""
    if set(values.unique().tolist()) <= {0.0, 1.0} and correct.max() > correct.min():
        raise Mismatch(want, "only the values 0 and 1: integer division (// 255) threw the fractions away",
                       "divide a float tensor: .float() / 255.")
    for v, c in zip(values[0], correct[0]):
        design = torch.stack([c.flatten(), torch.ones(c.numel(), dtype=c.dtype)], dim=1)
        fit = torch.linalg.lstsq(design, v.flatten().unsqueeze(1)).solution
        if (design @ fit).squeeze(1).sub(v.flatten()).abs().max() > 2e-3:
            return
    raise Mismatch(want, "every pixel in its place, but scaled differently: each channel is a*(pixel/255) + b "
                   "for other a, b (normalised with a mean and std, min-max scaled, or divided by another number)",
                   "return plain pixel/255 values in [0, 1]; normalising with a mean and std belongs to the model's "
                   "transform, later.")


def check_to_batch(answer) -> None:
    """Judge to_batch on an RGB (5x7), an RGBA (6x4) and a grayscale (4x5) uint8 image, and a 1x1 boundary image.

    Names: `hwc_not_permuted`, `view_instead_of_permute`, `missing_batch_dim`, `not_scaled`, `wrong_dtype`,
    `grayscale_not_expanded`, `alpha_not_dropped`, `modified_input` (each image is given as a copy, then compared).
    """
    rgb = _image(5, 7, 3, seed=1)
    _judge_batch(expect.on_copies(answer, rgb), rgb, "an RGB image of shape (5, 7, 3)")

    rgba = _image(6, 4, 4, seed=2)
    out = expect.plain_tensor(expect.on_copies(answer, rgba))
    if out is not None and tuple(out.shape) == (1, 4, 6, 4):
        raise Mismatch("3 channels for an RGBA image of shape (6, 4, 4): the alpha channel dropped",
                       f"{describe(out)}: the alpha channel was kept",
                       "keep only the colour channels with image[..., :3].", "alpha_not_dropped")
    _judge_batch(out, rgba, "an RGBA image of shape (6, 4, 4)")

    gray = _image(4, 5, None, seed=3)
    want = "a [1, 3, 4, 5] tensor with the gray values repeated in all 3 channels for a grayscale image of shape (4, 5)"
    try:
        out = expect.on_copies(answer, gray)
    except LearnerError as err:
        raise Mismatch(want, f"raised {err}" + (f" ({err.learner_line})" if err.learner_line else ""),
                       "a grayscale image has only 2 dimensions: check image.ndim == 2 and repeat it to 3 "
                       "channels, e.g. np.stack([image] * 3, axis=-1).", "grayscale_not_expanded") from None
    plain = expect.plain_tensor(out)
    if plain is not None and (plain.dim() >= 3 and tuple(plain.shape[-2:]) == (4, 5) and plain.shape[-3] == 1
                              or tuple(plain.shape) in ((4, 5), (1, 4, 5))):
        raise Mismatch(want, f"{describe(out)}: a single channel",
                       "pretrained models expect 3 channels: repeat the gray channel 3 times.", "grayscale_not_expanded")
    _judge_batch(out, np.stack([gray] * 3, axis=-1), "a grayscale image of shape (4, 5)")

    tiny = _image(1, 1, 3, seed=4)
    _judge_batch(expect.on_copies(answer, tiny), tiny, "a 1x1 RGB image (boundary case)")


def _judge_flat(out, x: torch.Tensor, passed_batches: bool) -> None:
    b = x.shape[0]
    features = x[0].numel()
    want = f"a tensor of shape [{b}, {features}] for input {shape_of(x)}, equal to torch.flatten(x, 1)"
    out = expect.tensor(out, want, "return torch.flatten(x, 1) or x.view(x.size(0), -1).")
    expected = torch.flatten(x, 1)
    if out.dtype != x.dtype:
        raise Mismatch(want, describe(out), f"keep the input's dtype ({x.dtype}): reshaping never needs a conversion.")
    if tuple(out.shape) == tuple(expected.shape) and expect.same(out, expected):
        return
    if passed_batches:  # fine for a normal batch, wrong when a dimension has size 1
        raise Mismatch(want, f"{describe(out)}: a size-1 dimension was squeezed away",
                       "never call .squeeze() on a batch; torch.flatten(x, 1) keeps the batch dimension even for B = 1.",
                       "squeezed_batch")
    if out.numel() == x.numel() and b > 1 and max(out.shape) == x.numel():
        raise Mismatch(want, f"{describe(out)}: the whole batch flattened into one long "
                       f"{'vector' if out.dim() == 1 else 'row'}",
                       "flatten from dimension 1 so the batch stays: torch.flatten(x, 1).", "flatten_all")
    if out.numel() == x.numel() and out.dim() == 2:
        rows = out.reshape(b, features) if tuple(out.shape) == (b, features) else None
        same_samples = rows is not None and expect.same(rows.sort(dim=1).values, expected.sort(dim=1).values)
        if same_samples:
            raise Mismatch(want, "each row holds its own sample's values, but in a different order from torch.flatten(x, 1)",
                           "flatten in channel, height, width order: do not permute before flattening.")
        raise Mismatch(want, f"{describe(out)} whose rows mix values from different samples",
                       "the first dimension must stay the batch: x.view(x.size(0), -1), not x.view(-1, x.size(0)).",
                       "batch_mixed")
    raise Mismatch(want, describe(out), "return torch.flatten(x, 1).")


def check_flatten_features(answer) -> None:
    """Judge flatten_features on a [4, 3, 5, 6] batch, then the boundaries [1, 3, 5, 6] and [2, 1, 1, 1].

    Names: `flatten_all`, `batch_mixed`, `squeezed_batch`, `modified_input`.
    """
    generator = torch.Generator().manual_seed(11)
    x = torch.randn(4, 3, 5, 6, generator=generator)
    _judge_flat(expect.on_copies(answer, x), x, passed_batches=False)
    for shape in ((1, 3, 5, 6), (2, 1, 1, 1)):  # boundary: batch of one, and 1x1 single-channel maps
        x = torch.randn(*shape, generator=generator)
        _judge_flat(expect.on_copies(answer, x), x, passed_batches=True)
