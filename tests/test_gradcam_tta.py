"""Grad-CAM against a hand computation with autograd, its promises (no hook left, gradients and mode as before, one
image's map its own), and test-time augmentation over the 8 symmetries of a square image."""
import torch
from torch import nn

from course_utils.training.gradcam import grad_cam
from course_utils.training.tta import predict_with_symmetries, symmetries


def _cnn() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(), nn.Conv2d(6, 8, 3, padding=1),
                         nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.5), nn.Linear(8, 3))


def _by_hand(model, layer_index, image, cls):
    model = model.eval()
    a = model[:layer_index + 1](image[None]).detach().requires_grad_(True)
    score = model[layer_index + 1:](a)[0, cls]
    g, = torch.autograd.grad(score, a)
    cam = torch.relu((g.mean(dim=(2, 3), keepdim=True) * a).sum(1))[0].detach()
    return cam / cam.max() if cam.max() > 0 else cam


def test_grad_cam_is_the_hand_computation_for_each_image_and_class():
    model, images = _cnn(), torch.randn(4, 3, 10, 10, generator=torch.Generator().manual_seed(1))
    for class_idx in (None, 2, [0, 1, 2, 0]):
        maps = grad_cam(model, model[4], images, class_idx)
        assert maps.shape == (4, 10, 10) and not maps.requires_grad
        assert maps.min() >= 0 and maps.max() <= 1
        chosen = (model.eval()(images).argmax(1).tolist() if class_idx is None
                  else [class_idx] * 4 if isinstance(class_idx, int) else class_idx)
        for i in range(4):
            assert torch.allclose(maps[i], _by_hand(model, 4, images[i], chosen[i]), atol=1e-5)
        alone = grad_cam(model, model[4], images[1:2], None if class_idx is None else [chosen[1]])
        assert torch.allclose(alone[0], maps[1], atol=1e-5)     # one image's map depends on that image alone


def test_grad_cam_leaves_no_hook_the_gradients_and_the_mode_as_they_were():
    model = _cnn().train()
    model(torch.randn(2, 3, 8, 8)).sum().backward()
    before = [p.grad.clone() for p in model.parameters()]
    grad_cam(model, model[4], torch.randn(2, 3, 8, 8))
    assert all(torch.equal(b, p.grad) for b, p in zip(before, model.parameters()))
    assert model.training and all(m.training for m in model.modules())
    assert not any(m._forward_hooks for m in model.modules())


def test_the_eight_symmetries_are_distinct_and_averaging_them_is_invariant():
    image = torch.arange(2 * 3 * 4 * 4, dtype=torch.float).reshape(2, 3, 4, 4)
    views = symmetries(image)
    assert len(views) == 8 and len({tuple(v.flatten().tolist()) for v in views}) == 8
    model = _cnn().train()
    turned = torch.rot90(image, 1, dims=(-2, -1)).flip(-1)
    assert torch.allclose(predict_with_symmetries(model, image), predict_with_symmetries(model, turned), atol=1e-6)
    assert model.training
