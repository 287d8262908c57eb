"""Lesson 04 mistakes: preprocessing that does not match the pretrained weights, random validation
transforms, and train/val folders whose classes differ."""
from __future__ import annotations

from ...catalogue import Mistake, Variant
from ...catalogue.plots import bar_plot

PRETRAINED_SETUP = """\
from torchvision import transforms
from course_utils.data import SOURCE_TASK, task_arrays
from course_utils.pretrained import pretrained_resnet18

model, weights = pretrained_resnet18("course", progress=False)   # the course backbone, offline
model.eval()
images, labels = task_arrays(SOURCE_TASK, "val", progress=False, per_class=12)  # held-out images, 16 classes
images = images.permute(0, 3, 1, 2)              # [192, 3, 64, 64] uint8

def accuracy(inputs):
    with torch.no_grad():
        return (model(inputs).argmax(dim=1) == labels).float().mean().item()
"""


def _summarize_normalization(broken: Variant, fixed: Variant) -> str:
    b, f = broken.values, fixed.values
    return (f"same network, same {len(f['inputs'])} images: accuracy {b['result']:.3f} without normalisation vs "
            f"{f['result']:.3f} with it; input mean {b['inputs'].mean():.2f} / std {b['inputs'].std():.2f} vs "
            f"{f['inputs'].mean():.2f} / {f['inputs'].std():.2f}")


def _summarize_augment(broken: Variant, fixed: Variant) -> str:
    def listed(scores):
        return ", ".join(f"{s:.3f}" for s in scores)
    return (f"the same model evaluated 4 times on the same images: accuracy {listed(broken.values['scores'])} with "
            f"random validation transforms; {listed(fixed.values['scores'])} with weights.transforms()")


def _summarize_classes(broken: Variant, fixed: Variant) -> str:
    b, f = broken.values, fixed.values
    return (f"no error either way; validation accuracy {b['result']:.3f} with the folder's own labels vs "
            f"{f['result']:.3f} after mapping class names to the training indices "
            f"(train classes {b['train_classes']}, val classes {b['val_classes']})")


MISTAKES = (
    Mistake(
        id="skip_normalization",
        title="Pretrained model fed unnormalised images",
        setup=PRETRAINED_SETUP,
        broken_code="inputs = transforms.CenterCrop(56)(images.float() / 255)      # values in [0, 1]\n"
               "result = accuracy(inputs)\n",
        fixed_code="inputs = weights.transforms()(images)                         # crop and Normalize(mean, std)\n"
              "result = accuracy(inputs)\n",
        record=("inputs", "result"),
        summarize=_summarize_normalization,
        explanation="The pretrained weights were learned on inputs normalised with a particular mean and std. "
                    "Without that step every activation is shifted and rescaled, so the same features no longer "
                    "mean the same thing. weights.transforms() applies exactly the preprocessing the weights "
                    "expect.",
        plot=bar_plot("result", ("accuracy",)),
    ),
    Mistake(
        id="augment_validation",
        title="Random augmentation in the validation transform",
        setup=PRETRAINED_SETUP + """\
mean, std = weights.transforms().mean, weights.transforms().std
""",
        broken_code="""\
val_tf = transforms.Compose([transforms.RandomResizedCrop(56, scale=(0.3, 1.0)), transforms.RandomHorizontalFlip(),
                             transforms.ConvertImageDtype(torch.float), transforms.Normalize(mean, std)])
scores = [accuracy(torch.stack([val_tf(image) for image in images])) for evaluation in range(4)]
""",
        fixed_code="""\
val_tf = weights.transforms()                    # deterministic: resize, centre crop, normalise
scores = [accuracy(torch.stack([val_tf(image) for image in images])) for evaluation in range(4)]
""",
        record=("scores",),
        summarize=_summarize_augment,
        explanation="Random crops and flips are for training, where they show the model new variations. In "
                    "validation they make the score depend on the dice: the same model on the same images gets "
                    "a different accuracy each time, so comparisons between models mean nothing. Validation "
                    "must use a fixed transform.",
        plot=bar_plot("scores", ("eval 1", "eval 2", "eval 3", "eval 4")),
    ),
    Mistake(
        id="class_to_idx_mismatch",
        title="Train and validation folders with different classes",
        setup="""\
from torchvision import datasets
from course_utils.data import course_dataset, split_without
from course_utils.pretrained import pretrained_resnet18

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
