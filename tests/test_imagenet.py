"""The offline ImageNet network: the file's hash, its key mapping onto timm, real ImageNet predictions, clear errors."""
import socket

import pytest
import timm
import torch
from PIL import Image

from course_utils.models.backbone import sha256_of
from course_utils.models.imagenet import (ARCHITECTURE, FILE_SHA256, REINSTALL, imagenet_weights, photo_crops,
                                          pretrained_efficientnet_lite0, sample_photo_path, timm_state_dict,
                                          timm_weights_file, top_k, weights_file)
from course_utils.models.pretrained import Preset


@pytest.fixture(scope="module")
def network():
    return pretrained_efficientnet_lite0()


def test_the_installed_file_is_the_published_one():
    assert sha256_of(weights_file()) == FILE_SHA256


def test_every_tensor_of_the_file_has_one_place_in_timm_with_its_shape(network):
    model, weights = network
    state = weights.get_state_dict()
    mapped = timm_state_dict(state, model)
    assert len(state) == len(mapped) == len(model.state_dict()) == 296
    assert all(mapped[k].shape == v.shape for k, v in model.state_dict().items())
    assert sorted(t.data_ptr() for t in mapped.values()) == sorted(t.data_ptr() for t in state.values())
    for name, tensor in model.state_dict().items():  # loaded as mapped, nothing left at its random start
        assert torch.equal(tensor, mapped[name]), name


def test_a_file_with_a_missing_or_unknown_key_is_refused(network):
    model, weights = network
    state = weights.get_state_dict()
    renamed = dict(state)
    renamed["_blocks.3._squeeze.weight"] = renamed.pop("_blocks.3._depthwise_conv.weight")
    with pytest.raises(ValueError, match="_squeeze"):
        timm_state_dict(renamed, model)
    missing = dict(state)
    del missing["_fc.bias"]
    with pytest.raises(ValueError, match="classifier.bias"):
        timm_state_dict(missing, model)
    wrong = dict(state, **{"_fc.weight": torch.zeros(10, 1280)})
    with pytest.raises(ValueError, match="another shape"):
        timm_state_dict(wrong, model)


def test_the_mapping_reproduces_the_top_5_measured_when_it_was_written(network):
    """Grace Hopper through the file's tensors under timm's names: the top-5 the issue measured (ImageNet mean and
    std, bilinear, resize 256, crop 224); a wrong mapping or the symmetric-padding variant gives another."""
    model, weights = network
    issue_preset = Preset(224, 256, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    with torch.no_grad():
        probabilities = model(issue_preset(Image.open(sample_photo_path()).convert("RGB"))[None]).softmax(1)[0]
    top = probabilities.topk(5)
    assert [weights.meta["categories"][i] for i in top.indices] == ["mortarboard", "academic gown", "military uniform",
                                                                    "bow tie", "Windsor tie"]
    assert top.values.tolist() == pytest.approx([0.240, 0.237, 0.217, 0.072, 0.050], abs=0.002)


def test_the_preset_gives_the_first_layer_the_statistics_its_batchnorm_expects(network):
    """Inputs in [-1, 1] (mean = std = 0.5): the stem's output variance on real photo views is what bn1's running
    variance says (median ratio near 1); ImageNet's mean and std give several times more."""
    model, weights = network
    photo = Image.open(sample_photo_path()).convert("RGB")
    views = [photo, *photo_crops(photo, 15, seed=1)]

    def ratio(preset):
        with torch.no_grad():
            out = model.conv_stem(torch.stack([preset(v) for v in views]))
        return (out.var((0, 2, 3)) / model.bn1.running_var).median().item()

    ours, imagenet = ratio(weights.transforms()), ratio(Preset(224, 256, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)))
    assert 0.5 < ours < 2 and imagenet > 3 * ours


def test_the_sample_photo_gets_imagenet_predictions(network):
    """With the course's preset: the five most probable classes, all clothing."""
    model, weights = network
    predictions = top_k(model, weights, Image.open(sample_photo_path()).convert("RGB"))
    assert [name for name, _ in predictions] == ["academic gown", "mortarboard", "military uniform", "vestment",
                                                  "Windsor tie"]
    assert [p for _, p in predictions] == pytest.approx([0.242, 0.209, 0.181, 0.048, 0.043], abs=0.002)
    assert not model.training


def test_a_damaged_file_gets_a_clear_message_at_once(tmp_path):
    damaged = tmp_path / "efficientnet-lite0.pth"
    data = bytearray(weights_file().read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="damaged") as error:
        pretrained_efficientnet_lite0(damaged)
    assert REINSTALL in str(error.value)
    with pytest.raises(FileNotFoundError, match="Reinstall"):
        imagenet_weights(tmp_path / "absent.pth")


def test_the_weights_object_looks_like_torchvisions(network):
    _, weights = network
    preset = weights.transforms()
    assert preset.crop_size == [224] and preset.resize_size == [256]
    assert weights.transforms(crop_size=128).crop_size == [128]
    assert len(weights.meta["categories"]) == 1000 and weights.meta["license"] == "Apache-2.0"
    assert weights.meta["num_params"] == sum(p.numel() for p in network[0].parameters())


def _folder(root, colours=((255, 0, 0), (0, 0, 255))):
    for split in ("train", "val"):
        for c, colour in enumerate(colours):
            (root / split / f"class{c}").mkdir(parents=True)
            for i in range(2):
                Image.new("RGB", (40 + 8 * i, 40), colour).save(root / split / f"class{c}" / f"{i}.png")
    return root


def test_features_are_computed_once_per_machine_and_recomputed_when_the_data_change(tmp_path, monkeypatch, capsys):
    from course_utils.models.imagenet import imagenet_features

    monkeypatch.setenv("COURSE_CACHE", str(tmp_path / "cache"))
    root = _folder(tmp_path / "images")
    train, val = imagenet_features(root, size=64, progress=False)
    assert train.tensors[0].shape == (4, 1280) and train.tensors[1].tolist() == [0, 0, 1, 1]
    assert "cache" not in capsys.readouterr().out
    again_train, again_val = imagenet_features(root, size=64, progress=False)
    assert "loaded from this machine's cache" in capsys.readouterr().out
    assert torch.equal(again_val.tensors[0], val.tensors[0])
    Image.new("RGB", (40, 40), (0, 255, 0)).save(root / "val" / "class0" / "0.png")  # same name, new content
    changed_train, changed_val = imagenet_features(root, size=64, progress=False)
    assert "cache" not in capsys.readouterr().out
    assert not torch.equal(changed_val.tensors[0][0], val.tensors[0][0])
    assert torch.equal(changed_val.tensors[0][1:], val.tensors[0][1:])  # one image at a time: no batch effects


def test_an_imagenet_head_pairs_with_the_comparison_runs():
    """train_head trains on other features with the head-only settings and refuses validation images in another order."""
    from torch.utils.data import TensorDataset

    from course_utils.training.finetune import ComparisonData, train_head

    torch.manual_seed(0)
    labels = torch.arange(5).repeat(8)
    features = torch.randn(40, 16) + 3 * torch.nn.functional.one_hot(labels, 16).float()
    data = ComparisonData(TensorDataset(torch.zeros(40, 3, 8, 8), labels), TensorDataset(torch.zeros(40, 3, 8, 8), labels),
                          num_classes=5, pretrained_state={})
    run = train_head("other features", data, TensorDataset(features, labels), TensorDataset(features, labels), seed=0,
                     epochs=5, lr=0.05)
    assert run.accuracy > 0.9 and len(run.val_correct) == 40 and run.drift == 0 and len(run.val_accuracy) == 5
    again = train_head("other features", data, TensorDataset(features, labels), TensorDataset(features, labels),
                       seed=0, epochs=5, lr=0.05)
    assert (again.val_accuracy, again.val_correct) == (run.val_accuracy, run.val_correct)  # seeded: repeatable
    with pytest.raises(ValueError, match="same order"):
        train_head("x", data, TensorDataset(features, labels), TensorDataset(features, labels.flip(0)), seed=0, epochs=1)


def test_nothing_touches_the_network(monkeypatch, tmp_path):
    """Loading the network and computing features with every socket refused: it still works."""
    import socket

    from course_utils.models.imagenet import imagenet_features

    def refuse(*args, **kwargs):
        raise AssertionError(f"a network call: {args[:2]}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path / "cache"))
    model, weights = pretrained_efficientnet_lite0()
    assert len(weights.meta["categories"]) == 1000
    train, _ = imagenet_features(_folder(tmp_path / "images"), size=32, progress=False)
    assert train.tensors[0].shape == (4, 1280)


def test_timms_own_loader_reads_the_course_copy_without_the_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the network was touched")

    monkeypatch.setattr(socket, "create_connection", refuse)
    model = timm.create_model(ARCHITECTURE, pretrained=True, num_classes=5,
                              pretrained_cfg_overlay=dict(file=str(timm_weights_file())))
    reference, _ = pretrained_efficientnet_lite0()
    ours, theirs = model.state_dict(), reference.state_dict()
    assert model.get_classifier().out_features == 5
    assert all(torch.equal(ours[k], theirs[k]) for k in ours if not k.startswith("classifier."))
