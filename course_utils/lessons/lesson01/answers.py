"""Lesson 01 answers the checkers know: one wrong answer per named mistake, and correct answers written other ways.

Each wrong answer is written as a learner would write it; show_symptom displays it (renamed to the
exercise) next to the reference solution, and the tests check that the checker names its mistake.
"""
import numpy as np
import torch
from torchvision.transforms import functional as TF

from ..declare import alternative, wrong_answer


# ---------------------------------------------------------------- to_batch: wrong answers

@wrong_answer("to_batch")
def hwc_not_permuted(image):
    """Image left as height x width x channels, never permuted"""
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return torch.from_numpy(image[..., :3].copy()).float().div(255).unsqueeze(0)


@wrong_answer("to_batch")
def view_instead_of_permute(image):
    """Axes reordered with view(), which scrambles the pixels"""
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    height, width = image.shape[:2]
    return torch.from_numpy(image[..., :3].copy()).view(1, 3, height, width).float() / 255


@wrong_answer("to_batch")
def missing_batch_dim(image):
    """No batch dimension: a single [3, H, W] image comes back"""
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return torch.from_numpy(image[..., :3].copy()).permute(2, 0, 1).float() / 255


@wrong_answer("to_batch")
def not_scaled(image):
    """Pixel values left at 0-255, never scaled down"""
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return torch.from_numpy(image[..., :3].copy()).permute(2, 0, 1).float().unsqueeze(0)


@wrong_answer("to_batch")
def wrong_dtype(image):
    """Divided in NumPy first, so the tensor comes out float64"""
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return torch.from_numpy(image[..., :3] / 255.0).permute(2, 0, 1).unsqueeze(0)


@wrong_answer("to_batch")
def grayscale_not_expanded(image):
    """Grayscale image left with a single channel"""
    if image.ndim == 2:
        image = image[..., None]
    return torch.from_numpy(image[..., :3].copy()).permute(2, 0, 1).float().div(255).unsqueeze(0)


@wrong_answer("to_batch")
def alpha_not_dropped(image):
    """Alpha channel kept: an RGBA image gives 4 channels"""
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return torch.from_numpy(image.copy()).permute(2, 0, 1).float().div(255).unsqueeze(0)


@wrong_answer("to_batch", "modified_input")
def to_batch_modified_input(image):
    """Caller's image array flipped in place"""
    if image.ndim == 3:
        image[:] = image[..., ::-1].copy()  # "BGR to RGB", done in place on the caller's array
    else:
        image = np.stack([image] * 3, axis=-1)
    return torch.from_numpy(image[..., :3].copy()).permute(2, 0, 1).float().div(255).unsqueeze(0)


# ---------------------------------------------------------------- to_batch: correct answers in other styles

@alternative("to_batch")
def to_batch_with_to_tensor(image):
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return TF.to_tensor(np.ascontiguousarray(image[..., :3])).unsqueeze(0)


@alternative("to_batch")
def to_batch_with_movedim(image):
    rgb = np.repeat(image[..., None], 3, axis=-1) if image.ndim == 2 else image[..., :3]
    return torch.as_tensor(np.ascontiguousarray(rgb)).movedim(-1, 0)[None].to(torch.float32).mul(1 / 255)


@alternative("to_batch")
def to_batch_in_numpy(image):
    if len(image.shape) == 2:
        image = np.dstack([image, image, image])
    chw = np.transpose(image[:, :, :3], (2, 0, 1)).astype(np.float32) / np.float32(255)
    return torch.from_numpy(chw)[None]


# ---------------------------------------------------------------- flatten_features

@wrong_answer("flatten_features")
def flatten_all(x):
    """Batch dimension flattened away too: one long vector"""
    return x.flatten()


@wrong_answer("flatten_features")
def batch_mixed(x):
    """Reshape then transpose mixes values from different samples"""
    return x.reshape(-1, x.shape[0]).T


@wrong_answer("flatten_features")
def squeezed_batch(x):
    """The squeeze() also drops a batch of size 1"""
    return torch.flatten(x.squeeze(), 1)


@wrong_answer("flatten_features", "modified_input")
def flatten_modified_input(x):
    """Caller's tensor changed in place by relu_()"""
    return torch.flatten(x.relu_(), 1)


@alternative("flatten_features")
def flatten_with_reshape(x):
    return x.reshape(len(x), -1)


@alternative("flatten_features")
def flatten_with_module(x):
    return torch.nn.Flatten()(x)


@alternative("flatten_features")
def flatten_with_view(x):
    return x.view(x.shape[0], x.shape[1] * x.shape[2] * x.shape[3])
