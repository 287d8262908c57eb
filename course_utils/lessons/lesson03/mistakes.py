"""Lesson 03 mistakes: a Linear layer sized for the wrong feature-map size."""
from __future__ import annotations

from ...catalogue import Mistake, Variant

def _summarize(broken: Variant, fixed: Variant) -> str:
    shape = list(fixed.values["logits"].shape)
    return f"broken: {broken.error}; fixed: in_features={fixed.values['in_features']} and logits of shape {shape}"


MISTAKES = (
    Mistake(
        id="wrong_in_features",
        quick=True,
        title="Linear layer sized for a different input size",
        setup="""\
images = torch.rand(2, 3, 64, 64)                # two 64 x 64 RGB images
features = nn.Sequential(
    nn.Conv2d(3, 16, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),    # 64 -> 32
    nn.Conv2d(16, 32, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 32 -> 16
)
""",
        broken_code="in_features = 32 * 8 * 8                        # worked out for 32 x 32 images\n"
               "classifier = nn.Linear(in_features, 5)\n"
               "logits = classifier(torch.flatten(features(images), 1))\n",
        fixed_code="in_features = features(torch.zeros(1, 3, 64, 64)).numel()   # measured: 32 * 16 * 16\n"
              "classifier = nn.Linear(in_features, 5)\n"
              "logits = classifier(torch.flatten(features(images), 1))\n",
        record=("in_features", "logits"),
        summarize=_summarize,
        explanation="A Linear layer's in_features must equal channels x height x width of the maps that reach it, "
                    "and that depends on the input size: 64 x 64 images leave 16 x 16 maps here, not 8 x 8. "
                    "Measuring it with one dummy forward pass (or ending the convolutions with "
                    "nn.AdaptiveAvgPool2d) keeps the two in step.",
    ),
)
