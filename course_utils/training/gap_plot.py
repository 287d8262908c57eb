"""One paired gap of a comparison as a picture: what SD, SE and z mean, drawn from the runs themselves."""
from __future__ import annotations

from .comparison import Comparison


def plot_gap(comparison: Comparison, a: str, b: str) -> None:
    """Left: each seed's final accuracy of ``a`` and ``b`` (a line joins the same seed), with each strategy's mean
    and SD. Right: the paired gap a - b with its two standard errors (images, seeds), the combined one, and the
    +-2 SE band that a verdict asks to exclude 0."""
    import matplotlib.pyplot as plt

    from ..plots import show_figure

    gap = comparison.gap(a, b)
    rows = {name: comparison[name] for name in (a, b)}
    figure, (seeds, band) = plt.subplots(1, 2, figsize=(10, 3.4), dpi=80, gridspec_kw={"width_ratios": [2, 3]})
    for seed, (x, y) in enumerate(zip(rows[a].final, rows[b].final)):
        seeds.plot([0, 1], [x, y], "o-", color="#888", lw=1, ms=5)
        seeds.annotate(f"seed {seed}", (1, y), xytext=(6, 0), textcoords="offset points", va="center", fontsize=8)
    for position, row in enumerate(rows.values()):
        seeds.errorbar(position, row.mean, yerr=row.std, fmt="_", color="black", ms=22, capsize=6, lw=1.5)
    seeds.set_xticks([0, 1], [a, b], fontsize=9)
    seeds.set_xlim(-0.4, 1.6)
    seeds.set_ylabel("final accuracy (all validation images)")
    seeds.set_title("one dot per seed; bar: mean ± SD", fontsize=10)
    parts = [("images", gap.image_error), ("seeds", gap.seed_error), ("both", gap.standard_error)]
    for y, (label, error) in enumerate(parts):
        band.errorbar(gap.gap, y, xerr=2 * error, fmt="o", color="black", capsize=5, lw=1.5)
        band.annotate(f"± 2 SE = ± {2 * error:.3f}", (gap.gap + 2 * error, y), xytext=(6, 0),
                      textcoords="offset points", va="center", fontsize=8)
    band.axvline(0, color="#c33", lw=1)
    band.set_yticks(range(len(parts)), [f"SE from {label}" for label, _ in parts], fontsize=9)
    band.set_ylim(-0.6, len(parts) - 0.4)
    reach = max(abs(gap.gap) + 3 * gap.standard_error, 0.01)
    band.set_xlim(min(-0.01, gap.gap - reach), max(0.01, gap.gap + reach))
    band.set_xlabel(f"{a} minus {b}, paired: the same images and seeds")
    band.set_title(f"gap {gap.gap:+.3f}, z = {gap.z:+.2f} (gap / SE): {gap.verdict}", fontsize=10)
    band.invert_yaxis()
    figure.tight_layout()
    show_figure(figure)
