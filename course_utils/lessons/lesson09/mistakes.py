"""Lesson 09 mistakes: the best epoch chosen on the test set, and the same images in training and validation."""
from __future__ import annotations

import math

from ...catalogue import Mistake, Variant

# Both entries start from the frozen course backbone's features of the course dataset's files.
FEATURES_SETUP = """\
from torchvision import datasets
from course_utils.data.generated import course_dataset
from course_utils.models.features import extract_features
from course_utils.models.pretrained import pretrained_resnet18

root = course_dataset(progress=False)
backbone, weights = pretrained_resnet18("course", progress=False)
backbone.fc = nn.Identity()                      # the frozen backbone: 512 features per image
backbone.eval()

def features_of(split):
    folder = datasets.ImageFolder(root / split, transform=weights.transforms())
    loader = torch.utils.data.DataLoader(folder, batch_size=125)
    x, y = extract_features(backbone, loader).tensors
    return x, y, [path for path, label in folder.samples]
"""

SELECTION_SETUP = FEATURES_SETUP + """\
train_x, train_y, _ = features_of("train")       # 100 training images
held_x, held_y, _ = features_of("val")           # 250 held-out images, never trained on

# A head trained for 30 epochs with a noisy optimiser (SGD, batches of 25). After every epoch we note which
# held-out images it gets right, so any set of them can be scored at any epoch without retraining.
head = nn.Linear(512, 5)
optimizer = torch.optim.SGD(head.parameters(), lr=0.1, momentum=0.9)
correct = []
for epoch in range(30):
    for batch in torch.randperm(100).split(25):
        optimizer.zero_grad()
        F.cross_entropy(head(train_x[batch]), train_y[batch]).backward()
        optimizer.step()
    with torch.no_grad():
        correct.append((head(held_x).argmax(1) == held_y).float())
correct = torch.stack(correct)                   # [30 epochs, 250 images]: 1 where the image was right

def accuracy_per_epoch(images):
    return correct[:, images].mean(dim=1)        # 30 accuracies: one per epoch, on these images

# 200 ways a project could have divided the held-out images: 30 for testing, 30 for validation, and 190
# "fresh" images standing in for the ones the model meets once it is used.
generator = torch.Generator().manual_seed(0)
splits = [torch.randperm(250, generator=generator).split([30, 30, 190]) for draw in range(200)]
test_curve = accuracy_per_epoch(splits[0][0]).tolist()      # (for the plot: the first split, epoch by epoch)
fresh_curve = accuracy_per_epoch(splits[0][2]).tolist()
"""

SELECTION_LOOP = """\
reported, fresh, chosen_epochs = [], [], []
for test, validation, new in splits:
{choose}
    reported.append(accuracy_per_epoch(test)[chosen].item())       # the test accuracy we would report
    fresh.append(accuracy_per_epoch(new)[chosen].item())           # the same epoch on images nobody looked at
    chosen_epochs.append(int(chosen))
optimism = sum(reported) / len(reported) - sum(fresh) / len(fresh)
"""


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _summarize_selection(broken: Variant, fixed: Variant) -> str:
    b, f = broken.values, fixed.values
    above = sum(r > n for r, n in zip(b["reported"], b["fresh"]))
    return (f"over {len(b['reported'])} random splits of 250 held-out images (30 test, 30 validation, 190 fresh), "
            f"choosing the best of 30 epochs on the test set reported a test accuracy of {_mean(b['reported']):.3f} "
            f"on average while the chosen epochs scored {_mean(b['fresh']):.3f} on the fresh images (optimistic by "
            f"{b['optimism']:+.3f}, higher in {above} of {len(b['reported'])} splits); choosing on the validation "
            f"set and testing once reported {_mean(f['reported']):.3f} against {_mean(f['fresh']):.3f} fresh "
            f"({f['optimism']:+.3f}{': no systematic gap' if abs(f['optimism']) < 0.02 else ''})")


def _plot_selection(figure, broken: Variant, fixed: Variant) -> None:
    from ...display import BROKEN, FIXED, MUTED
    bars, curves = figure.subplots(1, 2, width_ratios=(1, 1.5))
    heights = []
    for group, (variant, colour) in enumerate(((broken, BROKEN), (fixed, FIXED))):
        for offset, key, alpha in ((-0.2, "reported", 1.0), (0.2, "fresh", 0.4)):
            height = _mean(variant.values[key])
            heights.append(height)
            bars.bar(group + offset, height, 0.38, color=colour, alpha=alpha)
            bars.text(group + offset, height + 0.004, f"{height:.2f}", ha="center", fontsize=8)
            bars.text(group + offset, min(heights) - 0.07, key, ha="center", va="bottom", fontsize=8, rotation=90, color="white")
    bars.set_xticks((0, 1), ("chosen on\ntest set", "chosen on\nvalidation"), fontsize=9)
    bars.set_ylim(min(heights) - 0.08, max(heights) + 0.03)
    bars.set_ylabel("mean over splits", fontsize=9)
    bars.set_title(f"reported vs fresh ({len(broken.values['reported'])} splits)", fontsize=9)
    epochs = range(1, len(broken.values["test_curve"]) + 1)
    curves.plot(epochs, broken.values["test_curve"], color=MUTED, marker=".", label="test set (30 images)")
    curves.plot(epochs, broken.values["fresh_curve"], color=MUTED, linestyle="--", label="fresh (190 images)")
    for variant, tag, colour in ((broken, "chosen on test", BROKEN), (fixed, "chosen on validation", FIXED)):
        epoch = variant.values["chosen_epochs"][0] + 1
        curves.axvline(epoch, color=colour, linewidth=1.5, label=f"{tag}: epoch {epoch}")
    curves.set_xlabel("epoch", fontsize=9)
    curves.set_ylabel("accuracy", fontsize=9)
    curves.set_title("the first split, epoch by epoch", fontsize=9)
    curves.set_ylim(0.4, 1.0)
    curves.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2)


OVERLAP_SETUP = FEATURES_SETUP + """\
import hashlib
from dataclasses import replace
from pathlib import Path
from torch.utils.data import random_split
from course_utils.data.generated import TARGET_TASK, task_arrays

# "Your own images": the course's 350 labelled files (its train/ and val/ folders pooled) to split yourself.
x_train, y_train, files_train = features_of("train")
x_val, y_val, files_val = features_of("val")
x, y, files = torch.cat([x_train, x_val]), torch.cat([y_train, y_val]), files_train + files_val

# 250 fresh images of the same 5 shapes, drawn later (another seed): never used to train or to choose.
later, fresh_y = task_arrays(replace(TARGET_TASK, seed=7), "val", progress=False, per_class=50)
with torch.no_grad():
    fresh_x = backbone(weights.transforms()(later.permute(0, 3, 1, 2)))

def content_hash(path):                          # the same image gives the same hash, whatever its file name
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()

def train_head(x, y):                            # a linear head, trained until it fits its training images
    head = nn.Linear(512, 5)
    optimizer = torch.optim.Adam(head.parameters(), lr=0.03)
    for step in range(150):
        optimizer.zero_grad()
        F.cross_entropy(head(x), y).backward()
        optimizer.step()
    return head

def accuracy(head, x, y):
    with torch.no_grad():
        return (head(x).argmax(1) == y).float().mean().item()
"""

OVERLAP_MEASURE = """\
train_idx, val_idx = train_part.indices, val_part.indices
in_training = len({content_hash(files[i]) for i in val_idx} & {content_hash(files[i]) for i in train_idx})
val_images, fresh_images = len(val_idx), len(fresh_y)
head = train_head(x[train_idx], y[train_idx])
train_accuracy = accuracy(head, x[train_idx], y[train_idx])
val_accuracy = accuracy(head, x[val_idx], y[val_idx])
fresh_accuracy = accuracy(head, fresh_x, fresh_y)
"""


def _summarize_overlap(broken: Variant, fixed: Variant) -> str:
    b, f = broken.values, fixed.values
    noise = 2 * math.sqrt(f["fresh_accuracy"] * (1 - f["fresh_accuracy"]) / f["val_images"])
    gap = f["val_accuracy"] - f["fresh_accuracy"]
    seen = b["in_training"] / b["val_images"]
    mix = seen * b["train_accuracy"] + (1 - seen) * b["fresh_accuracy"]
    return (f"the folder split twice: {b['in_training']} of the {b['val_images']} validation images were also "
            f"training images (training accuracy {b['train_accuracy']:.3f}), and validation accuracy read "
            f"{b['val_accuracy']:.3f} while {b['fresh_images']} fresh images got {b['fresh_accuracy']:.3f} (a mix "
            f"of seen images at the training accuracy and new ones at the fresh accuracy predicts {mix:.3f}); split "
            f"once: {f['in_training']} shared, validation {f['val_accuracy']:.3f}, fresh {f['fresh_accuracy']:.3f} "
            f"(a gap of {gap:+.3f}, {'within' if abs(gap) <= noise else 'outside'} the ±{noise:.3f} that "
            f"{f['val_images']} validation images can measure)")


def _plot_overlap(figure, broken: Variant, fixed: Variant) -> None:
    from ...display import BROKEN, FIXED
    ax = figure.subplots()
    groups = (("train_accuracy", "training"), ("val_accuracy", "validation"), ("fresh_accuracy", "fresh images"))
    width = 0.38
    for offset, (variant, tag, colour) in zip((-width / 2, width / 2), (
            (broken, f"split twice ({broken.values['in_training']} of {broken.values['val_images']} validation "
                     f"images in training)", BROKEN),
            (fixed, f"split once ({fixed.values['in_training']} shared)", FIXED))):
        heights = [variant.values[key] for key, _ in groups]
        ax.bar([i + offset for i in range(3)], heights, width, color=colour, label=tag)
        for i, height in enumerate(heights):
            ax.text(i + offset, height + 0.005, f"{height:.2f}", ha="center", fontsize=8)
    ax.set_xticks(range(3), [label for _, label in groups])
    ax.set_ylim(0.7, 1.06)
    ax.set_ylabel("accuracy")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2)


MISTAKES = (
    Mistake(
        id="selected_on_test",
        title="Best epoch chosen on the test set",
        setup=SELECTION_SETUP,
        broken_code=SELECTION_LOOP.format(
            choose="    chosen = accuracy_per_epoch(test).argmax()           # the best epoch ON THE TEST SET"),
        fixed_code=SELECTION_LOOP.format(
            choose="    chosen = accuracy_per_epoch(validation).argmax()     # the best epoch on the validation set"),
        record=("reported", "fresh", "optimism", "chosen_epochs", "test_curve", "fresh_curve"),
        summarize=_summarize_selection,
        explanation="The test accuracy of one epoch is its real accuracy plus the luck of which 30 images ended "
                    "up in the test set. Choosing the epoch with the highest test accuracy also chooses the epoch "
                    "that was luckiest on those images, so the number you report is too high: on new images the "
                    "same epoch does worse. The more epochs (or settings, or models) you compare on the test set, "
                    "the more chances for luck, so the gap tends to grow. Choose epochs and settings on a validation set, then score the chosen "
                    "model on the test set once, and report that number; a test set used for choosing is one more "
                    "validation set.",
        plot=_plot_selection,
    ),
    Mistake(
        id="overlapping_splits",
        title="The same images in training and validation",
        setup=OVERLAP_SETUP,
        broken_code="""\
# The folder is split twice, e.g. once for the training transform and once for the validation transform:
train_part, _ = random_split(range(len(files)), [0.7, 0.3])   # 70 % of the files to train on...
_, val_part = random_split(range(len(files)), [0.7, 0.3])     # ...and a new shuffle's 30 % to validate on
""" + OVERLAP_MEASURE,
        fixed_code="""\
# The folder is split once, by file: every file is in exactly one part.
train_part, val_part = random_split(range(len(files)), [0.7, 0.3], generator=torch.Generator().manual_seed(0))
""" + OVERLAP_MEASURE + """\
assert in_training == 0, f"{in_training} validation images are also in training"   # checked by content
""",
        record=("in_training", "val_images", "fresh_images", "train_accuracy", "val_accuracy", "fresh_accuracy"),
        summarize=_summarize_overlap,
        explanation="A model that fits its training images scores (almost) 100 % on them. Every validation image "
                    "that is also a training image (a folder split twice with different shuffles, or the same "
                    "photo saved under two names) is one the model has already seen, so validation accuracy moves "
                    "towards training accuracy and no longer tells you what new images will get. Split once, by "
                    "file, and keep that split (write it down, or use a fixed seed); look for duplicates by "
                    "content hash, not by file name, before splitting. The course's preflight(...) checks both "
                    "(its overlapping_splits line), and lesson 09's data checks look for duplicates across your own "
                    "splits.",
        plot=_plot_overlap,
    ),
)
