"""Lesson 01 mistakes: image layout (HWC vs CHW), view vs permute, grayscale channels, flattening the batch."""
from __future__ import annotations

from ...catalogue import Mistake, Variant

def _shape(value) -> str:
    return "[" + ", ".join(map(str, value.shape)) + "]"


def _error_vs_shape(name: str):
    """Fingerprint for entries where the broken variant raises and the fixed one produces ``name``."""
    def summarize(broken: Variant, fixed: Variant) -> str:
        made = f"produced {name} of shape {_shape(fixed.values[name])}" if name in fixed.values else f"raised {fixed.error}"
        return f"broken: {broken.error or 'no error'}; fixed: {made}"
    return summarize


CONV_SETUP = """\
conv = nn.Conv2d(in_channels=3, out_channels=8, kernel_size=3, padding=1)
image = demo_image(height=32, width=48)          # NumPy, height x width x channels, uint8
"""


def _summarize_view(broken: Variant, fixed: Variant) -> str:
    a, b = broken.values["batch"], fixed.values["batch"]
    moved = (a - b).abs().gt(1e-6).float().mean().item()
    return (f"no error and the same shape {_shape(a)} for both, but {moved:.0%} of the values sit in the wrong "
            f"place in the broken batch")


def _plot_view(figure, broken: Variant, fixed: Variant) -> None:
    axes = figure.subplots(1, 2)
    for ax, variant, label in zip(axes, (broken, fixed), ("broken: .view(1, 3, H, W)", "fixed: .permute(2, 0, 1)")):
        ax.imshow(variant.values["batch"][0].permute(1, 2, 0).clamp(0, 1).numpy())
        ax.set_title(label, fontsize=9)
        ax.axis("off")


MISTAKES = (
    Mistake(
        id="hwc_not_permuted",
        quick=True,
        title="Image left as height x width x channels",
        setup=CONV_SETUP,
        broken_code="batch = torch.from_numpy(image).float().div(255).unsqueeze(0)   # [1, H, W, 3]\n"
               "features = conv(batch)\n",
        fixed_code="batch = torch.from_numpy(image).permute(2, 0, 1).float().div(255).unsqueeze(0)   # [1, 3, H, W]\n"
              "features = conv(batch)\n",
        record=("batch", "features"),
        summarize=_error_vs_shape("features"),
        explanation="PyTorch layers read dimension 1 as channels. NumPy and PIL store channels last, so the "
                    "conv saw the image height (32) as the channel count. permute(2, 0, 1) moves the channel "
                    "axis to the front; unsqueeze(0) then adds the batch dimension.",
    ),
    Mistake(
        id="view_instead_of_permute",
        quick=True,
        title="view/reshape used to reorder axes",
        setup="image = demo_image(height=32, width=48)          # NumPy, height x width x channels, uint8\n",
        broken_code="batch = torch.from_numpy(image).view(1, 3, 32, 48).float() / 255\n",
        fixed_code="batch = torch.from_numpy(image).permute(2, 0, 1).unsqueeze(0).float() / 255\n",
        record=("batch",),
        summarize=_summarize_view,
        explanation="view and reshape keep the values in memory order and only relabel the shape, so the "
                    "interleaved R, G, B bytes get cut into three meaningless planes. permute actually moves "
                    "each value to its new position. No error warns you: look at the image.",
        plot=_plot_view,
    ),
    Mistake(
        id="grayscale_not_expanded",
        quick=True,
        title="Grayscale image fed to a 3-channel model",
        setup=CONV_SETUP + "gray = image.mean(axis=2).astype(np.uint8)    # height x width, one channel\n",
        broken_code="batch = torch.from_numpy(gray).float().div(255)[None, None]   # [1, 1, H, W]\n"
               "features = conv(batch)\n",
        fixed_code="batch = torch.from_numpy(gray).float().div(255)[None, None].expand(-1, 3, -1, -1)   # [1, 3, H, W]\n"
              "features = conv(batch)\n",
        record=("batch", "features"),
        summarize=_error_vs_shape("features"),
        explanation="A model pretrained on colour images has first-layer weights for exactly 3 input "
                    "channels. Repeating the gray channel three times gives it the input it expects "
                    "(expand does so without copying memory).",
    ),
    Mistake(
        id="flatten_all",
        quick=True,
        title="Flattening away the batch dimension",
        setup="""\
features = nn.Sequential(nn.Conv2d(3, 8, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(4))
classifier = nn.Linear(8 * 8 * 8, 5)             # expects 512 features per image
images = torch.rand(4, 3, 32, 32)                # a batch of 4 images
maps = features(images)                          # [4, 8, 8, 8]
""",
        broken_code="logits = classifier(maps.flatten())      # [2048]: all 4 images in one vector\n",
        fixed_code="logits = classifier(maps.flatten(1))     # [4, 512]: one row per image\n",
        record=("maps", "logits"),
        summarize=_error_vs_shape("logits"),
        explanation="flatten() with no argument merges every dimension, batch included, so the Linear layer "
                    "receives one sample with 4 x 512 = 2048 features. flatten(1) starts at dimension 1 and "
                    "keeps one row per image.",
    ),
)
