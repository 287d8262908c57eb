"""Lesson 02 checks beyond the contract: the loss that is returned, percentages, steps that clear late."""
import torch

from course_utils import check_exercise
from course_utils.lessons.lesson02.answers import (evaluate_concatenated, train_step_clear_after_step,
                                                   train_step_manual_clear)


def test_train_step_returning_the_loss_after_the_update_fails():
    def after_update(model, inputs, targets, loss_fn, optimizer):
        train_step_manual_clear(model, inputs, targets, loss_fn, optimizer)
        return loss_fn(model(inputs), targets).item()
    result = check_exercise("train_step", after_update)
    assert result.status == "failed" and "before the update" in result.message


def test_loss_divided_by_the_batch_size_is_explained():
    def per_sample(model, inputs, targets, loss_fn, optimizer):
        return train_step_manual_clear(model, inputs, targets, loss_fn, optimizer) / len(inputs)
    result = check_exercise("train_step", per_sample)
    assert result.status == "failed" and "divided by the batch size" in result.message


def test_clearing_after_the_step_passes_with_a_remark():
    result = check_exercise("train_step", train_step_clear_after_step)
    assert result.passed and "more robust" in result.message


def test_evaluate_percentage_is_explained():
    result = check_exercise("evaluate", lambda model, loader: 100 * evaluate_concatenated(model, loader))
    assert result.status == "failed" and "percentage" in result.message


def test_swapped_loss_arguments_fail():
    def swapped(model, inputs, targets, loss_fn, optimizer):
        optimizer.zero_grad()
        loss = loss_fn(targets, model(inputs))
        loss.backward()
        optimizer.step()
        return loss.item()
    assert check_exercise("train_step", swapped).status == "failed"


def test_order_and_optimizer_messages_say_what_happened():
    def step_first(model, inputs, targets, loss_fn, optimizer):
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        optimizer.step()
        loss.backward()
        return loss.item()

    def own_optimizer(model, inputs, targets, loss_fn, optimizer):
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        return loss.item()

    def epoch_style_loss(model, inputs, targets, loss_fn, optimizer):
        return train_step_manual_clear(model, inputs, targets, loss_fn, optimizer) * inputs.size(0)
    assert "ran before loss.backward()" in check_exercise("train_step", step_first).message
    result = check_exercise("train_step", own_optimizer)
    assert result.mistake is None and "not through the optimizer passed in" in result.message
    assert "multiplied by the batch size" in check_exercise("train_step", epoch_style_loss).message


def test_evaluate_messages_for_batches_and_broadcasting():
    def per_batch(model, loader):
        model.eval()
        with torch.no_grad():
            return sum(int((model(x).argmax(1) == y).sum()) for x, y in loader) / len(loader)

    def keepdim(model, loader):
        model.eval()
        with torch.no_grad():
            hits = sum(int((model(x).argmax(1, keepdim=True) == y).sum()) for x, y in loader)
        return hits / len(loader.dataset)
    assert "number of batches" in check_exercise("evaluate", per_batch).message
    assert "more than 1" in check_exercise("evaluate", keepdim).message


def test_evaluate_sees_forward_calls_and_half_switched_eval():
    def calls_forward(model, loader):
        model.eval()
        with torch.no_grad():
            return sum(int((model.forward(x).argmax(1) == y).sum()) for x, y in loader) / len(loader.dataset)

    def top_only(model, loader):
        model.training = False                       # children still in training mode
        with torch.no_grad():
            return sum(int((model(x).argmax(1) == y).sum()) for x, y in loader) / len(loader.dataset)
    assert check_exercise("evaluate", calls_forward).passed
    assert check_exercise("evaluate", top_only).mistake == "forgot_eval"
    assert check_exercise("evaluate", lambda m, l: round(evaluate_concatenated(m, l), 4)).passed
