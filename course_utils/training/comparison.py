"""The fine-tuning comparison as data: runs of every strategy and seed, summaries, paired gaps, verdicts, a plot."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import statistics
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ..data.generated import cache_dir
from ..paths import atomic_write
from .finetune import STRATEGIES, ComparisonData, Run, Strategy, augmented, train_strategy
from .parallel import RunPool, worker_count


@dataclass(frozen=True)
class Summary:
    """A strategy over its seeds: final accuracy on every validation image (mean, sample std, per seed), cost
    and drift."""

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
    """Accuracy of strategy a minus strategy b over the same validation images and seeds, with a standard error
    that adds two sources of chance: which validation images were drawn (the per-image differences, averaged over
    the seeds) and which seeds were drawn (the per-seed differences). Adding them counts their interaction twice,
    so it errs on the wide side. It does not cover the draw of the training images or other settings."""

    a: str
    b: str
    gap: float
    image_error: float
    seed_error: float
    seeds_ahead: int
    seeds: int

    @property
    def standard_error(self) -> float:
        return math.hypot(self.image_error, self.seed_error)

    @property
    def z(self) -> float:
        """The gap in standard errors (0 when both are exactly equal)."""
        if self.standard_error == 0:
            return 0.0 if self.gap == 0 else math.copysign(math.inf, self.gap)
        return self.gap / self.standard_error

    @property
    def verdict(self) -> str:
        if abs(self.z) <= 2:
            return "within noise"
        return "ahead" if self.gap > 0 else "behind"

    def __str__(self) -> str:
        return (f"{self.a} vs {self.b}: {self.gap:+.3f} ± {self.standard_error:.3f} (z = {self.z:+.2f}), "
                f"{self.verdict} ({self.a} higher on {self.seeds_ahead} of {self.seeds} seeds)")


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
        final = [r.accuracy for r in runs]
        mean = lambda values: statistics.fmean(values)  # noqa: E731
        return Summary(name, mean(final), statistics.stdev(final) if len(final) > 1 else 0.0, final,
                       mean(r.train_accuracy[-1] for r in runs), mean(r.seconds for r in runs),
                       mean(r.drift for r in runs), mean(r.drift_layer4 for r in runs))

    def summary(self) -> list[Summary]:
        return [self[name] for name in self.strategies]

    def gap(self, a: str, b: str) -> Gap:
        """a minus b, paired: the same validation images and seeds judge both. One standard error from the
        per-image differences (averaged over the seeds both ran), one from the per-seed differences."""
        runs_a, runs_b = {r.seed: r for r in self._runs(a)}, {r.seed: r for r in self._runs(b)}
        seeds = sorted(runs_a.keys() & runs_b.keys())
        differences = torch.tensor([[float(x) - float(y) for x, y in zip(runs_a[s].val_correct,
                                                                         runs_b[s].val_correct)] for s in seeds])
        per_image, per_seed = differences.mean(0), differences.mean(1)
        image_error = per_image.std().item() / math.sqrt(len(per_image))
        seed_error = per_seed.std().item() / math.sqrt(len(seeds)) if len(seeds) > 1 else 0.0
        ahead = sum(runs_a[s].accuracy > runs_b[s].accuracy for s in seeds)
        return Gap(a, b, per_image.mean().item(), image_error, seed_error, ahead, len(seeds))

    def best(self, pretrained_only: bool = True) -> str:
        """The strategy with the highest mean final validation accuracy (scratch left out when pretrained_only)."""
        rows = [row for row in self.summary() if not (pretrained_only and row.strategy == "scratch")]
        return max(rows, key=lambda row: row.mean).strategy

    def table(self) -> str:
        width = max(20, *(len(name) for name in self.strategies))
        header = (f"{'strategy':{width}s} {'val acc ± SD':>14s} {'per seed':>18s} {'train acc':>10s} {'s per run':>10s} "
                  f"{'layer1 moved':>13s} {'layer4 moved':>13s}")
        lines = [header, "-" * len(header)]
        for row in self.summary():
            seeds = " ".join(f"{a:.3f}" for a in row.final)
            lines.append(f"{row.strategy:{width}s} {row.mean:>6.3f} ± {row.std:.3f} {seeds:>18s} {row.train_accuracy:>10.3f} "
                         f"{row.seconds:>10.1f} {row.drift:>13.1%} {row.drift_layer4:>13.1%}")
        return "\n".join(lines)

    def spread(self, name: str, epoch: int) -> float:
        """Highest minus lowest accuracy on the watched validation images over the seeds of one strategy after
        ``epoch`` epochs (the same images at every epoch, so spreads at different epochs compare)."""
        values = [r.val_accuracy[epoch - 1] for r in self._runs(name)]
        return max(values) - min(values)

    def plot(self, title: str = "") -> None:
        """Validation accuracy per epoch, final accuracy of every seed, and how far layer1 and layer4 moved."""
        import matplotlib.pyplot as plt

        from ..plots import show_figure

        rows = self.summary()
        figure, (curves, finals, drift) = plt.subplots(1, 3, figsize=(12.5, 4.6), dpi=80,
                                                       gridspec_kw={"width_ratios": [4, 3, 3]})
        epochs = range(1, self.epochs + 1)
        for row, marker in zip(rows, "ovs^Dx*Ph"):
            values = torch.tensor([r.val_accuracy for r in self._runs(row.strategy)])
            line, = curves.plot(epochs, values.mean(0), marker=marker, markersize=4, label=row.strategy)
            curves.fill_between(epochs, values.min(0).values, values.max(0).values, color=line.get_color(), alpha=0.15)
            finals.scatter(row.final, [row.strategy] * len(row.final), color=line.get_color(), marker=marker, s=30,
                           clip_on=False)
        curves.set(xlabel="epoch", ylabel="accuracy, watched validation images", ylim=(0, 1))
        curves.set_title("mean over seeds; band: lowest to highest", fontsize=10)
        curves.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.17), ncol=2)
        finals.set_title(f"after epoch {self.epochs}, one dot per seed", fontsize=10)
        finals.set_xlabel("accuracy, all validation images")
        low, high = min(min(r.final) for r in rows), max(max(r.final) for r in rows)
        pad = max(0.02, 0.06 * (high - low))
        finals.set_xlim(low - pad, min(1.0 + pad / 2, high + pad))
        finals.tick_params(axis="both", labelsize=9)
        finals.invert_yaxis()
        finals.grid(axis="x", alpha=0.3)
        y = torch.arange(len(rows), dtype=torch.float)
        drift.barh(y - 0.2, [r.drift for r in rows], height=0.4, label="layer1", color="#777")
        drift.barh(y + 0.2, [r.drift_layer4 for r in rows], height=0.4, label="layer4", color="#bbb")
        drift.set_yticks(y.tolist(), [""] * len(rows))  # the same rows, in the same order, as the middle panel
        drift.invert_yaxis()
        drift.set_xlabel("weights moved, ||W - W0|| / ||W0||")
        drift.set_title("rows as in the middle panel", fontsize=10)
        drift.legend(fontsize=9)
        if title:
            figure.suptitle(title, fontsize=10)
        figure.tight_layout()
        show_figure(figure)


CACHE_FORMAT = 3  # raise when what a run records, or how strategies train, changes


def _fingerprint(data: ComparisonData, strategies, seeds, epochs: int, augment_best: bool) -> str:
    """A hash of everything a comparison's runs depend on: data, pretrained weights, settings, strategies, torch."""
    digest = hashlib.sha256(repr((CACHE_FORMAT, torch.__version__, [dataclasses.astuple(s) for s in strategies],
                                  tuple(seeds), epochs, augment_best, data.batch_size, data.dropout,
                                  data.weight_decay, data.watch_per_class,
                                  repr(getattr(data.augmented_train, "transform", None)))).encode())
    tensors = [*data.train.tensors, *data.val.tensors, *(data.pretrained_state[k] for k in sorted(data.pretrained_state))]
    for tensor in tensors:
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:20]


def cached_comparison_path(data: ComparisonData, strategies=STRATEGIES, seeds=(0, 1, 2), epochs: int = 10,
                           augment_best: bool = False) -> Path:
    """Where compare(..., cache=True) keeps the runs of exactly this comparison on this machine."""
    return cache_dir() / "comparisons" / f"{_fingerprint(data, strategies, seeds, epochs, augment_best)}.json"


def _cost(job: tuple) -> tuple:
    """Runs that train the whole network, or see new augmented images every epoch, take longest: start them first."""
    strategy = job[0]
    return (strategy.trains != "all", not strategy.augment, strategy.trains != "layer4")


def _train(data: ComparisonData, strategy: Strategy, seed: int, epochs: int) -> Run:
    return train_strategy(data, strategy, seed, epochs, progress=False)


def compare(data: ComparisonData, strategies=STRATEGIES, seeds=(0, 1, 2), epochs: int = 10,
            progress: bool = True, augment_best: bool = False, cache: bool = False, workers: int | None = None
            ) -> Comparison:
    """Train every strategy from every seed, one progress bar over all runs. Cached frozen-layer outputs are
    computed afresh, so the first run that needs a cache pays for it. With ``augment_best``, the best pretrained
    strategy is then trained again from the same seeds on augmented images (``data.augmented_train``). With
    ``cache``, the runs are saved in COURSE_CACHE and the same comparison (same data, weights, settings) is loaded
    from there next time, e.g. after a kernel restart, instead of being trained again. ``workers``: processes that
    train runs side by side (default: one per free core at this process's thread count; the numbers are the same)."""
    path = cached_comparison_path(data, strategies, seeds, epochs, augment_best) if cache else None
    if path is not None and path.exists():
        runs = [Run(**run) for run in json.loads(path.read_text())]
        print(f"Loaded from this machine's cache ({len(runs)} runs trained earlier; delete {path} to train again).")
        return Comparison(runs, epochs)
    data.clear_cache()
    by_name = {strategy.name: strategy for strategy in strategies}
    jobs = [(strategy, seed, epochs) for strategy in strategies for seed in seeds]
    total = len(jobs) + (len(seeds) if augment_best else 0)
    workers = worker_count(total) if workers is None else max(1, workers)
    with RunPool(data, workers) as pool, tqdm(
            total=total, disable=not progress, desc=f"runs ({pool.workers} processes)" if pool.workers > 1 else "runs"
    ) as bar:
        def done(job: tuple, run: Run) -> None:
            bar.set_postfix_str(f"{run.strategy}, seed {run.seed}")
            bar.update()

        order = sorted(range(len(jobs)), key=lambda index: _cost(jobs[index]))  # longest first, results in order
        trained = pool.map(_train, [jobs[index] for index in order], done)
        runs = [run for _, run in sorted(zip(order, trained))]
        if augment_best:
            best = augmented(by_name[Comparison(runs, epochs).best()])
            runs += pool.map(_train, [(best, seed, epochs) for seed in seeds], done)
    if path is not None:
        records = json.dumps([dataclasses.asdict(run) for run in runs])
        atomic_write(path, lambda temporary: temporary.write_text(records))
    return Comparison(runs, epochs)


LOW_RATE = ("head only", "last block + head", "two-phase", "full, low lr")  # pretrained strategies at gentle rates
PAIRS = (("last block + head", "head only"), ("two-phase", "head only"), ("two-phase", "last block + head"),
         ("full, low lr", "head only"), ("full, low lr", "last block + head"),
         ("last block + head", "last block, high lr"), ("full, low lr", "full, high lr"),
         # the ImageNet network's head on its cached features (train_head), when lesson 07 adds those runs
         ("ImageNet head, 224 px", "head only"), ("ImageNet head, 224 px", "two-phase"),
         ("ImageNet head, 64 px", "head only"), ("ImageNet head, 224 px", "ImageNet head, 64 px"))
AUGMENTED = ", augmented"  # the suffix augmented() gives a strategy's name


def verdicts(comparison: Comparison, about: str | None = None) -> list[str]:
    """What the comparison supports, as sentences built from its own numbers: a gap counts only when it is
    larger than two standard errors (images and seeds); the last line says how many comparisons were made
    and which gaps would also pass a threshold corrected for that number (Bonferroni, 5% overall). With
    ``about``, only the gaps of strategies whose name contains it, then that last line (which counts all)."""
    names = comparison.strategies
    lines = []
    low = [name for name in LOW_RATE if name in names]
    transfer = [comparison.gap(name, "scratch") for name in low] if "scratch" in names else []
    if transfer:
        all_ahead = all(g.verdict == "ahead" for g in transfer)
        lines.append(f"transfer vs scratch: every pretrained strategy at a low rate is "
                     f"{'ahead of' if all_ahead else 'NOT clearly ahead of'} scratch, by "
                     f"{min(g.gap for g in transfer):.3f} to {max(g.gap for g in transfer):.3f} "
                     f"(z from {min(g.z for g in transfer):.1f} to {max(g.z for g in transfer):.1f})")
    pairs = [(a, b) for a, b in PAIRS if a in names and b in names]
    pairs += [(name, name[:-len(AUGMENTED)]) for name in names
              if name.endswith(AUGMENTED) and name[:-len(AUGMENTED)] in names]
    gaps = [comparison.gap(a, b) for a, b in pairs]
    lines += [str(gap) for gap in gaps]
    if about is not None:
        lines = [str(gap) for gap in gaps if about in gap.a or about in gap.b]
    tested = transfer + gaps
    if tested:
        threshold = statistics.NormalDist().inv_cdf(1 - 0.025 / len(tested))
        chance = 2 * (1 - statistics.NormalDist().cdf(2))  # P(|z| > 2) for a normal z: 0.046
        passing = [f"{g.a} vs {g.b}" for g in gaps if abs(g.z) > threshold]
        if transfer and all(abs(g.z) > threshold for g in transfer):
            passing.insert(0, "every transfer gap")
        lines.append(f"{len(tested)} comparisons at |z| > 2 (with transfer vs scratch): even with no real difference, "
                     f"about {len(tested) * chance:.1f} of them would come out ahead or behind by chance. Corrected for "
                     f"{len(tested)} comparisons (|z| > {threshold:.2f}): {'; '.join(passing) or 'none'}. Both "
                     f"thresholds treat z as normal, which is rough when the seed part (3 seeds) dominates.")
    return lines
