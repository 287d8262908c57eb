"""Lesson 02 answers for the checker contract (test_exercise_contract.py), plus checks specific to its exercises."""
import torch

from course_utils import check_exercise



def _no_zero_grad(model, inputs, targets, loss_fn, optimizer):
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return loss.item()


def _no_backward(model, inputs, targets, loss_fn, optimizer):
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    optimizer.step()
    return loss.item()


def _no_step(model, inputs, targets, loss_fn, optimizer):
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    return loss.item()


def _zero_grad_in_between(model, inputs, targets, loss_fn, optimizer):
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.zero_grad()
    optimizer.step()
    return loss.item()


def _returns_tensor(model, inputs, targets, loss_fn, optimizer):
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return loss


TRAIN_STEP_MUTANTS = {
    "forgot_zero_grad": _no_zero_grad,
    "forgot_backward": _no_backward,
    "forgot_step": _no_step,
    "zero_grad_between_backward_and_step": _zero_grad_in_between,
    "returns_tensor": _returns_tensor,
}


def _model_zero_grad(model, inputs, targets, loss_fn, optimizer):
    model.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return float(loss.detach())


def _manual_clear(model, inputs, targets, loss_fn, optimizer):
    for p in model.parameters():
        p.grad = None
    outputs = model(inputs)
    loss = loss_fn(outputs, targets)
    loss.backward()
    optimizer.step()
    return loss.detach().item()


def _zero_before_backward(model, inputs, targets, loss_fn, optimizer):
    loss = loss_fn(model(inputs), targets)
    optimizer.zero_grad(set_to_none=False)
    loss.backward()
    optimizer.step()
    return loss.item()


def _mean_of_batches(model, loader):
    model.eval()
    accuracies = []
    with torch.no_grad():
        for x, y in loader:
            accuracies.append((model(x).argmax(1) == y).float().mean().item())
    return sum(accuracies) / len(accuracies)


def _forgot_eval(model, loader):
    with torch.no_grad():
        return sum((model(x).argmax(1) == y).sum().item() for x, y in loader) / len(loader.dataset)


def _tracks_gradients(model, loader):
    model.eval()
    return sum((model(x).argmax(1) == y).sum().item() for x, y in loader) / len(loader.dataset)


def _argmax_dim0(model, loader):
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in loader:
            correct += (model(x).argmax(0) == y).sum().item()
    return correct / len(loader.dataset)


EVALUATE_MUTANTS = {
    "forgot_eval": _forgot_eval,
    "tracks_gradients": _tracks_gradients,
    "mean_of_batch_accuracies": _mean_of_batches,
    "argmax_wrong_dim": _argmax_dim0,
}


@torch.inference_mode()
def _inference_mode_eval(model, loader):
    model.eval()
    right = total = 0
    for x, y in loader:
        _, predicted = torch.max(model(x), 1)
        right += int((predicted == y).sum())
        total += y.shape[0]
    return right / total


def _concatenated(model, loader):
    model.train(False)
    with torch.no_grad():
        predictions = torch.cat([model(x).argmax(-1) for x, _ in loader])
    targets = torch.cat([y for _, y in loader])
    return (predictions == targets).float().mean().item()


def test_train_step_returning_the_loss_after_the_update_fails():
    def after_update(model, inputs, targets, loss_fn, optimizer):
        _manual_clear(model, inputs, targets, loss_fn, optimizer)
        return loss_fn(model(inputs), targets).item()
    result = check_exercise("train_step", after_update)
    assert result.status == "failed" and "before the update" in result.message


def test_evaluate_percentage_is_explained():
    result = check_exercise("evaluate", lambda model, loader: 100 * _concatenated(model, loader))
    assert result.status == "failed" and "percentage" in result.message


ANSWERS = {
    "train_step": (TRAIN_STEP_MUTANTS, [_model_zero_grad, _manual_clear, _zero_before_backward]),
    "evaluate": (EVALUATE_MUTANTS, [_inference_mode_eval, _concatenated]),
}
