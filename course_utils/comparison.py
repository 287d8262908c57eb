"""The fine-tuning comparison as data: runs of every strategy and seed, summaries, paired gaps, verdicts, a plot."""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

from .finetune import STRATEGIES, ComparisonData, Run, train_strategy


@dataclass(frozen=True)
class Summary:
    """A strategy over its seeds: final validation accuracy (mean, sample std, per seed), cost and drift."""

    strategy: str
    mean: float
    std: float
    final: list[float]
    train_accuracy: float
    seconds: float
    drift: float
    drift_layer4: float


@dataclass(frozen=True)
class Gap:
    """Accuracy of strategy a minus strategy b, paired image by image over the same validation set and seeds."""

    a: str
    b: str
    gap: float
    standard_error: float
    seeds_ahead: int
    seeds: int

    @property
    def verdict(self) -> str:
        if abs(self.gap) <= 2 * self.standard_error:
            return "within noise"
        return "ahead" if self.gap > 0 else "behind"

    def __str__(self) -> str:
        return (f"{self.a} vs {self.b}: {self.gap:+.3f} ± {self.standard_error:.3f}, {self.verdict} "
                f"({self.a} higher on {self.seeds_ahead} of {self.seeds} seeds)")


@dataclass
class Comparison:
    """Every run of every strategy, in the order they were trained."""

    runs: list[Run]
    epochs: int

    def _runs(self, name: str) -> list[Run]:
        runs = [r for r in self.runs if r.strategy == name]
        if not runs:
            raise KeyError(f"no strategy {name!r}; choose one of {', '.join(self.strategies)}")
        return runs

    @property
    def strategies(self) -> list[str]:
        return list(dict.fromkeys(r.strategy for r in self.runs))

    def __getitem__(self, name: str) -> Summary:
        runs = self._runs(name)
        final = [r.val_accuracy[-1] for r in runs]
        mean = lambda values: statistics.fmean(values)  # noqa: E731
        return Summary(name, mean(final), statistics.stdev(final) if len(final) > 1 else 0.0, final,
                       mean(r.train_accuracy[-1] for r in runs), mean(r.seconds for r in runs),
                       mean(r.drift for r in runs), mean(r.drift_layer4 for r in runs))

    def summary(self) -> list[Summary]:
        return [self[name] for name in self.strategies]

    def gap(self, a: str, b: str) -> Gap:
        """a minus b: per validation image, the difference in correctness averaged over the seeds both ran;
        its standard error is that of a mean over the images (the same images judge both, so it is paired)."""
        runs_a, runs_b = {r.seed: r for r in self._runs(a)}, {r.seed: r for r in self._runs(b)}
        seeds = sorted(runs_a.keys() & runs_b.keys())
        per_image = torch.tensor([[float(x) - float(y) for x, y in zip(runs_a[s].val_correct, runs_b[s].val_correct)]
                                  for s in seeds]).mean(0)
        error = per_image.std().item() / math.sqrt(len(per_image))
        ahead = sum(runs_a[s].val_accuracy[-1] > runs_b[s].val_accuracy[-1] for s in seeds)
        return Gap(a, b, per_image.mean().item(), error, ahead, len(seeds))

    def table(self) -> str:
        header = (f"{'strategy':20s} {'val accuracy':>14s} {'per seed':>18s} {'train acc':>10s} {'s per run':>10s} "
                  f"{'layer1 moved':>13s} {'layer4 moved':>13s}")
        lines = [header, "-" * len(header)]
        for row in self.summary():
            seeds = " ".join(f"{a:.3f}" for a in row.final)
            lines.append(f"{row.strategy:20s} {row.mean:>6.3f} ± {row.std:.3f} {seeds:>18s} {row.train_accuracy:>10.3f} "
                         f"{row.seconds:>10.1f} {row.drift:>13.1%} {row.drift_layer4:>13.1%}")
        return "\n".join(lines)

    def spread(self, name: str, epoch: int) -> float:
        """Highest minus lowest validation accuracy over the seeds of one strategy after ``epoch`` epochs."""
        values = [r.val_accuracy[epoch - 1] for r in self._runs(name)]
        return max(values) - min(values)

    def plot(self, title: str = "") -> None:
        """Validation accuracy per epoch, final accuracy of every seed, and how far layer1 and layer4 moved."""
        import matplotlib.pyplot as plt

        from .plots import show_figure

        rows = self.summary()
        figure, (curves, finals, drift) = plt.subplots(1, 3, figsize=(11, 3.6), dpi=80,
                                                       gridspec_kw={"width_ratios": [4, 3, 3]})
        epochs = range(1, self.epochs + 1)
        for row, marker in zip(rows, "ovs^Dx*P"):
            values = torch.tensor([r.val_accuracy for r in self._runs(row.strategy)])
            line, = curves.plot(epochs, values.mean(0), marker=marker, markersize=4, label=row.strategy)
            curves.fill_between(epochs, values.min(0).values, values.max(0).values, color=line.get_color(), alpha=0.15)
            finals.scatter(row.final, [row.strategy] * len(row.final), color=line.get_color(), marker=marker, s=30)
        curves.set(xlabel="epoch", ylabel="validation accuracy", ylim=(0, 1))
        curves.set_title("mean over seeds; band: lowest to highest", fontsize=9)
        curves.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
        finals.set_title(f"after epoch {self.epochs}, one dot per seed", fontsize=9)
        finals.set_xlabel("validation accuracy")
        finals.set_xticks([round(0.1 * i, 1) for i in range(11)])
        finals.tick_params(axis="x", labelbottom=True, labelsize=8)
        finals.set_xlim(min(min(r.final) for r in rows) - 0.03, min(1.0, max(max(r.final) for r in rows) + 0.03))
        finals.invert_yaxis()
        finals.grid(axis="x", alpha=0.3)
        y = torch.arange(len(rows), dtype=torch.float)
        drift.barh(y - 0.2, [r.drift for r in rows], height=0.4, label="layer1", color="#777")
        drift.barh(y + 0.2, [r.drift_layer4 for r in rows], height=0.4, label="layer4", color="#bbb")
        drift.set_yticks(y.tolist(), [r.strategy for r in rows], fontsize=8)
        drift.invert_yaxis()
        drift.set_xlabel("weights moved, ||W - W0|| / ||W0||")
        drift.legend(fontsize=7)
        if title:
            figure.suptitle(title, fontsize=10)
        figure.tight_layout()
        show_figure(figure)


def compare(data: ComparisonData, strategies=STRATEGIES, seeds=(0, 1, 2), epochs: int = 10,
            progress: bool = True) -> Comparison:
    """Train every strategy from every seed, one progress bar over all runs. Cached frozen-layer outputs are
    computed afresh, so each cached strategy's first run pays for its cache."""
    data.clear_cache()
    jobs = [(s, seed) for s in strategies for seed in seeds]
    runs = [train_strategy(data, strategy, seed, epochs) for strategy, seed in tqdm(jobs, desc="runs",
                                                                                     disable=not progress)]
    return Comparison(runs, epochs)


LOW_RATE = ("head only", "last block + head", "full, low lr")  # pretrained strategies at gentle rates


def verdicts(comparison: Comparison) -> list[str]:
    """What the comparison supports, as sentences built from its own numbers: a gap counts only when it is
    larger than two paired standard errors."""
    names = set(comparison.strategies)
    lines = []
    if "scratch" in names and names & set(LOW_RATE):
        gaps = [comparison.gap(name, "scratch") for name in LOW_RATE if name in names]
        all_ahead = all(g.verdict == "ahead" for g in gaps)
        lines.append(f"transfer vs scratch: every pretrained strategy at a low rate is "
                     f"{'ahead of' if all_ahead else 'NOT clearly ahead of'} scratch, by "
                     f"{min(g.gap for g in gaps):.3f} to {max(g.gap for g in gaps):.3f}")
    pairs = (("last block + head", "head only"), ("full, low lr", "head only"), ("full, low lr", "last block + head"),
             ("last block + head", "last block, high lr"), ("full, low lr", "full, high lr"))
    lines += [str(comparison.gap(a, b)) for a, b in pairs if a in names and b in names]
    return lines
