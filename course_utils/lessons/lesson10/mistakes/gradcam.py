"""Lesson 10 mistakes of Grad-CAM: the map without its ReLU, and hooks left registered."""
from __future__ import annotations

from ....catalogue import Mistake, Variant

# ---------------------------------------------------------------- no_relu and hooks_left

CAM_SETUP = """\
from PIL import Image
from course_utils.models.imagenet import pretrained_efficientnet_lite0, sample_photo_path

model, weights = pretrained_efficientnet_lite0()   # ImageNet's EfficientNet-Lite0, offline
model.eval()
layer = model.blocks[-2]                           # the last-but-one block: [1, 192, 7, 7] at 224 px
photo = Image.open(sample_photo_path()).convert("RGB")   # a real photo (Grace Hopper, from matplotlib)
image = weights.transforms()(photo).unsqueeze(0)

def weighted_sum(model, layer, image):             # Grad-CAM before its ReLU, for the top ImageNet class
    saved = []
    handle = layer.register_forward_hook(lambda module, inputs, output: saved.append(output))
    try:
        scores = model(image)
        grad, = torch.autograd.grad(scores[0, scores[0].argmax()], saved[0])
    finally:
        handle.remove()
    return (grad.mean(dim=(2, 3), keepdim=True) * saved[0]).sum(1)[0].detach()   # [7, 7]

raw = weighted_sum(model, layer, image)
negative_share = (raw < 0).float().mean().item()   # the share of the map that argues AGAINST the class
"""


def _summarize_relu(broken: Variant, fixed: Variant) -> str:
    b = broken.values
    h, w = b["cam"].shape
    return (f"{b['negative_share']:.0%} of the {h} x {w} map argues against the predicted class (a negative weighted "
            f"sum); scaled from its minimum to its maximum without ReLU, those regions get "
            f"{b['against_shown']:.2f} on average instead of 0 and the map's mean rises from "
            f"{fixed.values['cam'].mean():.2f} to {b['cam'].mean():.2f}")


def _plot_relu(figure, broken: Variant, fixed: Variant) -> None:
    axes = figure.subplots(1, 2)
    for ax, variant, title in ((axes[0], broken, "no ReLU (min-max scaled)"), (axes[1], fixed, "Grad-CAM (ReLU)")):
        ax.imshow(variant.values["cam"], cmap="magma", vmin=0, vmax=1)
        ax.set_title(title, fontsize=9)
        ax.set_xticks(())
        ax.set_yticks(())


HOOKS_SETUP = """\
from torchvision.models import resnet18

torch.manual_seed(0)
model = resnet18(num_classes=5).eval()             # any CNN shows it; random weights are enough
layer = model.layer4
images = torch.randn(8, 3, 64, 64)
fired = []                                         # one entry each time any of our hooks runs

def activations(model, layer, images, remove):
    saved = []
    def hook(module, inputs, output):
        fired.append(1)
        saved.append(output)
    handle = layer.register_forward_hook(hook)
    model(images)
    if remove:
        handle.remove()
    return saved[0]
"""

HOOKS_LOOP = """\
calls_per_forward = []
for call in range(5):
    fired.clear()
    activations(model, layer, images, remove={remove})
    calls_per_forward.append(len(fired))           # hooks that ran during this one forward pass
"""


def _summarize_hooks(broken: Variant, fixed: Variant) -> str:
    b, f = broken.values["calls_per_forward"], fixed.values["calls_per_forward"]
    return (f"five Grad-CAM calls in a row: without handle.remove() the hooks piled up and one forward pass ran "
            f"{', '.join(map(str, b))} of them (each keeping its own [8, 512, 2, 2] output alive for as long as the "
            f"model lives); with it, {', '.join(map(str, f))}")


def _plot_hooks(figure, broken: Variant, fixed: Variant) -> None:
    from ....display import BROKEN, FIXED
    ax = figure.subplots()
    calls = range(1, len(broken.values["calls_per_forward"]) + 1)
    ax.plot(calls, broken.values["calls_per_forward"], color=BROKEN, marker="o", label="hooks left")
    ax.plot(calls, fixed.values["calls_per_forward"], color=FIXED, marker="o", label="handle.remove()")
    ax.set_xlabel("Grad-CAM call", fontsize=9)
    ax.set_ylabel("hooks run by one forward pass", fontsize=9)
    ax.set_xticks(list(calls))
    ax.legend(fontsize=8)


MISTAKES = (
    Mistake(
        id="no_relu",
        title="Grad-CAM without its ReLU",
        setup=CAM_SETUP,
        broken_code="""\
cam = (raw - raw.min()) / (raw.max() - raw.min())   # every region kept, scaled to [0, 1]
against_shown = cam[raw < 0].mean().item()          # what the regions against the class now show
""",
        fixed_code="""\
cam = torch.relu(raw) / torch.relu(raw).max()       # only what argues FOR the class
against_shown = cam[raw < 0].mean().item()          # 0: those regions are dark
""",
        record=("cam", "negative_share", "against_shown"),
        summarize=_summarize_relu,
        explanation="Grad-CAM weighs each channel of the layer's output by how much it raises the class score. Where "
                    "the weighted sum is negative, the region lowers the score: evidence against the class. The "
                    "ReLU keeps only the evidence for it. Without the ReLU, scaling the map to [0, 1] lifts the "
                    "negative regions to grey, so the picture also lights up what argues against the class, and a "
                    "map divided by its maximum alone keeps negative values that a colour map clips or misreads.",
        plot=_plot_relu,
    ),
    Mistake(
        id="hooks_left",
        title="Grad-CAM hooks left registered",
        setup=HOOKS_SETUP,
        broken_code=HOOKS_LOOP.format(remove="False"),
        fixed_code=HOOKS_LOOP.format(remove="True"),
        record=("calls_per_forward",),
        summarize=_summarize_hooks,
        explanation="register_forward_hook returns a handle; the hook stays on the layer until handle.remove() is "
                    "called. A Grad-CAM function that drops the handle adds one more hook with every call: each "
                    "later forward pass runs all of them (slower and slower), and each keeps the tensors it saves "
                    "alive for as long as the model lives. Remove the handle in a `finally:` block, so an error in "
                    "between cannot leave it behind.",
        plot=_plot_hooks,
    ),
)
