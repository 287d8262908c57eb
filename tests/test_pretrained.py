"""Pretrained weights offline first: ImageNet from the hub cache, forced modes, quick fallback, the course backbone."""
import socket
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch
from PIL import Image
from torchvision import transforms
from torchvision.models import ResNet18_Weights, resnet18

from course_utils.models import pretrained
from course_utils.data.generated import SOURCE_TASK
from course_utils.data.demo import demo_image
from course_utils.models.backbone import SHIPPED
from course_utils.models.pretrained import CourseWeights, describe_weights, pretrained_resnet18, resolve_weights
from course_utils.models.seed_call import seed_call

SENTINEL = object()


@pytest.fixture
def no_network(monkeypatch):
    """Fail the test if anything tries to download or open a connection."""
    def refuse(*args, **kwargs):
        raise AssertionError("the network was touched")
    monkeypatch.setattr(pretrained, "_download_imagenet", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture
def empty_hub(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path


def test_fake_imagenet_checkpoint_in_the_hub_cache_is_used_offline(empty_hub, no_network):
    fake = resnet18()
    torch.nn.init.constant_(fake.fc.bias, 0.125)  # a marker we can find again
    target = pretrained.imagenet_cache_file()
    target.parent.mkdir(parents=True)
    torch.save(fake.state_dict(), target)
    model, weights = pretrained_resnet18("auto")
    assert weights is ResNet18_Weights.DEFAULT and "ImageNet" in describe_weights(weights)
    assert torch.all(model.fc.bias == 0.125)


def test_forced_course_mode_never_touches_the_network(empty_hub, no_network, monkeypatch):
    monkeypatch.setattr(pretrained, "course_weights", lambda progress=True: SENTINEL)
    monkeypatch.setenv("COURSE_WEIGHTS", "course")
    assert resolve_weights() is SENTINEL


def _closed_port() -> int:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        return closed.getsockname()[1]  # nothing listens here once the socket closes


@contextmanager
def _silent_port():
    """A port whose server accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


def test_refused_download_falls_back_at_once(empty_hub, monkeypatch, capsys):
    port = _closed_port()
    monkeypatch.setattr(pretrained, "_imagenet_url", lambda: f"http://127.0.0.1:{port}/resnet18-f37072fd.pth")
    monkeypatch.setattr(pretrained, "course_weights", lambda progress=True: SENTINEL)
    start = time.perf_counter()
    assert resolve_weights("auto") is SENTINEL
    assert time.perf_counter() - start < 3
    assert "using the course backbone instead" in capsys.readouterr().out


def test_silent_server_falls_back_within_the_timeout(empty_hub, monkeypatch):
    with _silent_port() as port:
        monkeypatch.setattr(pretrained, "_imagenet_url", lambda: f"http://127.0.0.1:{port}/resnet18-f37072fd.pth")
        monkeypatch.setattr(pretrained, "DOWNLOAD_TIMEOUT", 0.5)
        monkeypatch.setattr(pretrained, "course_weights", lambda progress=True: SENTINEL)
        start = time.perf_counter()
        assert resolve_weights("auto") is SENTINEL
        assert time.perf_counter() - start < 2.5


def test_forced_imagenet_without_the_file_says_what_to_do(empty_hub, monkeypatch):
    monkeypatch.setattr(pretrained, "_download_imagenet", lambda timeout: "URLError: offline")
    with pytest.raises(RuntimeError, match="COURSE_WEIGHTS=course"):
        resolve_weights("imagenet")


def test_unknown_mode_lists_the_choices():
    with pytest.raises(ValueError, match="auto, imagenet, course"):
        resolve_weights("imagenette")


def test_course_backbone_has_the_torchvision_weights_interface():
    model, weights = pretrained_resnet18("course", progress=False)
    assert isinstance(weights, CourseWeights)
    meta = weights.meta
    assert meta["categories"] == list(SOURCE_TASK.classes) and "no ImageNet" in meta["provenance"]
    assert meta["source_val_accuracy"] > 0.6 and meta["num_params"] == sum(p.numel() for p in model.parameters())
    preset = weights.transforms()
    assert preset.crop_size == [56] and preset.resize_size == [64] and len(preset.mean) == 3
    image = Image.fromarray(demo_image(64, 80))
    manual = transforms.Compose([transforms.Resize(64), transforms.CenterCrop(56), transforms.ToTensor(),
                                 transforms.Normalize(preset.mean, preset.std)])
    assert torch.allclose(preset(image), manual(image), atol=1e-5)
    assert "course backbone" in describe_weights(weights)


def test_damaged_shipped_backbone_falls_back_to_a_build(tmp_path, monkeypatch, capsys):
    damaged = tmp_path / "course_resnet18.pt"
    data = bytearray(SHIPPED.read_bytes())
    data[len(data) // 2] ^= 0xFF                     # one flipped byte in the middle of the weights
    damaged.write_bytes(bytes(data))
    monkeypatch.setattr(pretrained, "SHIPPED", damaged)
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path / "cache"))
    built = []

    def fake_build(path, progress=True):
        built.append(path)
        torch.save({"state_dict": {}, "meta": {"source_task": "fake"}}, path)
        return path
    monkeypatch.setattr(pretrained, "build_course_backbone", fake_build)
    weights = pretrained.course_weights(progress=False)
    assert built and weights.meta["source_task"] == "fake" and weights.path == built[0]
    assert "damaged" in capsys.readouterr().out
    assert pretrained.course_weights(progress=False).path == built[0] and len(built) == 1  # reused, verified


def test_the_tutorials_own_line_offline_gives_no_model_and_says_why(empty_hub):
    url = f"http://127.0.0.1:{_closed_port()}/resnet18-f37072fd.pth"
    model, what = seed_call(lambda: torch.hub.load_state_dict_from_url(url, progress=False))
    assert model is None and "no weights after" in what and "URLError" in what


def test_the_tutorials_own_line_gives_up_on_a_silent_server(empty_hub):
    with _silent_port() as port:
        url = f"http://127.0.0.1:{port}/resnet18-f37072fd.pth"
        model, what = seed_call(lambda: torch.hub.load_state_dict_from_url(url, progress=False), timeout=0.3)
    assert model is None and "the limit being 0.3 s" in what and "timed out" in what


def test_what_the_tutorials_own_line_downloads_is_removed_afterwards(empty_hub):
    hub = torch.hub.get_dir()
    seen = []

    def download():
        seen.append(torch.hub.get_dir())
        (Path(seen[0]) / "checkpoints").mkdir(parents=True)
        (Path(seen[0]) / "checkpoints" / "resnet18-f37072fd.pth").write_bytes(b"weights")
        return resnet18()

    model, what = seed_call(download)
    assert isinstance(model, torch.nn.Module) and "downloaded and loaded" in what
    assert seen[0] != hub and not Path(seen[0]).exists() and torch.hub.get_dir() == hub
    assert not pretrained.imagenet_cache_file().exists()


def test_the_tutorials_own_line_leaves_the_random_stream_as_it_was(empty_hub):
    url = f"http://127.0.0.1:{_closed_port()}/resnet18-f37072fd.pth"

    def build():
        model = resnet18()                      # initialising the weights draws random numbers
        model.load_state_dict(torch.hub.load_state_dict_from_url(url, progress=False))
        return model

    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    seed_call(build)
    assert torch.equal(torch.rand(3), expected)
