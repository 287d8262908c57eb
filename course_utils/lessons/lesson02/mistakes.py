"""Lesson 02 mistakes: loss targets, the order of a training step, softmax before CE, the learning rate, eval mode."""
from __future__ import annotations

import math

from ...catalogue import Mistake, Variant
from ...catalogue.plots import series_plot
from ...display import BROKEN, FIXED

def _first_non_finite(losses: list[float]) -> int | None:
    return next((i for i, value in enumerate(losses) if not math.isfinite(value)), None)


def _rises(series: list[float]) -> int:
    return sum(b > a for a, b in zip(series, series[1:]))


def _plot_zero_grad(figure, broken: Variant, fixed: Variant) -> None:
    left, right = figure.subplots(1, 2)
    for ax, key, label in ((left, "grad_norms", "gradient norm"), (right, "losses", "loss")):
        for variant, name, colour in ((broken, "broken", BROKEN), (fixed, "fixed", FIXED)):
            ax.plot(range(1, len(variant.values[key]) + 1), variant.values[key], label=name, color=colour)
        ax.set_xlabel("step")
        ax.set_ylabel(label)
        ax.set_yscale("log")
    left.legend(fontsize=8)


TRAIN_SETUP = """\
inputs = torch.randn(64, 10)
targets = inputs @ torch.linspace(-1, 1, 10).unsqueeze(1)      # a learnable linear rule
model = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 1))
loss_fn = nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.02)
losses, grad_norms = [], []

def gradient_norm(model):
    return torch.cat([p.grad.flatten() for p in model.parameters()]).norm().item()
"""


def _summarize_zero_grad(broken: Variant, fixed: Variant) -> str:
    b, f = broken.values, fixed.values
    return (f"gradient norm, step 1 -> 10 -> {len(b['grad_norms'])}: broken {b['grad_norms'][0]:.3g} -> "
            f"{b['grad_norms'][9]:.3g} -> {b['grad_norms'][-1]:.3g}, fixed {f['grad_norms'][0]:.3g} -> "
            f"{f['grad_norms'][9]:.3g} -> {f['grad_norms'][-1]:.3g}; the loss rose on {_rises(b['losses'])} "
            f"of {len(b['losses']) - 1} steps when broken, {_rises(f['losses'])} when fixed")


# The loop both variants share; each entry shows it after the one line that differs.
TRAIN_LOOP = """\
for step in range(40):
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
"""
CLASSIFY_LOOP = """\
optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
for step in range(150):
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
"""

CLASSIFY_SETUP = """\
num_classes = 5
inputs = torch.randn(200, 2) * 0.5 + torch.randn(num_classes, 2).repeat(40, 1) * 3   # 5 well-separated blobs
targets = torch.arange(num_classes).repeat(40)
loss_fn = nn.CrossEntropyLoss()                  # applies log-softmax itself
losses = []
"""

SOFTMAX_FLOOR = math.log(1 + (5 - 1) / math.e)  # the least CE can be when its inputs are probabilities in [0, 1]


def _summarize_softmax(broken: Variant, fixed: Variant) -> str:
    b, f = broken.values["losses"], fixed.values["losses"]
    return (f"after {len(b)} steps the loss is {b[-1]:.3f} when broken (it can never go below "
            f"ln(1 + 4/e) = {SOFTMAX_FLOOR:.3f}) and {f[-1]:.4f} when fixed; at step 20: {b[19]:.3f} vs {f[19]:.3f}")


def _summarize_lr(broken: Variant, fixed: Variant) -> str:
    b, f = broken.values["losses"], fixed.values["losses"]
    first = _first_non_finite(b)
    broken_text = (f"the loss went {b[0]:.3g} -> {max(x for x in b if math.isfinite(x)):.3g} and became "
                   f"{b[first]} at step {first + 1}") if first is not None else f"the loss ended at {b[-1]:.3g}"
    return f"lr=1.0: {broken_text}; lr=0.02: it fell from {f[0]:.3g} to {f[-1]:.3g} in {len(f)} steps"


EVAL_SETUP = """\
model = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 3))
images = torch.randn(6, 8) + 2.0                 # the batch we want predictions for
stats_before = model[1].running_mean.clone()     # BatchNorm's memory of the training data
model.train()                                    # as it is right after a training loop
"""


def _summarize_eval(broken: Variant, fixed: Variant) -> str:
    def facts(v: Variant) -> tuple[float, float]:
        d = v.values
        return ((d["first"] - d["second"]).abs().max().item(),
                (d["stats_after"] - d["stats_before"]).abs().max().item())
    (b_out, b_stats), (f_out, f_stats) = facts(broken), facts(fixed)
    return (f"same input twice: outputs differ by up to {b_out:.3f} when broken, {f_out:.3f} when fixed; "
            f"BatchNorm running mean moved by up to {b_stats:.3f} when broken, {f_stats:.3f} when fixed")


MISTAKES = (
    Mistake(
        id="float_targets",
        quick=True,
        title="Float class labels given to CrossEntropyLoss",
        setup="logits = torch.randn(4, 5)                       # 4 samples, 5 classes\n"
              "labels = [0, 3, 1, 4]\nloss_fn = nn.CrossEntropyLoss()\n",
        broken_code="targets = torch.tensor(labels, dtype=torch.float32)\nloss = loss_fn(logits, targets)\n",
        fixed_code="targets = torch.tensor(labels)                   # int64 class indices\nloss = loss_fn(logits, targets)\n",
        record=("targets", "loss"),
        summarize=lambda b, f: f"broken: {b.error}; fixed: loss {f.values['loss'].item():.4f} with targets of dtype "
                               f"{f.values['targets'].dtype}",
        explanation="With targets of shape [batch], CrossEntropyLoss reads them as class indices, which must "
                    "be integers (torch.long). Float targets are only allowed as class probabilities with the "
                    "same shape as the logits. torch.tensor on Python ints already gives int64; otherwise "
                    "call targets.long().",
    ),
    Mistake(
        id="forgot_zero_grad",
        title="Gradients never cleared between steps",
        setup=TRAIN_SETUP,
        broken_code="""\
for step in range(40):
    loss = loss_fn(model(inputs), targets)
    loss.backward()                              # adds to the gradients of every earlier step
    grad_norms.append(gradient_norm(model))
    optimizer.step()
    losses.append(loss.item())
""",
        fixed_code="""\
for step in range(40):
    optimizer.zero_grad()                        # start each step from zero
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    grad_norms.append(gradient_norm(model))
    optimizer.step()
    losses.append(loss.item())
""",
        record=("losses", "grad_norms"),
        summarize=_summarize_zero_grad,
        explanation="backward() adds into .grad rather than overwriting it, so without zero_grad each step "
                    "applies the sum of all past gradients: the effective step grows until it overshoots, and "
                    "the loss zig-zags. Clearing the gradients first makes every update use only the current batch.",
        plot=_plot_zero_grad,
    ),
    Mistake(
        id="softmax_before_ce",
        title="Softmax applied before CrossEntropyLoss",
        setup=CLASSIFY_SETUP,
        broken_code="model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, num_classes), nn.Softmax(dim=1))\n"
               + CLASSIFY_LOOP,
        fixed_code="model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, num_classes))     # raw logits\n"
              + CLASSIFY_LOOP,
        record=("losses",),
        summarize=_summarize_softmax,
        explanation="CrossEntropyLoss applies log-softmax itself. Feeding it probabilities squashes its inputs "
                    "into [0, 1], so even a perfect prediction scores only e^1 against e^0 for the other classes: "
                    "the loss has a floor above zero, and its value no longer says how good the predictions are. Give the "
                    "loss raw logits; apply softmax only when you want probabilities to show.",
        plot=series_plot("losses", "loss", floor=SOFTMAX_FLOOR),
    ),
    Mistake(
        id="lr_too_high",
        title="Learning rate far too high",
        setup=TRAIN_SETUP.replace("optimizer = torch.optim.SGD(model.parameters(), lr=0.02)\n", ""),
        broken_code="optimizer = torch.optim.SGD(model.parameters(), lr=1.0)\n" + TRAIN_LOOP,
        fixed_code="optimizer = torch.optim.SGD(model.parameters(), lr=0.02)\n" + TRAIN_LOOP,
        record=("losses",),
        summarize=_summarize_lr,
        explanation="Each step moves the weights by lr times the gradient. When that jump is larger than the "
                    "valley the loss sits in, every step lands higher up the opposite wall, the gradients grow, "
                    "and within a few steps the numbers overflow to inf. Lower the learning rate "
                    "(try factors of 10) until the loss falls steadily.",
        plot=series_plot("losses", "loss (log scale)", log=True),
    ),
    Mistake(
        id="forgot_eval",
        title="Predicting in training mode",
        setup=EVAL_SETUP,
        broken_code="""\
with torch.no_grad():
    first = model(images)
    second = model(images)
stats_after = model[1].running_mean.clone()
""",
        fixed_code="""\
model.eval()                                     # Dropout off, BatchNorm uses its stored statistics
with torch.no_grad():
    first = model(images)
    second = model(images)
stats_after = model[1].running_mean.clone()
""",
        record=("first", "second", "stats_before", "stats_after"),
        summarize=_summarize_eval,
        explanation="In training mode Dropout zeroes random activations, so the same input gives different "
                    "outputs, and BatchNorm normalises with the current batch's statistics and updates its "
                    "running averages, so merely evaluating changes the model. model.eval() switches both to "
                    "their deterministic inference behaviour; torch.no_grad() alone does not.",
    ),
)
