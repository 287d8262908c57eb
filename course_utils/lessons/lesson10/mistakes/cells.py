"""Lesson 10 mistakes on the solar cells: accuracy that hides the missed defects, a source domain that does not
transfer, a threshold chosen on the test cells."""
from __future__ import annotations

import statistics

from ....catalogue import Mistake, Variant

# ---------------------------------------------------------------- accuracy_hides_missed_defects

LABELS_SETUP = """\
from course_utils.data.elpv import SolarCells, paper_split
from course_utils.training.probe import scores

cells = SolarCells("binary")                       # labels only: no image is opened
targets = torch.tensor(cells.targets)              # 0 functional, 1 defective
test = torch.tensor(paper_split(cells, seed=0)["test"])
truth = targets[test]                              # the 656 test cells
predictions = torch.zeros(len(test), dtype=torch.long)   # a "model" that calls every cell functional
"""


def _summarize_accuracy(broken: Variant, fixed: Variant) -> str:
    b, f = broken.values, fixed.values
    return (f"a model that calls every one of the {b['count']} test cells functional scored accuracy "
            f"{b['accuracy']:.3f}, which reads as a working inspector; its balanced accuracy is "
            f"{f['balanced']:.3f} (chance for two classes) and it found {f['found']} of the {f['defective']} "
            f"defective cells (recall {f['recall']:.3f})")


def _plot_accuracy(figure, broken: Variant, fixed: Variant) -> None:
    from ....display import BROKEN, FIXED
    ax = figure.subplots()
    names = ("accuracy", "balanced accuracy", "defective recall")
    values = (broken.values["accuracy"], fixed.values["balanced"], fixed.values["recall"])
    colours = (BROKEN, FIXED, FIXED)
    ax.bar(range(3), values, color=colours)
    for i, value in enumerate(values):
        ax.text(i, value + 0.02, f"{value:.2f}", ha="center", fontsize=9)
    ax.set_xticks(range(3), names, fontsize=9)
    ax.set_ylim(0, 1.05)
    ax.set_title("'every cell is functional', on the test cells", fontsize=9)


# ---------------------------------------------------------------- shapes_backbone_on_real_images

SOURCE_SETUP = """\
from course_utils.data.elpv import SolarCells, stratified_split
from course_utils.models.cell_features import cell_features
from course_utils.training.probe import fit_head, probabilities, scores

cells = SolarCells("binary")
# 800 of the 2,624 cells, stratified by defect level and cell type: 600 to train a head on, 200 to test it
part = stratified_split(cells.strata(), {"used": 800 / len(cells), "rest": 1 - 800 / len(cells)}, seed=0)["used"]
split = stratified_split([cells.strata()[i] for i in part], {"train": 0.75, "test": 0.25}, seed=0)
y = torch.tensor(cells.targets)[part]
train, test = torch.tensor(split["train"]), torch.tensor(split["test"])

def balanced_accuracy(source, size):               # the same linear head on one backbone's frozen features
    x = cell_features(source, size, progress=False)[0][part]   # the lesson's features: cached once per machine
    head = fit_head(x[train], y[train], num_classes=2, seed=0)
    return scores(probabilities(head, x[test]).argmax(1), y[test], 2).balanced_accuracy
"""


def _summarize_source(broken: Variant, fixed: Variant) -> str:
    b, f = broken.values, fixed.values
    noise = 2 * (0.25 / 200) ** 0.5  # two standard errors of an accuracy near 0.5 on 200 cells, rounded up
    near = abs(b["shapes"] - b["random"]) <= noise
    return (f"the same linear head on 600 training cells, scored on 200 test cells (balanced accuracy, 0.5 = "
            f"chance): the course's shapes backbone {b['shapes']:.3f}, the same network with random weights "
            f"{b['random']:.3f} (a gap of {b['shapes'] - b['random']:+.3f}, {'within' if near else 'outside'} "
            f"±{noise:.3f}, a rough yardstick: two standard errors of one accuracy near 0.5 on 200 cells), "
            f"ImageNet's EfficientNet-Lite0 {f['imagenet']:.3f} "
            f"({f['imagenet'] - b['shapes']:+.3f} over the shapes backbone)")


def _plot_source(figure, broken: Variant, fixed: Variant) -> None:
    from ....display import BROKEN, FIXED, MUTED
    ax = figure.subplots()
    bars = (("shapes\n(course backbone)", broken.values["shapes"], BROKEN),
            ("random weights\n(the control)", broken.values["random"], MUTED),
            ("ImageNet\n(EfficientNet-Lite0)", fixed.values["imagenet"], FIXED))
    for i, (name, value, colour) in enumerate(bars):
        ax.bar(i, value, color=colour)
        ax.text(i, value + 0.01, f"{value:.3f}", ha="center", fontsize=9)
    ax.axhline(0.5, color=MUTED, linestyle=":", linewidth=1)
    ax.set_xticks(range(3), [name for name, _, _ in bars], fontsize=8)
    ax.set_ylim(0.4, 1.0)
    ax.set_ylabel("balanced accuracy", fontsize=9)
    ax.set_title("frozen features of real cells, same head", fontsize=9)


# ---------------------------------------------------------------- threshold_chosen_on_test

THRESHOLD_SETUP = """\
from course_utils.data.elpv import SolarCells, paper_split
from course_utils.models.cell_features import cell_features
from course_utils.training.probe import fit_head, probabilities, threshold_for_recall

cells = SolarCells("binary")
split = paper_split(cells, seed=0)                 # 1,968 training cells, 656 held out
y = torch.tensor(cells.targets)
x, _ = cell_features("imagenet", 128, progress=False)  # the lesson's features: cached once per machine
head = fit_head(x[split["train"]], y[split["train"]], num_classes=2, seed=0)
held = torch.tensor(split["test"])
p, truth = probabilities(head, x[held])[:, 1], y[held]   # the defect probability of the 656 held-out cells

def recall_at(t, cells):                           # the share of the defective cells among `cells` with p >= t
    defective = truth[cells] == 1
    return ((p[cells] >= t) & defective).sum().item() / defective.sum().item()

# 200 ways to divide the held-out cells: 218 to choose the threshold on, 219 to report, 219 "fresh" cells
generator = torch.Generator().manual_seed(0)
divisions = [torch.randperm(len(held), generator=generator).split([218, 219, 219]) for draw in range(200)]
TARGET = 0.9                                       # find 90 % of the defective cells
"""

THRESHOLD_LOOP = """\
reported, fresh = [], []
for validation, test, new in divisions:
{choose}
    reported.append(recall_at(t, test))            # the recall we would report
    fresh.append(recall_at(t, new))                # what the same threshold finds on cells nobody looked at
"""


def _summarize_threshold(broken: Variant, fixed: Variant) -> str:
    b, f = broken.values, fixed.values
    mean = statistics.fmean
    always = all(r >= 0.9 for r in b["reported"])
    return (f"over {len(b['reported'])} divisions of the 656 held-out cells, the threshold chosen on the test "
            f"cells for 90 % recall reported {mean(b['reported']):.3f} ({'at least 0.9 every time: it was chosen to' if always else 'chosen to reach 0.9'}) "
            f"while fresh cells got {mean(b['fresh']):.3f} (optimistic by {mean(b['reported']) - mean(b['fresh']):+.3f}); "
            f"chosen on validation cells, the test cells reported {mean(f['reported']):.3f} and fresh cells got "
            f"{mean(f['fresh']):.3f} ({mean(f['reported']) - mean(f['fresh']):+.3f})")


def _plot_threshold(figure, broken: Variant, fixed: Variant) -> None:
    from ....display import BROKEN, FIXED
    ax = figure.subplots()
    for group, (variant, colour) in enumerate(((broken, BROKEN), (fixed, FIXED))):
        for offset, key, alpha in ((-0.2, "reported", 1.0), (0.2, "fresh", 0.4)):
            height = statistics.fmean(variant.values[key])
            ax.bar(group + offset, height, 0.38, color=colour, alpha=alpha)
            ax.text(group + offset, height + 0.004, f"{height:.3f}\n{key}", ha="center", fontsize=8)
    ax.axhline(0.9, color="black", linestyle=":", linewidth=1)
    ax.set_xticks((0, 1), ("threshold chosen\non the test cells", "threshold chosen\non validation cells"), fontsize=9)
    ax.set_ylim(0.7, 1.0)
    ax.set_ylabel("defective recall (mean of 200 divisions)", fontsize=9)


MISTAKES = (
    Mistake(
        id="accuracy_hides_missed_defects",
        title="Accuracy alone on an imbalanced inspection task",
        setup=LABELS_SETUP,
        broken_code="""\
accuracy = (predictions == truth).float().mean().item()   # the one number reported
count = len(truth)
""",
        fixed_code="""\
result = scores(predictions, truth, num_classes=2, positive=1)
balanced, recall = result.balanced_accuracy, result.recall   # mean of the two classes' recalls; defective recall
found, defective = int(((predictions == 1) & (truth == 1)).sum()), int((truth == 1).sum())
""",
        record=("accuracy", "count", "balanced", "recall", "found", "defective"),
        summarize=_summarize_accuracy,
        explanation="About 69 % of the cells are functional, so a model that never says \"defective\" is right "
                    "about 69 % of the time and useless as an inspector. Accuracy counts every cell alike; balanced "
                    "accuracy averages the recall of each class, so ignoring a class costs half the score; the "
                    "defective recall says how many of the cells that matter were found. Always print the "
                    "majority-class floor next to an accuracy, and report balanced accuracy and the recall of the "
                    "class you care about.",
        plot=_plot_accuracy,
    ),
    Mistake(
        id="shapes_backbone_on_real_images",
        title="A source domain that does not transfer",
        setup=SOURCE_SETUP,
        broken_code="""\
shapes = balanced_accuracy("shapes", 56)           # pretrained on the course's 16 drawn shapes
random = balanced_accuracy("random", 56)           # the same ResNet-18 with random weights: the control
""",
        fixed_code="""\
imagenet = balanced_accuracy("imagenet", 128)      # pretrained on 1.3 million ImageNet photos
""",
        record=("shapes", "random", "imagenet"),
        summarize=_summarize_source,
        explanation="Pretrained features help when the source task taught the network things the target needs. The "
                    "course's backbone learned to tell 16 clean drawn shapes apart; electroluminescence images of "
                    "cracked solar cells share little with them, and its features serve a linear head about as well as "
                    "those of the same network with random weights (random convolutions are already a usable, if "
                    "weak, feature extractor). ImageNet's EfficientNet-Lite0 serves the head better here; how much of that is "
                    "its photos rather than its architecture would take a random-weight Lite0 as a second control. "
                    "Always compare a pretrained backbone with a random-weight control before crediting "
                    "pretraining, and pick the source closest to your images (or the broadest, like ImageNet).",
        plot=_plot_source,
    ),
    Mistake(
        id="threshold_chosen_on_test",
        title="The decision threshold chosen on the test cells",
        setup=THRESHOLD_SETUP,
        broken_code=THRESHOLD_LOOP.format(
            choose="    t = threshold_for_recall(p[test], truth[test], TARGET)         # chosen ON THE TEST CELLS"),
        fixed_code=THRESHOLD_LOOP.format(
            choose="    t = threshold_for_recall(p[validation], truth[validation], TARGET)   # chosen on validation"),
        record=("reported", "fresh"),
        summarize=_summarize_threshold,
        explanation="A threshold chosen to find 90 % of the defective cells in one set of cells finds at least 90 % "
                    "there by construction, whatever the model is worth; on other cells the same threshold finds "
                    "fewer, because it was fitted to the luck of those particular cells. Choose the threshold on "
                    "validation cells, then report what it does on test cells you did not look at; if the reported "
                    "recall falls short of the target, choose for a higher recall on validation (leave a margin).",
        plot=_plot_threshold,
    ),
)
