"""Training helpers against plain PyTorch: train_one_epoch, evaluate, fit, the image grid's un-normalisation."""
import matplotlib

matplotlib.use("Agg")

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402
from torchvision import transforms  # noqa: E402

from course_utils.plots import show_images, unnormalize  # noqa: E402
from course_utils.training.loop import History, evaluate, fit, get_device, train_one_epoch  # noqa: E402


def _blobs(n=60, seed=0):
    generator = torch.Generator().manual_seed(seed)
    targets = torch.arange(3).repeat(n // 3)
    inputs = torch.tensor([[2.0, 0.0], [-2.0, 1.0], [0.0, -2.0]])[targets] + 0.3 * torch.randn(n, 2, generator=generator)
    return TensorDataset(inputs, targets)


def test_evaluate_matches_a_manual_computation():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.Dropout(0.5), nn.Linear(8, 3))
    loader = DataLoader(_blobs(), batch_size=7)
    metrics = evaluate(model, loader, device=torch.device("cpu"))
    model.eval()
    x, y = _blobs().tensors
    with torch.no_grad():
        out = model(x)
    assert abs(metrics.accuracy - (out.argmax(1) == y).float().mean().item()) < 1e-9
    assert abs(metrics.loss - nn.functional.cross_entropy(out, y).item()) < 1e-5


def test_fit_learns_and_returns_history_as_data():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
    train, val = DataLoader(_blobs(), batch_size=8, shuffle=True), DataLoader(_blobs(30, seed=1), batch_size=8)
    history = fit(model, train, val, torch.optim.Adam(model.parameters(), lr=0.05), epochs=5, progress=False)
    assert isinstance(history, History) and len(history.val_accuracy) == len(history.seconds) == 5
    assert history.train_loss[-1] < history.train_loss[0] and history.best_val_accuracy > 0.9


def test_train_one_epoch_updates_the_model():
    torch.manual_seed(0)
    model = nn.Linear(2, 3)
    before = model.weight.detach().clone()
    metrics = train_one_epoch(model, DataLoader(_blobs(), batch_size=10), nn.CrossEntropyLoss(),
                              torch.optim.SGD(model.parameters(), lr=0.1), progress=False)
    assert not torch.equal(before, model.weight) and 0 <= metrics.accuracy <= 1 and model.training


def test_empty_loader_gets_a_clear_error():
    empty = DataLoader(TensorDataset(torch.zeros(0, 2), torch.zeros(0, dtype=torch.long)))
    try:
        evaluate(nn.Linear(2, 3), empty)
    except ValueError as exc:
        assert "no samples" in str(exc)
    else:
        raise AssertionError("expected a ValueError")


def test_device_is_chosen_once():
    assert get_device() is get_device()
    assert get_device().type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_unnormalize_inverts_torchvision_normalize():
    mean, std = (0.3, 0.4, 0.5), (0.2, 0.25, 0.3)
    image = torch.rand(3, 8, 8)
    assert torch.allclose(unnormalize(transforms.Normalize(mean, std)(image), mean, std), image, atol=1e-6)


def test_show_images_draws_a_grid(monkeypatch):
    from course_utils import plots
    shown = []
    monkeypatch.setattr(plots, "show_figure", shown.append)
    show_images(torch.zeros(5, 3, 8, 8), [0, 1, 2, 0, 1], ["a", "b", "c"], mean=(0.5,) * 3, std=(0.5,) * 3, columns=4)
    figure = shown[0]
    titles = [ax.get_title() for ax in figure.axes if ax.get_title()]
    assert titles == ["a", "b", "c", "a", "b"]
    pixel = figure.axes[0].get_images()[0].get_array()[0, 0]
    assert abs(float(pixel[0]) - 0.5) < 1e-6  # 0 normalised with mean 0.5 / std 0.5 shows as grey 0.5


def _frozen_bn_model():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    for p in list(model[0].parameters()) + list(model[1].parameters()):
        p.requires_grad = False
    return model


def test_fit_keeps_frozen_batchnorm_in_eval_mode_by_default():
    model = _frozen_bn_model()
    stats = model[1].running_mean.clone()
    train, val = DataLoader(_blobs(), batch_size=8, shuffle=True), DataLoader(_blobs(30, seed=1), batch_size=8)
    history = fit(model, train, val, torch.optim.SGD(model[3].parameters(), lr=0.1), epochs=2, progress=False)
    assert history.frozen_bn_in_eval == 1 and torch.equal(model[1].running_mean, stats)
    drifting = _frozen_bn_model()
    fit(drifting, train, val, torch.optim.SGD(drifting[3].parameters(), lr=0.1), epochs=2, progress=False,
        frozen_bn="train")
    assert not torch.equal(drifting[1].running_mean, stats)


def test_unknown_frozen_bn_choice_lists_the_choices():
    import pytest
    with pytest.raises(ValueError, match="'eval', 'train'"):
        train_one_epoch(nn.Linear(2, 3), DataLoader(_blobs()), nn.CrossEntropyLoss(), None, frozen_bn="freeze")


def test_cached_features_and_linear_probe_match_plain_pytorch():
    from course_utils.models.features import extract_features, linear_probe
    torch.manual_seed(0)
    backbone = nn.Sequential(nn.Linear(2, 6), nn.BatchNorm1d(6), nn.ReLU())
    backbone.train()
    cached = extract_features(backbone, DataLoader(_blobs(), batch_size=7))
    backbone.eval()
    with torch.no_grad():
        assert torch.allclose(cached.tensors[0], backbone(_blobs().tensors[0]), atol=1e-6)
    backbone.train()
    assert backbone.training and backbone[1].training  # modes given back
    accuracy = linear_probe(cached, extract_features(backbone, DataLoader(_blobs(30, seed=1), batch_size=30)))
    assert accuracy > 0.9


def test_library_adamw_is_fused_on_cpu_and_steps_like_torch_adamw():
    """training/optim.adamw: PyTorch's fused AdamW where the device has it, the same update as torch.optim.AdamW
    (the reference) up to rounding; groups, a lone tensor and a generator of parameters are all accepted."""
    from course_utils.training.optim import adamw
    torch.manual_seed(0)
    ours, reference = nn.Linear(6, 3), nn.Linear(6, 3)
    reference.load_state_dict(ours.state_dict())
    mine = adamw([{"params": ours.weight, "lr": 1e-2}, {"params": iter([ours.bias]), "lr": 1e-3}], weight_decay=0.1)
    theirs = torch.optim.AdamW([{"params": reference.weight, "lr": 1e-2}, {"params": [reference.bias], "lr": 1e-3}],
                               weight_decay=0.1)
    assert mine.defaults["fused"] is True and [len(g["params"]) for g in mine.param_groups] == [1, 1]
    x = torch.randn(8, 6)
    for _ in range(5):
        for model, optimizer in ((ours, mine), (reference, theirs)):
            optimizer.zero_grad()
            model(x).square().mean().backward()
            optimizer.step()
    assert torch.allclose(ours.weight, reference.weight, atol=1e-6)
    assert torch.allclose(ours.bias, reference.bias, atol=1e-6)
    assert not torch.equal(ours.weight, nn.Linear(6, 3).weight)  # it trained
    assert adamw(nn.Linear(2, 2, device="meta").parameters()).defaults["fused"] is None  # no fused kernel there
