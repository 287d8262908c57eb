"""Lesson 02: more ways of committing each named mistake (other idioms: model.zero_grad, manual SGD, closures,
NumPy, loops over the loader); the tests check that the checker names each one's id."""
import numpy as np
import torch

from ..declare import same_mistake


# ---------------------------------------------------------------- train_step

@same_mistake("train_step", "forgot_zero_grad")
def no_clearing_with_float_return(model, inputs, targets, loss_fn, optimizer):
    outputs = model(inputs)
    loss = loss_fn(outputs, targets)
    loss.backward()
    optimizer.step()
    return float(loss)


@same_mistake("train_step", "forgot_zero_grad")
def closure_without_clearing(model, inputs, targets, loss_fn, optimizer):
    def closure():
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        return loss
    return optimizer.step(closure).item()


@same_mistake("train_step", "forgot_backward")
def gradients_never_computed_in_a_closure(model, inputs, targets, loss_fn, optimizer):
    def closure():
        optimizer.zero_grad()
        return loss_fn(model(inputs), targets)
    return optimizer.step(closure).item()


@same_mistake("train_step", "forgot_backward")
def grad_of_detached_loss(model, inputs, targets, loss_fn, optimizer):
    model.zero_grad()
    loss = loss_fn(model(inputs), targets).detach()   # "detach to save memory" before backward
    optimizer.step()
    return loss.item()


@same_mistake("train_step", "forgot_step")
def manual_clear_no_step(model, inputs, targets, loss_fn, optimizer):
    for p in model.parameters():
        p.grad = None
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    return loss.detach().item()


@same_mistake("train_step", "forgot_step")
def step_commented_out(model, inputs, targets, loss_fn, optimizer):
    model.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    # optimizer.step()
    return float(loss.detach())


@same_mistake("train_step", "zero_grad_between_backward_and_step")
def model_zero_grad_before_step(model, inputs, targets, loss_fn, optimizer):
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    model.zero_grad()
    optimizer.step()
    return loss.item()


@same_mistake("train_step", "zero_grad_between_backward_and_step")
def grads_set_to_none_before_step(model, inputs, targets, loss_fn, optimizer):
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    for p in model.parameters():
        p.grad = None
    optimizer.step()
    return loss.item()


@same_mistake("train_step", "returns_tensor")
def returns_detached_tensor(model, inputs, targets, loss_fn, optimizer):
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return loss.detach()


@same_mistake("train_step", "returns_tensor")
def returns_closure_loss(model, inputs, targets, loss_fn, optimizer):
    def closure():
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        return loss
    return optimizer.step(closure)


@same_mistake("train_step", "modified_input")
def targets_changed_in_place(model, inputs, targets, loss_fn, optimizer):
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
    targets.fill_(0)                              # "reset" the labels of the caller's batch
    return loss.item()


@same_mistake("train_step", "modified_input")
def inputs_normalised_in_place(model, inputs, targets, loss_fn, optimizer):
    inputs.sub_(inputs.mean()).div_(inputs.std() + 1e-8)
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return loss.item()


# ---------------------------------------------------------------- evaluate

@same_mistake("evaluate", "forgot_eval")
def no_eval_in_a_loop(model, loader):
    correct = total = 0
    with torch.no_grad():
        for x, y in loader:
            correct += int((model(x).argmax(dim=1) == y).sum())
            total += len(y)
    return correct / total


@same_mistake("evaluate", "forgot_eval")
def train_mode_set_explicitly(model, loader):
    model.train()                                 # "make sure the model is ready"
    with torch.inference_mode():
        hits = [(model(x).argmax(1) == y).float() for x, y in loader]
    return torch.cat(hits).mean().item()


@same_mistake("evaluate", "tracks_gradients")
def no_no_grad_in_a_loop(model, loader):
    model.eval()
    correct = total = 0
    for x, y in loader:
        correct += (model(x).argmax(dim=1) == y).sum().item()
        total += y.numel()
    return correct / total


@same_mistake("evaluate", "tracks_gradients")
def enable_grad_inside(model, loader):
    model.eval()
    with torch.enable_grad():
        predictions = torch.cat([model(x).argmax(1) for x, _ in loader])
    targets = torch.cat([y for _, y in loader])
    return (predictions == targets).float().mean().item()


@same_mistake("evaluate", "mean_of_batch_accuracies")
def batch_accuracies_in_numpy(model, loader):
    model.eval()
    with torch.no_grad():
        scores = [np.mean((model(x).argmax(1) == y).numpy()) for x, y in loader]
    return float(np.mean(scores))


@same_mistake("evaluate", "mean_of_batch_accuracies")
def batch_accuracies_as_tensor(model, loader):
    model.eval()
    with torch.no_grad():
        per_batch = torch.stack([(model(x).argmax(1) == y).float().mean() for x, y in loader])
    return per_batch.mean().item()


@same_mistake("evaluate", "argmax_wrong_dim")
def max_over_the_batch(model, loader):
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in loader:
            correct += (model(x).max(dim=0).indices == y).sum().item()
    return correct / len(loader.dataset)


@same_mistake("evaluate", "argmax_wrong_dim")
def numpy_argmax_axis_0(model, loader):
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in loader:
            correct += int((np.argmax(model(x).numpy(), axis=0) == y.numpy()).sum())
    return correct / len(loader.dataset)


@same_mistake("evaluate", "modified_input")
def dataset_scaled_in_place(model, loader):
    model.eval()
    inputs, _ = loader.dataset.tensors
    inputs.mul_(2.0)                              # "brightens" the caller's whole dataset
    with torch.no_grad():
        return sum((model(x).argmax(1) == y).sum().item() for x, y in loader) / len(loader.dataset)


@same_mistake("evaluate", "modified_input")
def labels_shifted_in_place(model, loader):
    model.eval()
    _, targets = loader.dataset.tensors
    targets.add_(0)
    targets[0] = (targets[0] + 1) % 10            # "fixes" a label of the caller's dataset
    with torch.no_grad():
        return sum((model(x).argmax(1) == y).sum().item() for x, y in loader) / len(loader.dataset)
