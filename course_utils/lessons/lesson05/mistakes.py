"""Lesson 05 mistakes: a head that keeps the pretrained task's outputs."""
from __future__ import annotations

from ...catalogue import Mistake, Variant
from ...catalogue.plots import series_plot

STEPS = (0, 1, 2, 5, 20, 100)  # training steps after which the head's predictions are measured


def _summarize_outputs(broken: Variant, fixed: Variant) -> str:
    b, f = broken.values, fixed.values
    impossible, accuracy = b["impossible"], b["accuracy"]
    return (f"no error either way. With {b['outputs']} outputs, an untrained head names a class index from "
            f"{b['num_classes']} to {b['outputs'] - 1} (none exists in a {b['num_classes']}-class task) for "
            f"{impossible[0]:.0%} of the validation images; training pushes the unused outputs down: "
            f"{impossible[STEPS.index(5)]:.0%} after 5 steps, {impossible[-1]:.0%} after {STEPS[-1]}, accuracy "
            f"{accuracy[-1]:.3f} vs {f['accuracy'][-1]:.3f} with {f['outputs']} outputs: the mistake hides rather "
            f"than shows")


MISTAKES = (
    Mistake(
        id="kept_1000_outputs",
        title="New task, old number of outputs",
        setup=f"""\
from course_utils.data.generated import TARGET_TASK, task_arrays
from course_utils.models.pretrained import pretrained_resnet18

model, weights = pretrained_resnet18("course", progress=False)   # pretrained on 16 shapes: fc is 512 -> 16
num_classes = 5
backbone = nn.Sequential(*list(model.children())[:-1], nn.Flatten()).eval()   # frozen: 512 features per image
def features(split):
    raw, labels = task_arrays(TARGET_TASK, split, progress=False)
    with torch.no_grad():
        return backbone(weights.transforms()(raw.permute(0, 3, 1, 2))), labels
(train_x, train_y), (val_x, val_y) = features("train"), features("val")   # 100 and 250 images, 5 shapes

def train_and_watch(head, steps={STEPS}):   # Adam on the 100 training images; measure after each listed step
    optimizer = torch.optim.Adam(head.parameters(), lr=0.01)
    impossible, accuracy = [], []
    for step in range(max(steps) + 1):
        if step in steps:
            with torch.no_grad():
                predictions = head(val_x).argmax(dim=1)
            impossible.append((predictions >= num_classes).float().mean().item())
            accuracy.append((predictions == val_y).float().mean().item())
        optimizer.zero_grad()
        F.cross_entropy(head(train_x), train_y).backward()
        optimizer.step()
    return impossible, accuracy
""",
        broken_code="""\
model.fc = nn.Linear(model.fc.in_features, model.fc.out_features)   # a new head, but still 16 outputs
impossible, accuracy = train_and_watch(model.fc)
outputs = model.fc.out_features
""",
        fixed_code="""\
model.fc = nn.Linear(model.fc.in_features, num_classes)             # one output per class of the new task
impossible, accuracy = train_and_watch(model.fc)
outputs = model.fc.out_features
""",
        record=("outputs", "impossible", "accuracy", "num_classes"),
        summarize=_summarize_outputs,
        explanation="The head's out_features decides how many classes the model can predict. Left at the "
                    "pretrained task's count (1000 for ImageNet, 16 for the course backbone), nothing fails: "
                    "CrossEntropyLoss accepts 5-class targets, and before training argmax picks indices that mean "
                    "nothing in the new task. Training then pushes the outputs that never receive a target down, so "
                    "accuracy looks normal and the mistake goes unnoticed, while the model still has outputs that "
                    "are no class, class_names[index] can fail, and nothing guarantees those outputs stay low on "
                    "images unlike the training set. num_classes outputs make every prediction a real class.",
        plot=series_plot("impossible", "share of impossible predictions", ticks=STEPS),
    ),
)
