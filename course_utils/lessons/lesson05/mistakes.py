"""Lesson 05 mistakes: a head that keeps the pretrained task's outputs."""
from __future__ import annotations

from ...catalogue import Mistake, Variant
from ...catalogue.plots import bar_plot

def _summarize_outputs(broken: Variant, fixed: Variant) -> str:
    b, f = broken.values, fixed.values
    return (f"no error either way; with {b['outputs']} outputs, {b['impossible']:.0%} of the predictions name a class "
            f"index from {b['num_classes']} to {b['outputs'] - 1}, which does not exist in a {b['num_classes']}-class "
            f"task; with {f['outputs']} outputs, {f['impossible']:.0%}")


MISTAKES = (
    Mistake(
        id="kept_1000_outputs",
        title="New task, old number of outputs",
        setup="""\
from course_utils.data import TARGET_TASK, task_arrays
from course_utils.pretrained import pretrained_resnet18

model, weights = pretrained_resnet18("course", progress=False)   # pretrained on 16 shapes: fc is 512 -> 16
raw, labels = task_arrays(TARGET_TASK, "val", progress=False, per_class=16)
images = weights.transforms()(raw.permute(0, 3, 1, 2))          # 80 images of the new task's 5 shapes
num_classes = 5
""",
        broken_code="""\
model.fc = nn.Linear(model.fc.in_features, model.fc.out_features)   # retrained, but still 16 outputs
model.eval()
with torch.no_grad():
    predictions = model(images).argmax(dim=1)
outputs = model.fc.out_features
impossible = (predictions >= num_classes).float().mean().item()
""",
        fixed_code="""\
model.fc = nn.Linear(model.fc.in_features, num_classes)             # one output per class of the new task
model.eval()
with torch.no_grad():
    predictions = model(images).argmax(dim=1)
outputs = model.fc.out_features
impossible = (predictions >= num_classes).float().mean().item()
""",
        record=("outputs", "impossible", "num_classes"),
        summarize=_summarize_outputs,
        explanation="The head's out_features decides how many classes the model can predict. Left at the "
                    "pretrained task's count (1000 for ImageNet, 16 for the course backbone), argmax happily "
                    "picks indices that mean nothing in the new task, and CrossEntropyLoss with 5-class targets "
                    "never complains. num_classes outputs make every prediction a real class.",
        plot=bar_plot("impossible", ("impossible predictions",), ylabel="share of predictions"),
    ),
)
