"""Plot helpers shared by catalogue entries: each returns a function that draws broken vs fixed on a Figure."""
from __future__ import annotations

import math
from typing import Callable

from ..display import BROKEN, FIXED, MUTED
from .entry import Variant

PlotFn = Callable[[object, Variant, Variant], None]


def series_plot(key: str, ylabel: str, log: bool = False, floor: float | None = None,
                ticks: tuple[int, ...] | None = None) -> PlotFn:
    """One line per variant of the list recorded under ``key`` (non-finite values left as gaps); ``ticks`` names
    the step of each value when they were measured at uneven steps (drawn evenly spaced, labelled)."""
    def plot(figure, broken: Variant, fixed: Variant) -> None:
        ax = figure.subplots()
        for variant, label, colour in ((broken, "broken", BROKEN), (fixed, "fixed", FIXED)):
            values = [v if math.isfinite(v) else float("nan") for v in variant.values.get(key, [])]
            ax.plot(range(1, len(values) + 1), values, label=label, color=colour, marker="o" if ticks else None)
        if floor is not None:
            ax.axhline(floor, color=MUTED, linestyle="--", linewidth=1, label=f"floor {floor:.3f}")
        if log:
            ax.set_yscale("log")
        if ticks:
            ax.set_xticks(range(1, len(ticks) + 1), [str(t) for t in ticks])
        ax.set_xlabel("training steps (not to scale)" if ticks else "step")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=8)
    return plot


def bar_plot(key: str, labels: tuple[str, ...], ylabel: str = "accuracy") -> PlotFn:
    """Bars of the number (or list of numbers) recorded under ``key`` for both variants, values written on top."""
    def plot(figure, broken: Variant, fixed: Variant) -> None:
        ax = figure.subplots()
        names, heights, colours = [], [], []
        for variant, tag, colour in ((broken, "broken", BROKEN), (fixed, "fixed", FIXED)):
            values = variant.values[key]
            for value, label in zip(values if isinstance(values, list) else [values], labels):
                names.append(f"{tag}\n{label}")
                heights.append(value)
                colours.append(colour)
        ax.bar(names, heights, color=colours)
        ax.set_ylim(0, 1)
        ax.set_ylabel(ylabel)
        for x, h in enumerate(heights):
            ax.text(x, h + 0.02, f"{h:.2f}", ha="center", fontsize=8)
    return plot


def epoch_plot(keys: dict[str, str], ylabel: str = "accuracy") -> PlotFn:
    """Per-epoch curves: for each recorded key (label as value) one line per variant, solid then dashed."""
    def plot(figure, broken: Variant, fixed: Variant) -> None:
        ax = figure.subplots()
        for (key, label), style in zip(keys.items(), ("-", "--", ":")):
            for variant, tag, colour in ((broken, "broken", BROKEN), (fixed, "fixed", FIXED)):
                values = variant.values.get(key, [])
                ax.plot(range(1, len(values) + 1), values, style, color=colour, label=f"{tag}: {label}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=8)
    return plot
