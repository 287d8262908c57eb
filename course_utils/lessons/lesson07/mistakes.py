"""Lesson 07 mistakes: fine-tuning every layer at a high learning rate on a tiny dataset."""
from __future__ import annotations

from ...catalogue import Mistake, Variant
from ...catalogue.plots import epoch_plot

TINY_SETUP = """\
from course_utils.data.generated import TARGET_TASK, task_arrays
from course_utils.models.pretrained import pretrained_resnet18

model, weights = pretrained_resnet18("course", progress=False)
preprocess = weights.transforms()
raw, labels = task_arrays(TARGET_TASK, "train", progress=False, per_class=8)
images = preprocess(raw.permute(0, 3, 1, 2))                    # 40 training images of the 5 new shapes
raw, val_labels = task_arrays(TARGET_TASK, "val", progress=False, per_class=10)
val_images = preprocess(raw.permute(0, 3, 1, 2))                # 50 validation images
model.fc = nn.Linear(model.fc.in_features, 5)
layer1_before = [p.detach().clone() for p in model.layer1.parameters()]

def accuracy(inputs, targets):
    model.eval()
    with torch.no_grad():
        return (model(inputs).argmax(1) == targets).float().mean().item()

def train(optimizer, epochs=7):
    train_accuracy, val_accuracy = [], []
    for epoch in range(epochs):
        model.train()
        for batch in torch.randperm(40).split(10):
            optimizer.zero_grad()
            F.cross_entropy(model(images[batch]), labels[batch]).backward()
            optimizer.step()
        train_accuracy.append(accuracy(images, labels))
        val_accuracy.append(accuracy(val_images, val_labels))
    return train_accuracy, val_accuracy

def layer1_moved():
    now = [p.detach() for p in model.layer1.parameters()]
    return (torch.cat([(a - b).flatten() for a, b in zip(now, layer1_before)]).norm()
            / torch.cat([b.flatten() for b in layer1_before]).norm()).item()
"""


def _summarize(broken: Variant, fixed: Variant) -> str:
    b, f = broken.values, fixed.values
    return (f"every layer at lr 3e-3: train accuracy {b['train_accuracy'][-1]:.2f} but validation accuracy "
            f"{b['val_accuracy'][-1]:.2f} after {len(b['val_accuracy'])} epochs, layer1's weights moved "
            f"{b['drift']:.1%}; with the "
            f"backbone at lr 1e-4 (the head still at 3e-3): train {f['train_accuracy'][-1]:.2f}, validation "
            f"{f['val_accuracy'][-1]:.2f}, layer1 moved {f['drift']:.1%}")


MISTAKES = (
    Mistake(
        id="full_finetune_tiny_data",
        title="Every pretrained layer trained at a high learning rate on a tiny dataset",
        setup=TINY_SETUP,
        broken_code="optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)      # one high rate for everything\n"
               "train_accuracy, val_accuracy = train(optimizer)\ndrift = layer1_moved()\n",
        fixed_code="""\
head = list(model.fc.parameters())
backbone = [p for name, p in model.named_parameters() if not name.startswith("fc.")]
optimizer = torch.optim.AdamW([{"params": head, "lr": 3e-3},     # the new head: the same rate as before
                               {"params": backbone, "lr": 1e-4}])  # the one change: pretrained layers move gently
train_accuracy, val_accuracy = train(optimizer)
drift = layer1_moved()
""",
        record=("train_accuracy", "val_accuracy", "drift"),
        summarize=_summarize,
        explanation="Large updates to every layer, computed from 40 images, overwrite much of what the pretrained "
                    "filters knew: the network still fits its few training images, but it generalises far worse "
                    "than with gentle updates. Train the new head faster than the pretrained layers "
                    "(discriminative learning rates), or freeze most of the backbone. (This entry is one seed on "
                    "40 training and 50 validation images; lesson 07's comparison measures each choice over 3 "
                    "seeds on the full dataset.)",
        plot=epoch_plot({"val_accuracy": "validation", "train_accuracy": "train"}),
    ),
)
