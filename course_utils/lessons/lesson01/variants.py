"""Lesson 01: more ways of committing each named mistake (written as learners write them, with other idioms:
torchvision functional, PIL, NumPy, loops); the tests check that the checker names each one's id."""
import numpy as np
import torch
from PIL import Image
from torchvision.transforms import functional as TF

from ..declare import same_mistake


def _rgb(image):
    return np.stack([image] * 3, axis=-1) if image.ndim == 2 else image[..., :3]


# ---------------------------------------------------------------- to_batch

@same_mistake("to_batch", "hwc_not_permuted")
def hwc_with_as_tensor(image):
    return torch.as_tensor(np.ascontiguousarray(_rgb(image)), dtype=torch.float32)[None] / 255


@same_mistake("to_batch", "hwc_not_permuted")
def hwc_via_pil_to_numpy(image):
    array = np.asarray(Image.fromarray(np.ascontiguousarray(_rgb(image)))).astype(np.float32) / 255
    return torch.from_numpy(array).unsqueeze(0)


@same_mistake("to_batch", "view_instead_of_permute")
def reshape_instead_of_permute(image):
    rgb = np.ascontiguousarray(_rgb(image))
    return torch.from_numpy(rgb).reshape(1, 3, rgb.shape[0], rgb.shape[1]).float() / 255


@same_mistake("to_batch", "view_instead_of_permute")
def numpy_reshape_instead_of_transpose(image):
    rgb = _rgb(image).astype(np.float32) / 255
    return torch.from_numpy(rgb.reshape(3, rgb.shape[0], rgb.shape[1]).copy())[None]


@same_mistake("to_batch", "missing_batch_dim")
def to_tensor_without_batch(image):
    return TF.to_tensor(np.ascontiguousarray(_rgb(image)))


@same_mistake("to_batch", "missing_batch_dim")
def numpy_chw_without_batch(image):
    return torch.from_numpy(np.transpose(_rgb(image), (2, 0, 1)).astype(np.float32) / 255)


@same_mistake("to_batch", "not_scaled")
def pil_to_tensor_as_float(image):
    return TF.pil_to_tensor(Image.fromarray(np.ascontiguousarray(_rgb(image)))).float().unsqueeze(0)


@same_mistake("to_batch", "not_scaled")
def numpy_float_without_division(image):
    chw = np.transpose(_rgb(image), (2, 0, 1)).astype(np.float32)
    return torch.from_numpy(chw)[None]


@same_mistake("to_batch", "wrong_dtype")
def divided_in_float64(image):
    chw = np.transpose(_rgb(image), (2, 0, 1)) / np.float64(255)
    return torch.tensor(chw)[None]


@same_mistake("to_batch", "wrong_dtype")
def half_precision(image):
    return TF.pil_to_tensor(Image.fromarray(np.ascontiguousarray(_rgb(image)))).half().div(255).unsqueeze(0)


@same_mistake("to_batch", "grayscale_not_expanded")
def grayscale_with_to_tensor(image):
    return TF.to_tensor(np.ascontiguousarray(image if image.ndim == 2 else image[..., :3])).unsqueeze(0)


@same_mistake("to_batch", "grayscale_not_expanded")
def grayscale_with_expand_dims(image):
    array = np.expand_dims(image, -1) if image.ndim == 2 else image[..., :3]
    return torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1).float().unsqueeze(0) / 255


@same_mistake("to_batch", "alpha_not_dropped")
def alpha_kept_by_to_tensor(image):
    rgb = np.stack([image] * 3, axis=-1) if image.ndim == 2 else image
    return TF.to_tensor(np.ascontiguousarray(rgb)).unsqueeze(0)


@same_mistake("to_batch", "alpha_not_dropped")
def alpha_kept_by_movedim(image):
    rgb = np.repeat(image[..., None], 3, axis=-1) if image.ndim == 2 else image
    return torch.from_numpy(rgb.astype(np.float32) / 255).movedim(-1, 0)[None]


@same_mistake("to_batch", "modified_input")
def scaled_in_place(image):
    image[...] = image // 2 * 2                  # "quantise" the caller's array in place
    return torch.from_numpy(np.ascontiguousarray(_rgb(image))).permute(2, 0, 1).float().div(255)[None]


@same_mistake("to_batch", "modified_input")
def flipped_in_place(image):
    image[:] = image[::-1].copy()                 # turned upside down in the caller's array
    return torch.from_numpy(np.ascontiguousarray(_rgb(image))).permute(2, 0, 1).float().div(255)[None]


# ---------------------------------------------------------------- flatten_features

@same_mistake("flatten_features", "flatten_all")
def flatten_all_with_view(x):
    return x.view(-1)


@same_mistake("flatten_features", "flatten_all")
def flatten_all_with_reshape(x):
    return torch.reshape(x, (-1,))


@same_mistake("flatten_features", "batch_mixed")
def batch_mixed_by_channel_first(x):
    return x.transpose(0, 1).reshape(x.shape[0], -1)


@same_mistake("flatten_features", "batch_mixed")
def batch_mixed_in_numpy(x):
    return torch.from_numpy(np.ascontiguousarray(x.detach().numpy().T.reshape(x.shape[0], -1)))


@same_mistake("flatten_features", "squeezed_batch")
def squeezed_with_view(x):
    x = x.squeeze()
    return x.view(x.shape[0], -1)


@same_mistake("flatten_features", "squeezed_batch")
def squeezed_in_a_loop(x):
    rows = [sample.flatten() for sample in x.squeeze()]
    return torch.stack(rows)


@same_mistake("flatten_features", "modified_input")
def flattened_after_scaling_in_place(x):
    x.mul_(1.0).add_(1.0)
    return torch.flatten(x, 1)


@same_mistake("flatten_features", "modified_input")
def flattened_after_clamp_in_place(x):
    return x.clamp_(min=0).reshape(len(x), -1)
