"""Lesson 01 answers for the checker contract (test_exercise_contract.py), plus checks specific to its exercises."""
import numpy as np
import torch
from torchvision.transforms import functional as TF

from course_utils import check_exercise
from helpers import assert_mistake, stub


def _rgb(image):
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return np.ascontiguousarray(image[..., :3])


TO_BATCH_MUTANTS = {
    "hwc_not_permuted": lambda im: torch.from_numpy(_rgb(im)).float().div(255).unsqueeze(0),
    "view_instead_of_permute": lambda im: torch.from_numpy(_rgb(im)).view(1, 3, *im.shape[:2]).float() / 255,
    "missing_batch_dim": lambda im: torch.from_numpy(_rgb(im)).permute(2, 0, 1).float() / 255,
    "not_scaled": lambda im: torch.from_numpy(_rgb(im)).permute(2, 0, 1).float().unsqueeze(0),
    "wrong_dtype": lambda im: torch.from_numpy(_rgb(im) / 255.0).permute(2, 0, 1).unsqueeze(0),
    "grayscale_not_expanded": lambda im: torch.from_numpy(np.ascontiguousarray(im[..., :3] if im.ndim == 3 else im[..., None])).permute(2, 0, 1).float().div(255).unsqueeze(0),
    "alpha_not_dropped": lambda im: torch.from_numpy(im if im.ndim == 3 else _rgb(im)).permute(2, 0, 1).float().div(255).unsqueeze(0),
}


def _to_batch_modifies_input(image):
    if image.ndim == 3:
        image[:] = image[..., ::-1].copy()  # "BGR to RGB" done in place on the caller's array
    return torch.from_numpy(_rgb(image)).permute(2, 0, 1).float().div(255).unsqueeze(0)


def _to_batch_crashes_on_gray(image):
    rgb = image[..., :3]                      # on a 2-D array this slices columns
    return torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).float().div(255).unsqueeze(0)


def _to_batch_uint8(image):
    return torch.from_numpy(_rgb(image)).permute(2, 0, 1).unsqueeze(0)


TO_BATCH_ALTERNATIVES = [
    lambda im: TF.to_tensor(_rgb(im)).unsqueeze(0),
    lambda im: torch.as_tensor(_rgb(im)).movedim(-1, 0)[None].to(torch.float32).mul(1 / 255),
    lambda im: torch.from_numpy(np.transpose(_rgb(im), (2, 0, 1)).astype(np.float32) / np.float32(255))[None],
]

FLATTEN_MUTANTS = {
    "flatten_all": lambda x: x.flatten(),
    "batch_mixed": lambda x: x.reshape(-1, x.shape[0]).T,
    "squeezed_batch": lambda x: torch.flatten(x.squeeze(), 1),
    "modified_input": lambda x: torch.flatten(x.relu_(), 1),
}

FLATTEN_ALTERNATIVES = [
    lambda x: torch.flatten(x, 1),
    lambda x: x.reshape(len(x), -1),
    lambda x: torch.nn.Flatten()(x),
    lambda x: x.view(x.shape[0], x.shape[1] * x.shape[2] * x.shape[3]),
]


def test_untouched_stub_points_to_hints():
    assert "hint('to_batch')" in check_exercise("to_batch", stub("to_batch")).message


def test_to_batch_other_mistake_shapes():
    assert_mistake("to_batch", _to_batch_crashes_on_gray, "grayscale_not_expanded")
    assert_mistake("to_batch", _to_batch_uint8, "not_scaled")


def test_flatten_squeeze_at_the_end_is_named():
    assert_mistake("flatten_features", lambda x: x.view(x.size(0), -1).squeeze(), "squeezed_batch")


def test_flatten_wrong_order_is_explained_without_a_false_mistake_id():
    result = check_exercise("flatten_features", lambda x: x.permute(0, 2, 3, 1).reshape(x.shape[0], -1))
    assert result.status == "failed" and result.mistake is None
    assert "different order" in result.message


ANSWERS = {
    "to_batch": (TO_BATCH_MUTANTS | {"modified_input": _to_batch_modifies_input}, TO_BATCH_ALTERNATIVES),
    "flatten_features": (FLATTEN_MUTANTS, FLATTEN_ALTERNATIVES),
}
