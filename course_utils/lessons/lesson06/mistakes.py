"""Lesson 06 mistakes: freezing the head too, an optimizer made too early, eval() for freezing, BatchNorm drift."""
from __future__ import annotations

from ...catalogue import Mistake, Variant
from ...catalogue.plots import series_plot

BACKBONE_SETUP = """\
from course_utils.data.generated import TARGET_TASK, task_arrays
from course_utils.models.pretrained import pretrained_resnet18

model, weights = pretrained_resnet18("course", progress=False)
raw, labels = task_arrays(TARGET_TASK, "train", progress=False, per_class=8)
images = weights.transforms()(raw.permute(0, 3, 1, 2))          # 40 training images of the 5 new shapes
num_classes = 5
"""

HEAD_SETUP = BACKBONE_SETUP + """\
model.fc = nn.Identity()
model.eval()
with torch.no_grad():
    features = model(images)                     # the frozen backbone's 512 features, cached

def new_head():
    head = nn.Linear(512, num_classes)
    nn.init.zeros_(head.weight), nn.init.zeros_(head.bias)   # a zero start: the loss begins at exactly ln 5
    return head

old_head = nn.Linear(512, 16)                    # the pretrained task's head
"""

HEAD_LOOP = """\
losses = []
for step in range(30):
    optimizer.zero_grad()
    loss = F.cross_entropy(head(features), labels)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
head_changed = bool(head.weight.abs().sum() > 0)
"""

TRAIN_STEPS = """\
optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
for step in range(4):
    optimizer.zero_grad()
    F.cross_entropy(model(images), labels).backward()
    optimizer.step()
"""


# What both BatchNorm variants do after choosing the mode: train the head a little, then compare with the cache.
BN_STEPS = """\
for step in range(4):
    optimizer.zero_grad()
    F.cross_entropy(head(model(images[step::4])), labels[step::4]).backward()
    optimizer.step()
model.eval()
with torch.no_grad():
    cosine = F.cosine_similarity(model(images), cached).mean().item()
drift_layer1, drift_layer4 = moved("layer1.0.bn1"), moved("layer4.1.bn2")
"""


def _summarize_optimizer(broken: Variant, fixed: Variant) -> str:
    b, f = broken.values, fixed.values
    return (f"loss over 30 steps: {b['losses'][0]:.4f} -> {b['losses'][-1]:.4f} when broken (ln 5 = 1.6094, no change; "
            f"head weights changed: {b['head_changed']}), {f['losses'][0]:.4f} -> {f['losses'][-1]:.4f} when fixed "
            f"(head weights changed: {f['head_changed']})")


def _summarize_eval(broken: Variant, fixed: Variant) -> str:
    return (f"after 4 training steps the first conv layer's weights moved by {broken.values['drift']:.2%} with "
            f"model.eval() as the 'freeze', {fixed.values['drift']:.2%} with requires_grad = False")


def _summarize_bn(broken: Variant, fixed: Variant) -> str:
    b, f = broken.values, fixed.values
    return (f"BatchNorm running variance moved by {b['drift_layer1']:.1%} (layer1) and {b['drift_layer4']:.1%} "
            f"(layer4) in 4 steps of a frozen backbone left in train mode, and features computed afterwards "
            f"match the cached ones with cosine {b['cosine']:.4f}; with frozen BatchNorm in eval mode: "
            f"{f['drift_layer1']:.1%}, {f['drift_layer4']:.1%}, cosine {f['cosine']:.4f}")


MISTAKES = (
    Mistake(
        id="froze_everything",
        title="The new head frozen along with the backbone",
        setup=BACKBONE_SETUP,
        broken_code="""\
model.fc = nn.Linear(model.fc.in_features, num_classes)
for parameter in model.parameters():             # freezes the new head too
    parameter.requires_grad = False
loss = F.cross_entropy(model(images), labels)
loss.backward()
trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
""",
        fixed_code="""\
for parameter in model.parameters():             # freeze first...
    parameter.requires_grad = False
model.fc = nn.Linear(model.fc.in_features, num_classes)     # ...then add the head: new layers train
loss = F.cross_entropy(model(images), labels)
loss.backward()
trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
""",
        record=("trainable",),
        summarize=lambda b, f: f"broken: {b.error}; fixed: backward ran, {f.values['trainable']:,} trainable parameters",
        explanation="backward() needs at least one parameter that requires a gradient; with everything frozen "
                    "the loss is a constant as far as autograd knows. Freeze the backbone first and create the "
                    "new head afterwards (new layers are trainable), or set requires_grad = True on the head.",
    ),
    Mistake(
        id="optimizer_before_head_replacement",
        title="Optimizer created before the head was replaced",
        setup=HEAD_SETUP,
        broken_code="optimizer = torch.optim.AdamW(old_head.parameters(), lr=1e-2)   # holds the old head...\n"
               "head = new_head()                                               # ...the model now uses this one\n"
               + HEAD_LOOP,
        fixed_code="head = new_head()\noptimizer = torch.optim.AdamW(head.parameters(), lr=1e-2)\n" + HEAD_LOOP,
        record=("losses", "head_changed"),
        summarize=_summarize_optimizer,
        explanation="An optimizer keeps references to the parameter tensors it was given. Replacing model.fc "
                    "afterwards gives the model new tensors the optimizer has never heard of: step() updates the "
                    "old, unused head and the new one stays at its initial values, so the loss never moves. "
                    "Replace the head first, then create the optimizer.",
        plot=series_plot("losses", "loss"),
    ),
    Mistake(
        id="eval_instead_of_freeze",
        title="model.eval() used to freeze the backbone",
        setup=BACKBONE_SETUP + "model.fc = nn.Linear(512, num_classes)\nconv_before = model.conv1.weight.detach().clone()\n",
        broken_code="model.eval()                                     # meant as 'freeze'\n" + TRAIN_STEPS
               + "drift = ((model.conv1.weight - conv_before).norm() / conv_before.norm()).item()\n",
        fixed_code="""\
for name, parameter in model.named_parameters():
    parameter.requires_grad = name.startswith("fc.")        # freezing is requires_grad = False
""" + TRAIN_STEPS + "drift = ((model.conv1.weight - conv_before).norm() / conv_before.norm()).item()\n",
        record=("drift",),
        summarize=_summarize_eval,
        explanation="eval() only switches Dropout off and makes BatchNorm use its stored statistics; every "
                    "parameter still has requires_grad=True, gets a gradient and is updated by the optimizer. "
                    "Freezing means requires_grad = False (and an optimizer over the trainable parameters).",
    ),
    Mistake(
        id="bn_stats_drift",
        title="Frozen backbone, BatchNorm still learning statistics",
        setup=BACKBONE_SETUP + """\
from course_utils.training.loop import frozen_batchnorm_to_eval

for parameter in model.parameters():
    parameter.requires_grad = False
model.fc = nn.Identity()
model.eval()
with torch.no_grad():
    cached = model(images)                       # features cached with the pretrained statistics
variance_before = {name: model.get_submodule(name).running_var.clone() for name in ("layer1.0.bn1", "layer4.1.bn2")}
head = nn.Linear(512, num_classes)
optimizer = torch.optim.AdamW(head.parameters(), lr=1e-3)

def moved(name):
    now = model.get_submodule(name).running_var
    return ((now - variance_before[name]).norm() / variance_before[name].norm()).item()
""",
        broken_code="model.train()                                    # every BatchNorm layer now updates its running statistics\n"
               + BN_STEPS,
        fixed_code="model.train()\nfrozen_batchnorm_to_eval(model)                  # frozen BatchNorm keeps its pretrained "
              "statistics\n" + BN_STEPS,
        record=("drift_layer1", "drift_layer4", "cosine"),
        summarize=_summarize_bn,
        explanation="requires_grad = False stops the optimizer, but not BatchNorm: in train mode it normalises "
                    "with each batch's statistics and updates its running mean and variance, so a 'frozen' "
                    "backbone still changes and features cached earlier no longer match what the network now "
                    "computes. Keep BatchNorm layers whose parameters are frozen in eval mode (the course's fit "
                    "does this by default).",
    ),
)
