"""Plots shared by the lessons: an image grid that undoes normalisation correctly, shown as a compact PNG."""
from __future__ import annotations

import io
from typing import Sequence

import torch

PALETTE_COLOURS = 128  # enough for photos at thumbnail size; a quarter of the bytes of a full-colour PNG


def show_figure(figure, colors: int = PALETTE_COLOURS) -> None:
    """Show a Matplotlib figure: in Jupyter as a PNG reduced to a palette of ``colors`` colours (legible, small in
    the saved notebook); elsewhere with plt.show()."""
    import matplotlib.pyplot as plt

    try:
        from IPython import get_ipython
        from IPython.display import Image as DisplayImage, display
    except ImportError:
        get_ipython = None
    if get_ipython is None or get_ipython() is None:
        plt.show()
        return
    from PIL import Image

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=figure.dpi, bbox_inches="tight")
    plt.close(figure)
    compact = io.BytesIO()
    Image.open(buffer).convert("RGB").quantize(colors=colors, dither=Image.Dither.NONE).save(
        compact, format="PNG", optimize=True)
    display(DisplayImage(data=compact.getvalue(), format="png"))


def unnormalize(images: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """Invert Normalize(mean, std): x * std + mean per channel, clipped to [0, 1] for display."""
    mean_t = torch.as_tensor(mean, dtype=images.dtype).view(-1, 1, 1)
    std_t = torch.as_tensor(std, dtype=images.dtype).view(-1, 1, 1)
    return (images * std_t + mean_t).clamp(0, 1)


def show_images(images: torch.Tensor, labels: Sequence[int], class_names: Sequence[str],
                mean: Sequence[float] | None = None, std: Sequence[float] | None = None,
                columns: int = 8, title: str = "", captions: Sequence[str] | None = None) -> None:
    """A grid of [N, 3, H, W] images captioned with their class names, or with ``captions`` when given
    (un-normalised when mean/std given)."""
    import matplotlib.pyplot as plt

    images = images.detach().cpu()
    if mean is not None and std is not None:
        images = torch.stack([unnormalize(image, mean, std) for image in images])
    count = len(images)
    rows = (count + columns - 1) // columns
    # About 100 screen pixels per thumbnail and 9-point labels: legible at 100% zoom, still a small PNG.
    height = rows * 1.55 + (0.35 if title else 0)  # room for each square thumbnail, its label and the title
    figure, axes = plt.subplots(rows, columns, figsize=(columns * 1.25, height), dpi=80, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    captions = list(captions) if captions is not None else [class_names[int(label)] for label in labels]
    for ax, image, caption in zip(axes.flat, images, captions):
        ax.imshow(image.permute(1, 2, 0).clamp(0, 1).numpy(), interpolation="nearest")
        ax.set_title(caption, fontsize=9)
    if title:
        figure.suptitle(title, fontsize=11)
    figure.tight_layout()
    show_figure(figure)


def show_top_k(image, predictions: Sequence[tuple[str, float]], title: str = "") -> None:
    """A photo next to a bar chart of its top-k class probabilities (the most probable at the top)."""
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(7.5, 2.6), dpi=80, gridspec_kw={"width_ratios": [1, 1.6]})
    left.imshow(image)
    left.axis("off")
    names = [name for name, _ in predictions][::-1]
    probabilities = [p for _, p in predictions][::-1]
    right.barh(names, probabilities, color="tab:blue")
    for y, p in enumerate(probabilities):
        right.text(p + 0.01, y, f"{p:.0%}", va="center", fontsize=9)
    right.set_xlim(0, max(1.0, max(probabilities) + 0.1) if probabilities else 1.0)
    right.set_xlabel("softmax probability", fontsize=9)
    right.tick_params(labelsize=9)
    if title:
        right.set_title(title, fontsize=10)
    figure.tight_layout()
    show_figure(figure)
