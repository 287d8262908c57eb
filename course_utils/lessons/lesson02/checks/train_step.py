"""Lesson 02: the checker of train_step (two steps in a row, judged by the parameters and the call order)."""
from __future__ import annotations

import copy
import math

import torch
from torch import nn

from ....checking import expect
from ....checking.describe import describe
from ....checking.sandbox import Mismatch


class _RecordingSGD(torch.optim.SGD):
    """Plain SGD that logs each zero_grad/step call and whether step found any gradient."""

    def __init__(self, params, lr: float, log: list[str]):
        super().__init__(params, lr=lr)
        self.log = log

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.log.append("zero_grad")
        super().zero_grad(set_to_none)

    def step(self, closure=None):
        loss = None
        if closure is not None:  # step(closure) style: the closure clears, computes the loss and backpropagates
            with torch.enable_grad():
                loss = closure()
        params = [p for group in self.param_groups for p in group["params"]]
        has_grad = any(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in params)
        self.log.append("step" if has_grad else "step_without_grad")
        super().step()
        return loss


def _small_classifier(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 6), nn.ReLU(), nn.Linear(6, 4))


def _params(model: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in nn.Module.parameters(model)]


def _sgd_run(model, batches, loss_fn, lr: float, clear: bool) -> tuple[list[list[torch.Tensor]], list[float]]:
    """Parameters after each SGD step on ``batches`` and the loss before each, clearing gradients or not."""
    clone = copy.deepcopy(model)
    optimizer = torch.optim.SGD(clone.parameters(), lr=lr)
    states, losses = [], []
    for inputs, targets in batches:
        if clear:
            optimizer.zero_grad()
        loss = loss_fn(clone(inputs), targets)
        loss.backward()
        optimizer.step()
        states.append(_params(clone))
        losses.append(loss.item())
    return states, losses


def _judge_order(log: list[str], changed: bool, want: str) -> None:
    """Name what the call log shows: backward or step missing, step before backward, another optimizer."""
    order = " -> ".join(log) or "nothing"
    steps = [i for i, event in enumerate(log) if event.startswith("step")]
    if "backward" not in log:
        raise Mismatch(want, f"no gradients were computed (calls seen: {order})",
                       "call loss.backward() after computing the loss; it fills every parameter's .grad.",
                       "forgot_backward")
    if not steps and changed:
        raise Mismatch(want, "the parameters changed, but not through the optimizer passed in (it was never "
                       "stepped)", "use the optimizer argument: optimizer.step(). A new optimizer made inside the "
                       "function has its own settings and state, so training would not follow the caller's.")
    if not steps:
        raise Mismatch(want, f"the parameters did not change (calls seen: {order})",
                       "call optimizer.step() after loss.backward(); backward only computes gradients.",
                       "forgot_step")
    if steps[0] < log.index("backward"):
        raise Mismatch(want, f"optimizer.step() ran before loss.backward() (calls seen: {order}), so it applied "
                       "no gradients, or the previous batch's", "the order is zero_grad, forward, loss, backward, "
                       "step.")


def _judge_loss(returned, expected: float, batch_size: int) -> None:
    want = "the loss before the update, as a Python float"
    if expect.plain_tensor(returned) is not None:
        raise Mismatch(want, describe(returned), "return loss.item(): a tensor keeps the whole computation graph alive "
                       "and cannot be formatted or compared like a number.", "returns_tensor")
    value = expect.number(returned, want, "return loss.item().")
    if math.isclose(value, expected, rel_tol=1e-5, abs_tol=1e-7):
        return
    for factor, how in ((1 / batch_size, "divided by"), (batch_size, "multiplied by")):
        if math.isclose(value, expected * factor, rel_tol=1e-5, abs_tol=1e-7):
            raise Mismatch(f"the loss before the update, {expected:.6f}", f"{value:.6f}, exactly the loss {how} the "
                           f"batch size ({batch_size})", "return loss.item() as it is (the mean over the batch); "
                           "multiply by the batch size only where you add up a whole epoch's loss.")
    raise Mismatch(f"the loss before the update, {expected:.6f}", f"{value:.6f}",
                   "return the loss you called backward() on, not one recomputed after step().")


def check_train_step(answer) -> str | None:
    """Judge train_step by two calls on a small classifier with SGD and fresh gradients, against two reference steps
    (and two that never clear the gradients); the calls' order is logged.

    Names: `forgot_zero_grad`, `forgot_backward`, `forgot_step`, `zero_grad_between_backward_and_step`,
    `returns_tensor`, `modified_input`.
    """
    lr = 0.1
    model = _small_classifier(seed=0)
    loss_fn = nn.CrossEntropyLoss()  # not symmetric: loss_fn(targets, outputs) fails as it would in real code
    generator = torch.Generator().manual_seed(1)
    batches = [(torch.randn(8, 3, generator=generator), torch.randint(0, 4, (8,), generator=generator))
               for _ in range(2)]
    # Expectations first: two correct steps in a row, and two steps that never clear the gradients.
    correct, losses = _sgd_run(model, batches, loss_fn, lr, clear=True)
    accumulated, _ = _sgd_run(model, batches, loss_fn, lr, clear=False)
    before = _params(model)

    log: list[str] = []
    optimizer = _RecordingSGD(model.parameters(), lr, log)
    for p in model.parameters():
        p.register_hook(lambda grad: log.append("backward") if not log or log[-1] != "backward" else None)
    want = "one update: zero_grad, forward, loss, backward, step"
    cleared_after_step = False
    for call, (inputs, targets) in enumerate(batches):
        previous = _params(model)
        returned = expect.on_copies(answer, model, inputs, targets, loss_fn, optimizer)
        after = _params(model)
        _judge_order(log, not expect.states_equal(after, previous), want)
        order = " -> ".join(log)
        if call == 0 and expect.states_equal(after, before) and "step_without_grad" in log:
            raise Mismatch(want, f"the gradients were cleared after backward, so step had nothing to apply "
                           f"(calls seen: {order})", "clear gradients before the forward pass (or before "
                           "backward), never between backward and step.", "zero_grad_between_backward_and_step")
        if call == 1 and not expect.states_equal(after, correct[1]) and expect.states_equal(after, accumulated[1]):
            raise Mismatch(f"{want}, twice in a row", "the second update used the new gradients plus those left over "
                           "from the first step", "call optimizer.zero_grad() in every step (at its start is "
                           "safest): PyTorch adds new gradients to existing ones.", "forgot_zero_grad")
        if not expect.states_equal(after, correct[call]):
            raise Mismatch(want, f"the parameters changed differently from one SGD step (calls seen: {order})",
                           "use the optimizer and loss_fn you are given, and call step exactly once.")
        _judge_loss(returned, losses[call], len(inputs))
        if call == 0:
            cleared_after_step = all(p.grad is None or not p.grad.any() for p in nn.Module.parameters(model))
        log.clear()
    if cleared_after_step:
        return ("you clear the gradients after optimizer.step(). That is correct in a loop; clearing at the start "
                "of each step is more robust, since it also drops gradients left by anything that ran before.")
    return None
