"""Lesson 04 mistakes: preprocessing that does not match the pretrained weights, random validation
transforms, and train/val folders whose classes differ."""
from __future__ import annotations

from ...catalogue import Mistake, Variant
from ...catalogue.plots import bar_plot

PRETRAINED_SETUP = """\
from torchvision import transforms
from course_utils.data.generated import SOURCE_TASK, task_arrays
from course_utils.models.pretrained import pretrained_resnet18

model, weights = pretrained_resnet18("course", progress=False)   # the course backbone, offline
model.eval()
images, labels = task_arrays(SOURCE_TASK, "val", progress=False, per_class=12)  # held-out images, 16 classes
images = images.permute(0, 3, 1, 2)              # [192, 3, 64, 64] uint8

def accuracy(inputs):
    with torch.no_grad():
        return (model(inputs).argmax(dim=1) == labels).float().mean().item()
"""


NORMALIZATION_SETUP = """\
from torchvision import datasets, transforms
from course_utils.data.generated import course_dataset
from course_utils.models.features import extract_features
from course_utils.models.pretrained import pretrained_resnet18

root = course_dataset(progress=False)                      # the lesson's own 5-shape task
model, weights = pretrained_resnet18("course", progress=False)
model.fc = nn.Identity()                                    # the frozen backbone's 512 features
preset = weights.transforms()                               # resize, crop, scale to [0, 1], Normalize(mean, std)
no_normalize = transforms.Compose([transforms.Resize(preset.resize_size), transforms.CenterCrop(preset.crop_size),
                                   transforms.ToTensor()])   # the same, without Normalize

def features(transform, split):
    loader = torch.utils.data.DataLoader(datasets.ImageFolder(root / split, transform=transform), batch_size=125)
    return extract_features(model, loader).tensors

def train_head(x, y):                                       # a new 5-class head, trained on the 100 training images
    torch.manual_seed(0)
    head = nn.Linear(512, 5)
    optimizer = torch.optim.Adam(head.parameters(), lr=0.01)
    for step in range(300):
        optimizer.zero_grad()
        F.cross_entropy(head(x), y).backward()
        optimizer.step()
    return head

def accuracy(head, x, y):
    with torch.no_grad():
        return (head(x).argmax(1) == y).float().mean().item()

normalised = {split: features(preset, split) for split in ("train", "val")}
unnormalised = {split: features(no_normalize, split) for split in ("train", "val")}
"""

NORMALIZATION_CASES = ("trained with, evaluated without", "trained without, evaluated with", "never normalised",
                       "normalised throughout")


def _summarize_normalization(broken: Variant, fixed: Variant) -> str:
    b, f = broken.values, fixed.values
    return (f"the same frozen backbone and a new 5-class head on the lesson's {f['val_images']} validation images: "
            f"{f['result']:.3f} normalised throughout; {b['result']:.3f} when the head was trained with "
            f"normalisation and evaluated without, {b['reverse']:.3f} the other way round, {b['never']:.3f} when "
            f"neither was normalised")


def _plot_normalization(figure, broken: Variant, fixed: Variant) -> None:
    from ...display import BROKEN, FIXED
    ax = figure.subplots()
    values = [broken.values.get(k, float("nan")) for k in ("result", "reverse", "never")] + [fixed.values["result"]]
    ax.barh(range(4), values, color=[BROKEN] * 3 + [FIXED])
    ax.set_yticks(range(4), NORMALIZATION_CASES, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("validation accuracy")
    for y, value in enumerate(values):
        ax.text(value + 0.01, y, f"{value:.2f}", va="center", fontsize=8)


AUGMENT_SETUP = PRETRAINED_SETUP + """\
mean, std = weights.transforms().mean, weights.transforms().std
train_tf = transforms.Compose([transforms.RandomResizedCrop(56, scale=(0.6, 1.0)), transforms.RandomHorizontalFlip(),
                               transforms.ConvertImageDtype(torch.float), transforms.Normalize(mean, std)])
"""


def _summarize_augment(broken: Variant, fixed: Variant) -> str:
    scores, reference = broken.values["scores"], fixed.values["scores"][0]
    return (f"the same model evaluated 4 times on the same {fixed.values['images']} images with the training "
            f"transform: accuracy {', '.join(f'{s:.3f}' for s in scores)}: noise (a spread of "
            f"{max(scores) - min(scores):.3f} between evaluations) and bias (on average "
            f"{reference - sum(scores) / len(scores):.3f} below the {reference:.3f} that weights.transforms() gives "
            f"every time)")


def _plot_augment(figure, broken: Variant, fixed: Variant) -> None:
    """The 4 evaluations with the training transform (noise) against the deterministic score (bias)."""
    from ...display import BROKEN, FIXED
    ax = figure.subplots()
    scores, reference = broken.values["scores"], fixed.values["scores"]
    evaluations = range(1, len(scores) + 1)
    mean = sum(scores) / len(scores)
    ax.plot(evaluations, reference, "s-", color=FIXED, label=f"weights.transforms(): {reference[0]:.3f} every time")
    ax.plot(evaluations, scores, "o-", color=BROKEN,
            label=f"training transform: {min(scores):.3f} to {max(scores):.3f}")
    ax.axhspan(min(scores), max(scores), color=BROKEN, alpha=0.12, linewidth=0)   # the noise: the spread
    ax.axhline(mean, color=BROKEN, linestyle=":", linewidth=1)                      # the bias: mean vs reference
    for x, score in zip(evaluations, scores):
        ax.text(x, score - 0.012, f"{score:.3f}", ha="center", va="top", fontsize=7, color=BROKEN)
    right = len(scores) + 0.35
    ax.annotate("", xy=(right, mean), xytext=(right, reference[0]),
                arrowprops={"arrowstyle": "<->", "color": "black", "linewidth": 1})
    ax.text(right + 0.08, (max(scores) + reference[0]) / 2, f"bias\n{mean - reference[0]:+.3f}", va="center",
            fontsize=7)
    ax.text(right + 0.08, (min(scores) + max(scores)) / 2, f"noise\n{max(scores) - min(scores):.3f}",
            va="center", fontsize=7, color=BROKEN)
    ax.set_xticks(list(evaluations), [f"eval {x}" for x in evaluations])
    ax.set_xlim(0.6, len(scores) + 0.9)
    ax.set_ylim(min(scores) - 0.06, max(reference) + 0.04)
    ax.set_ylabel("validation accuracy")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.45, 0.8))


def _summarize_classes(broken: Variant, fixed: Variant) -> str:
    b, f = broken.values, fixed.values
    return (f"no error either way; validation accuracy {b['result']:.3f} with the folder's own labels vs "
            f"{f['result']:.3f} after mapping class names to the training indices "
            f"(train classes {b['train_classes']}, val classes {b['val_classes']})")


MISTAKES = (
    Mistake(
        id="skip_normalization",
        title="Pretrained model fed unnormalised images",
        setup=NORMALIZATION_SETUP,
        broken_code="""\
head = train_head(*normalised["train"])                       # trained on normalised images...
result = accuracy(head, *unnormalised["val"])                 # ...evaluated without Normalize
reverse = accuracy(train_head(*unnormalised["train"]), *normalised["val"])   # the other way round
never = accuracy(train_head(*unnormalised["train"]), *unnormalised["val"])   # skipped everywhere
""",
        fixed_code="""\
head = train_head(*normalised["train"])                       # Normalize(mean, std) in both transforms
result = accuracy(head, *normalised["val"])
val_images = len(normalised["val"][1])
""",
        record=("result", "reverse", "never", "val_images"),
        summarize=_summarize_normalization,
        explanation="The pretrained weights were learned on inputs normalised with a particular mean and std. "
                    "Without that step every activation of the backbone is shifted and rescaled, so its features "
                    "no longer mean what they meant in pretraining. A new head trained on such features recovers "
                    "part of the loss, not all of it; evaluating without the Normalize the head was trained with "
                    "costs the most. "
                    "weights.transforms() ends with the Normalize the weights expect: use the same mean and std "
                    "in the training and the validation transform.",
        plot=_plot_normalization,
    ),
    Mistake(
        id="augment_validation",
        title="Random augmentation in the validation transform",
        setup=AUGMENT_SETUP,
        broken_code="""\
val_tf = train_tf                                # the training pipeline reused: random crops and flips
scores = [accuracy(torch.stack([val_tf(image) for image in images])) for evaluation in range(4)]
""",
        fixed_code="""\
val_tf = weights.transforms()                    # deterministic: resize, centre crop, normalise
scores = [accuracy(torch.stack([val_tf(image) for image in images])) for evaluation in range(4)]
images = len(images)
""",
        record=("scores", "images"),
        summarize=_summarize_augment,
        explanation="Random crops and flips are for training, where they show the model new variations. In "
                    "validation they do two kinds of harm: the score depends on the dice (the same model on the same "
                    "images scores differently each time, so a small difference between two models can be the "
                    "dice), and it is biased (crops that cut off part of the object make the task harder than the "
                    "images you will predict on, so the score is lower than the model's real accuracy). "
                    "Validation must use a fixed transform.",
        plot=_plot_augment,
    ),
    Mistake(
        id="class_to_idx_mismatch",
        title="Train and validation folders with different classes",
        setup="""\
from torchvision import datasets
from course_utils.data.generated import course_dataset, split_without
from course_utils.models.pretrained import pretrained_resnet18

root = course_dataset(progress=False)
backbone, weights = pretrained_resnet18("course", progress=False)
backbone.fc = nn.Identity()                      # 512 features per image
backbone.eval()

def features_and_labels(folder):
    data = datasets.ImageFolder(folder, transform=weights.transforms())
    with torch.no_grad():
        features = torch.cat([backbone(x) for x, _ in torch.utils.data.DataLoader(data, batch_size=128)])
    return features, torch.tensor(data.targets), data.classes

train_x, train_y, train_classes = features_and_labels(root / "train")
head = nn.Linear(512, len(train_classes))        # a classifier trained on the training split
optimizer = torch.optim.Adam(head.parameters(), lr=0.01)
for step in range(300):
    optimizer.zero_grad()
    F.cross_entropy(head(train_x), train_y).backward()
    optimizer.step()

# A copy of the validation images in which one class folder went missing (verified, rebuilt if changed).
copy = split_without(root, "val", missing="crescent")
""",
        broken_code="""\
val_x, val_y, val_classes = features_and_labels(copy)          # indices counted in this folder
result = (head(val_x).argmax(1) == val_y).float().mean().item()
""",
        fixed_code="""\
val_x, val_y, val_classes = features_and_labels(copy)
val_y = torch.tensor([train_classes.index(val_classes[i]) for i in val_y])   # by name, as in training
result = (head(val_x).argmax(1) == val_y).float().mean().item()
""",
        record=("result", "train_classes", "val_classes"),
        summarize=_summarize_classes,
        explanation="ImageFolder numbers the class folders it finds alphabetically, separately for each split. "
                    "With one folder missing, every later class gets a smaller index, so the labels no longer "
                    "match what the model learned: no error, just a collapse in accuracy. Compare "
                    "train_set.classes with val_set.classes (and refuse to go on), or map labels by class name.",
        plot=bar_plot("result", ("val accuracy",)),
    ),
)
