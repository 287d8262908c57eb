"""Lesson 01 checks beyond the contract: other shapes of the same mistakes, and messages that say what differs."""
import numpy as np
import torch

from course_utils import check_exercise
from helpers import assert_mistake, stub


def test_untouched_stub_points_to_hints():
    assert "hint('to_batch')" in check_exercise("to_batch", stub("to_batch")).message


def test_to_batch_other_mistake_shapes():
    def crashes_on_gray(image):
        rgb = image[..., :3]                      # on a 2-D array this slices columns
        return torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).float().div(255).unsqueeze(0)

    def stays_uint8(image):
        rgb = np.stack([image] * 3, -1) if image.ndim == 2 else image[..., :3]
        return torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).unsqueeze(0)
    assert_mistake("to_batch", crashes_on_gray, "grayscale_not_expanded")
    assert_mistake("to_batch", stays_uint8, "not_scaled")


def test_numpy_array_instead_of_a_tensor_says_how_to_convert():
    def numpy_batch(image):
        rgb = np.stack([image] * 3, -1) if image.ndim == 2 else image[..., :3]
        return (np.transpose(rgb, (2, 0, 1)) / 255).astype(np.float32)[None]
    result = check_exercise("to_batch", numpy_batch)
    assert result.status == "failed" and "NumPy array" in result.message and "torch.from_numpy" in result.message


def test_flatten_squeeze_at_the_end_is_named():
    assert_mistake("flatten_features", lambda x: x.view(x.size(0), -1).squeeze(), "squeezed_batch")


def test_whole_batch_in_one_row_is_flatten_all_not_batch_mixed():
    assert_mistake("flatten_features", lambda x: x.reshape(1, -1), "flatten_all")
    assert_mistake("flatten_features", lambda x: x.reshape(-1, 1), "flatten_all")


def test_flatten_wrong_order_is_explained_without_a_false_mistake_id():
    result = check_exercise("flatten_features", lambda x: x.permute(0, 2, 3, 1).reshape(x.shape[0], -1))
    assert result.status == "failed" and result.mistake is None
    assert "different order" in result.message


def _rgb_tensor(image):
    rgb = np.stack([image] * 3, -1) if image.ndim == 2 else image[..., :3]
    return torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)


def test_values_scaled_another_way_are_not_called_misplaced():
    normalised = lambda image: ((_rgb_tensor(image).float() / 255 - 0.5) / 0.5).unsqueeze(0)  # noqa: E731
    min_max = lambda image: (lambda t: ((t - t.min()) / (t.max() - t.min() + 1e-9)).unsqueeze(0))(  # noqa: E731
        _rgb_tensor(image).float())
    for answer in (normalised, min_max):
        result = check_exercise("to_batch", answer)
        assert result.status == "failed" and "scaled differently" in result.message
    floor_divided = lambda image: (_rgb_tensor(image) // 255).float().unsqueeze(0)  # noqa: E731
    assert "integer division" in check_exercise("to_batch", floor_divided).message


def test_half_precision_is_named_as_a_dtype_mistake():
    assert_mistake("to_batch", lambda image: (_rgb_tensor(image).half() / 255).unsqueeze(0), "wrong_dtype")
