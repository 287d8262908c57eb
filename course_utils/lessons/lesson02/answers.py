"""Lesson 02 answers the checkers know: one wrong answer per named mistake, and correct answers written other ways."""
import torch

from ..declare import alternative, wrong_answer


# ---------------------------------------------------------------- train_step: wrong answers

@wrong_answer("train_step")
def forgot_zero_grad(model, inputs, targets, loss_fn, optimizer):
    """Gradients never cleared: zero_grad() not called"""
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return loss.item()


@wrong_answer("train_step")
def forgot_backward(model, inputs, targets, loss_fn, optimizer):
    """No backward(): step() has no gradients to use"""
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    optimizer.step()
    return loss.item()


@wrong_answer("train_step")
def forgot_step(model, inputs, targets, loss_fn, optimizer):
    """No optimizer.step(): the weights never change"""
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    return loss.item()


@wrong_answer("train_step")
def zero_grad_between_backward_and_step(model, inputs, targets, loss_fn, optimizer):
    """Gradients wiped by zero_grad() just before step()"""
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.zero_grad()
    optimizer.step()
    return loss.item()


@wrong_answer("train_step")
def returns_tensor(model, inputs, targets, loss_fn, optimizer):
    """Loss returned as a tensor, not a float"""
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return loss


@wrong_answer("train_step", "modified_input")
def train_step_modified_input(model, inputs, targets, loss_fn, optimizer):
    """Caller's input batch zeroed in place after the step"""
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
    inputs.zero_()  # "free the memory" of the batch, which belongs to the caller
    return loss.item()


# ---------------------------------------------------------------- train_step: correct answers in other styles

@alternative("train_step")
def train_step_model_zero_grad(model, inputs, targets, loss_fn, optimizer):
    model.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return float(loss.detach())


@alternative("train_step")
def train_step_manual_clear(model, inputs, targets, loss_fn, optimizer):
    for p in model.parameters():
        p.grad = None
    outputs = model(inputs)
    loss = loss_fn(outputs, targets)
    loss.backward()
    optimizer.step()
    return loss.detach().item()


@alternative("train_step")
def train_step_zero_before_backward(model, inputs, targets, loss_fn, optimizer):
    loss = loss_fn(model(inputs), targets)
    optimizer.zero_grad(set_to_none=False)
    loss.backward()
    optimizer.step()
    return loss.item()


@alternative("train_step")
def train_step_clear_after_step(model, inputs, targets, loss_fn, optimizer):
    loss = loss_fn(model(inputs), targets)   # the style of many books: clear at the end of the step
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return loss.item()


@alternative("train_step")
def train_step_closure(model, inputs, targets, loss_fn, optimizer):
    def closure():                       # the style optimizers such as LBFGS require
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        return loss
    return optimizer.step(closure).item()


# ---------------------------------------------------------------- evaluate: wrong answers

@wrong_answer("evaluate")
def forgot_eval(model, loader):
    """Evaluated in training mode: model.eval() never called"""
    with torch.no_grad():
        return sum((model(x).argmax(1) == y).sum().item() for x, y in loader) / len(loader.dataset)


@wrong_answer("evaluate")
def tracks_gradients(model, loader):
    """Gradients tracked while evaluating: no torch.no_grad()"""
    model.eval()
    return sum((model(x).argmax(1) == y).sum().item() for x, y in loader) / len(loader.dataset)


@wrong_answer("evaluate")
def mean_of_batch_accuracies(model, loader):
    """Batch accuracies averaged: a short last batch counts too much"""
    model.eval()
    accuracies = []
    with torch.no_grad():
        for x, y in loader:
            accuracies.append((model(x).argmax(1) == y).float().mean().item())
    return sum(accuracies) / len(accuracies)


@wrong_answer("evaluate")
def argmax_wrong_dim(model, loader):
    """Argmax over dim 0 picks across the batch, not the classes"""
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in loader:
            correct += (model(x).argmax(0) == y).sum().item()
    return correct / len(loader.dataset)


@wrong_answer("evaluate", "modified_input")
def evaluate_modified_input(model, loader):
    """Caller's dataset shifted in place by sub_()"""
    model.eval()
    inputs, targets = loader.dataset.tensors     # the whole dataset at once, without batches
    with torch.no_grad():
        inputs.sub_(inputs.mean())                # "centres" the caller's data in place
        return (model(inputs).argmax(1) == targets).float().mean().item()


# ---------------------------------------------------------------- evaluate: correct answers in other styles

@alternative("evaluate")
@torch.inference_mode()
def evaluate_inference_mode(model, loader):
    model.eval()
    right = total = 0
    for x, y in loader:
        _, predicted = torch.max(model(x), 1)
        right += int((predicted == y).sum())
        total += y.shape[0]
    return right / total


@alternative("evaluate")
def evaluate_concatenated(model, loader):
    model.train(False)
    with torch.no_grad():
        predictions = torch.cat([model(x).argmax(-1) for x, _ in loader])
    targets = torch.cat([y for _, y in loader])
    return (predictions == targets).float().mean().item()
