"""Plain-language explanations for the PyTorch errors beginners meet most."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Explanation:
    pattern: re.Pattern[str]
    explain: Callable[[re.Match[str]], str]
    mistake: str | None = None  # catalogue entry that shows this error, when there is one


def _linear(m: re.Match[str]) -> str:
    rows, got, expected, out = m.group(1, 2, 3, 4)
    return (
        f"A Linear layer expects {expected} input features per sample but received {got} "
        f"(as a {rows}x{got} matrix). Usually the tensor was flattened wrongly (keep the batch "
        f"dimension: torch.flatten(x, 1)) or the Linear layer's in_features does not match the "
        f"size of the features that reach it: print x.shape just before the layer."
    )


def _channels_last(shape: str, expected: str) -> bool:
    return shape.rstrip("]").split(",")[-1].strip() == expected


def _channels(m: re.Match[str]) -> str:
    shape, expected, got = m.group(1, 2, 3)
    hint = ""
    if expected == "3" and got == "1":
        hint = " A grayscale image has one channel: repeat it to 3 channels (x.expand(-1, 3, -1, -1))."
    elif _channels_last(shape, expected):
        hint = (" The last dimension holds the channels, so the image is still height x width x channels:"
                " move channels first with .permute(2, 0, 1) before adding the batch dimension.")
    elif got == "3":
        hint = (f" The images are fine (RGB, 3 channels); the layer was built for {expected}. Give the first "
                f"Conv2d in_channels=3 (code written for grayscale data such as MNIST uses 1).")
    return (
        f"The convolution expects {expected} channels in dimension 1 of a [batch, channels, height, width] "
        f"tensor, but the input {shape} has {got} there.{hint}"
    )


def _target_dtype(m: re.Match[str]) -> str:
    return (
        "CrossEntropyLoss expects class indices as integer targets (dtype torch.long, shape [batch]) "
        "next to float logits of shape [batch, num_classes]. Convert with targets.long(), and do not "
        "pass one-hot or float labels."
    )


def _multi_target(m: re.Match[str]) -> str:
    return (
        "CrossEntropyLoss expects targets of shape [batch] holding one class index per sample, "
        "but got a 2-D target. Squeeze the extra dimension (targets.view(-1)) and keep dtype torch.long."
    )


def _device(m: re.Match[str]) -> str:
    return (
        "Two tensors in one operation live on different devices (for example the model on the GPU "
        "and the batch on the CPU). Move both to the same device: model.to(device) once, and "
        "inputs.to(device), targets.to(device) for every batch."
    )


def _no_grad(m: re.Match[str]) -> str:
    return (
        "backward() was called on a loss that no trainable parameter contributed to: every parameter "
        "has requires_grad=False, or the loss was computed under torch.no_grad(). Leave at least the "
        "parameters you want to train with requires_grad=True, and compute the loss with gradients on."
    )


def _view_size(m: re.Match[str]) -> str:
    return (f"view/reshape was asked for the shape {m.group(1)}, which cannot hold the {m.group(2)} values there are: "
            f"a size written into the code for another input size. Use torch.flatten(x, 1) (or "
            f"x.view(x.size(0), -1)) so the size follows the input, and size the next layer to match.")


def _missing_forward(m: re.Match[str]) -> str:
    return (f"The module {m.group(1)} has no method called exactly `forward`, so PyTorch does not know what it "
            f"computes. Check the spelling (def forward(self, x):) and its indentation inside the class.")


def _recursion(m: re.Match[str]) -> str:
    return "The function kept calling itself (directly or through another function) and never stopped."


def _path_plus_str(m: re.Match[str]) -> str:
    return ("A pathlib.Path cannot be joined to a string with +. Join paths with / instead: root / \"train\" "
            "(or os.path.join(root, \"train\")), which works whether root is a Path or a str.")


EXPLANATIONS: tuple[Explanation, ...] = (
    Explanation(re.compile(r"mat1 and mat2 shapes cannot be multiplied \((\d+)x(\d+) and (\d+)x(\d+)\)"), _linear, "flatten_all"),
    Explanation(re.compile(r"expected input(\[[^\]]*\]) to have (\d+) channels, but got (\d+) channels"), _channels, "hwc_not_permuted"),
    Explanation(re.compile(r"expected target dtype to be Long|expected scalar type Long but found|not implemented for '(Float|Double)'"), _target_dtype, "float_targets"),
    Explanation(re.compile(r"multi-target not supported"), _multi_target, "float_targets"),
    Explanation(re.compile(r"Expected all tensors to be on the same device"), _device),
    Explanation(re.compile(r"element 0 of tensors does not require grad"), _no_grad, "froze_everything"),
    Explanation(re.compile(r"unsupported operand type\(s\) for \+: '\w*Path' and 'str'"), _path_plus_str),
    Explanation(re.compile(r'Module \[(\w+)\] is missing the required "forward" function'), _missing_forward),
    Explanation(re.compile(r"shape '(\[[^\]]*\])' is invalid for input of size (\d+)"), _view_size, "wrong_in_features"),
    Explanation(re.compile(r"maximum recursion depth exceeded"), _recursion),
)


def explain_error(error: BaseException | str) -> tuple[str | None, str | None]:
    """Return (plain-language explanation, related catalogue id) for a known error's text, else (None, None)."""
    text = error if isinstance(error, str) else str(error)
    for item in EXPLANATIONS:
        match = item.pattern.search(text)
        if match:
            mistake = item.mistake
            if mistake == "hwc_not_permuted":
                shape, expected, got = match.group(1, 2, 3)
                mistake = ("grayscale_not_expanded" if (expected, got) == ("3", "1")
                           else mistake if _channels_last(shape, expected) else None)
            return item.explain(match), mistake
    return None, None
