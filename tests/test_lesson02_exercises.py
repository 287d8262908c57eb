"""Lesson 02 checks beyond the contract: the loss that is returned, percentages, steps that clear late."""
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
