"""Lesson 10's figures: example cells by defect level, every arm against the paper, the threshold's recall and
precision, the defect probability by level, Grad-CAM maps over cells."""
from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from ..data.elpv import SolarCells
from ..plots import show_figure
from .cell_analysis import ThresholdChoice
from .cells import PAPER, Arm


def plot(arms: list[Arm], title: str = "") -> None:
    """Accuracy and balanced accuracy of every arm (mean, with each seed as a dot), the paper's two figures as lines."""
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(9, 0.5 * len(arms) + 1.6))
    for row, arm in enumerate(arms):
        for offset, key, colour in ((-0.18, "accuracy", "#4c72b0"), (0.18, "balanced_accuracy", "#dd8452")):
            mean, _ = arm.mean(key)
            ax.barh(row + offset, mean, 0.34, color=colour, label=key.replace("_", " ") if row == 0 else None)
            ax.plot([getattr(s.result, key) for s in arm.seeded], [row + offset] * len(arm.seeded), "k.",
                    markersize=4)
            right = max([mean] + [getattr(s.result, key) for s in arm.seeded])  # past the bar and its dots
            ax.text(right + 0.006, row + offset, f"{mean:.3f}", va="center", fontsize=8)
    for (name, value), style in zip(PAPER, ("--", ":")):
        ax.axvline(value, color="black", linestyle=style, linewidth=1, label=f"{name} {value:.2%}")
    ax.set_yticks(range(len(arms)), [arm.name for arm in arms], fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0.45, 1.0)
    ax.set_xlabel("on the 656 test cells (dots: the 3 seeds; the axis starts at 0.45)", fontsize=9)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.5 / (0.5 * len(arms) + 1.6) - 0.08), ncol=2)
    if title:
        ax.set_title(title, fontsize=10)
    figure.tight_layout()
    show_figure(figure)


def plot_threshold(choice: ThresholdChoice, recall: float = 0.9) -> None:
    """Recall and precision of the defective class on the test cells for every threshold, the choices marked."""
    import matplotlib.pyplot as plt

    thresholds = torch.logspace(-4, 0, 201)  # a confident head puts many scores near 0: a log scale shows them
    p, y = choice.test_probability, choice.test_truth
    found = [((p >= t) & (y == 1)).sum().item() / (y == 1).sum().item() for t in thresholds]
    called = [(p >= t).sum().item() for t in thresholds]
    precise = [((p >= t) & (y == 1)).sum().item() / c if c else float("nan") for t, c in zip(thresholds, called)]
    figure, ax = plt.subplots(figsize=(8, 3.4))
    ax.plot(thresholds, found, color="#c44e52", label="defective recall")
    ax.plot(thresholds, precise, color="#4c72b0", label="precision (defective calls that are defective)")
    ax.axhline(recall, color="#c44e52", linestyle=":", linewidth=1, label=f"target recall {recall:g}")
    for value, text, style in ((0.5, "0.5 (the more likely class)", "-"),
                               (choice.on_validation, f"chosen on validation: {choice.on_validation:.1e}", "--"),
                               (choice.on_test, f"chosen on the test cells: {choice.on_test:.1e}", ":")):
        ax.axvline(value, color="black", linestyle=style, linewidth=1, label=text)
    ax.set_xscale("log")
    ax.set_xlabel("threshold on the defect probability (log scale)", fontsize=9)
    ax.set_ylim(0, 1.02)
    ax.set_title(f"seed {choice.seed}: the 656 test cells", fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    figure.tight_layout()
    show_figure(figure)


def plot_by_level(groups: dict[str, list[float]], title: str = "") -> None:
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(7, 3))
    names = list(groups)
    ax.boxplot([groups[n] for n in names], showfliers=False)
    ax.set_xticks(range(1, len(names) + 1), [f"{n.replace('_of_', '/')}\n({len(groups[n])} cells)" for n in names],
                  fontsize=9)
    ax.axhline(0.5, color="black", linestyle=":", linewidth=1)
    ax.set_xlabel("the experts' defect probability", fontsize=9)
    ax.set_ylabel("the model's P(defective)", fontsize=9)
    if title:
        ax.set_title(title, fontsize=10)
    figure.tight_layout()
    show_figure(figure)


def show_cams(images: torch.Tensor, maps: torch.Tensor, titles: list[str], mean: float, std: float,
              columns: int = 4) -> None:
    """Each cell (grayscale) with its Grad-CAM map laid over it, upsampled to the cell's size, and one colour bar
    (0: nothing for the class, 1: the map's maximum)."""
    import matplotlib.pyplot as plt

    rows = math.ceil(len(images) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.0 * columns, 3.3 * rows), squeeze=False, dpi=60)
    upsampled = F.interpolate(maps[:, None], size=images.shape[-2:], mode="bilinear", align_corners=False)[:, 0]
    shown = None
    for ax, image, cam, title in zip(axes.flat, images, upsampled, titles):
        ax.imshow((image[0] * std + mean).clamp(0, 1), cmap="gray")
        shown = ax.imshow(cam, cmap="jet", alpha=0.35, vmin=0, vmax=1)
        ax.set_title(title, fontsize=11)
    for ax in axes.flat:
        ax.set_xticks(())
        ax.set_yticks(())
    figure.tight_layout()
    if shown is not None:
        figure.colorbar(shown, ax=axes.ravel().tolist(), fraction=0.02, pad=0.01).ax.tick_params(labelsize=10)
    show_figure(figure, colors=64)


def show_examples(levels: SolarCells, per_level: int = 4, seed: int = 0, pixels: int = 100) -> None:
    """A few cells of each defect level (mono and poly mixed), drawn at random with ``seed``, captioned; shown at
    ``pixels`` px (enough to see cracks, small in the saved notebook)."""
    import random

    import matplotlib.pyplot as plt
    from PIL import Image

    rng = random.Random(seed)
    figure, axes = plt.subplots(len(levels.classes), per_level, figsize=(1.4 * per_level, 1.55 * len(levels.classes)),
                                dpi=80)
    for row, name in enumerate(levels.classes):
        members = [i for i, t in enumerate(levels.targets) if t == row]
        for ax, index in zip(axes[row], rng.sample(members, per_level)):
            with Image.open(levels.samples[index][0]) as image:
                ax.imshow(image.convert("L").resize((pixels, pixels)), cmap="gray")
            ax.set_title(f"{name.replace('_of_', '/')} · {levels.types[index]}", fontsize=8)
            ax.set_xticks(())
            ax.set_yticks(())
    figure.tight_layout()
    show_figure(figure, colors=24)  # grayscale photographs: 24 grey levels are plenty at this size
