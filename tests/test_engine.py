"""The grading engine: lookup, statuses, rendering, time limit, restored global state, error explanations."""
import random
import time

import numpy as np
import pytest
import torch

from course_utils import CheckResult, check_exercise, hint, solution
from course_utils.checking.explain import explain_error
from course_utils.registry import all_exercises


def test_answer_is_looked_up_in_the_callers_namespace():
    def flatten_features(x):
        return torch.flatten(x, 1)
    assert check_exercise("flatten_features").passed


def test_missing_answer_is_not_attempted():
    result = check_exercise("train_step")  # nothing called train_step exists here
    assert result.status == "not_attempted" and "Run the cell" in result.message
    assert "train_step: Not attempted yet" in result.to_text() and "Not attempted yet" in result.to_html()


def test_explicit_none_means_look_up_and_none_found_is_not_attempted():
    to_batch = None  # noqa: F841  (looked up by name)
    assert check_exercise("to_batch", None).status == "not_attempted"


def test_non_callable_answer_fails_with_a_plain_message():
    result = check_exercise("to_batch", 42)
    assert result.status == "failed" and "int" in result.message and "def to_batch" in result.message


def test_unknown_name_suggests_close_matches():
    result = check_exercise("flaten_feature")
    assert result.status == "error" and not result.passed
    assert "'flatten_features'" in result.message
    assert check_exercise(123).status == "error"


def test_result_renders_as_text_and_coloured_html():
    result = check_exercise("flatten_features", lambda x: x.flatten())
    assert isinstance(result, CheckResult)
    text = str(result)
    assert text.startswith("[✘] flatten_features: Not yet") and "flatten_all" in text
    html = result._repr_html_()
    assert "#b3261e" in html and "<code>flatten_all</code>" in html
    assert "#1b7f3b" in check_exercise("flatten_features", lambda x: x.flatten(1))._repr_html_()


def test_failed_result_points_to_the_catalogue_entry():
    result = check_exercise("flatten_features", lambda x: x.flatten())
    assert "show_symptom('flatten_all')" in result.message


def test_learner_exception_shows_the_learners_line_and_an_explanation():
    def to_batch(image):
        tensor = torch.from_numpy(image).float()
        weights = torch.ones(3, 5)
        return tensor.reshape(1, -1) @ weights       # shapes do not fit
    result = check_exercise("to_batch", to_batch)
    assert result.status == "failed" and result.mistake is None
    assert "line 4 of to_batch: return tensor.reshape(1, -1) @ weights" in result.message
    assert "cannot be multiplied" in result.message


def test_endless_loop_hits_the_time_limit():
    def flatten_features(x):
        while True:
            pass
    start = time.perf_counter()
    result = check_exercise("flatten_features", flatten_features, time_limit=0.3)
    assert time.perf_counter() - start < 3
    assert result.status == "failed" and "did not finish within 0.3 s" in result.message


def test_time_limit_cannot_be_swallowed_by_except_exception():
    def flatten_features(x):
        while True:
            try:
                time.sleep(1)
            except Exception:
                pass
    assert check_exercise("flatten_features", flatten_features, time_limit=0.2).status == "failed"


def test_global_rng_and_grad_mode_are_restored():
    def train_step(model, inputs, targets, loss_fn, optimizer):
        torch.rand(100), np.random.rand(5), random.random()
        torch.set_grad_enabled(False)
        raise ValueError("boom")
    torch.manual_seed(123), np.random.seed(123), random.seed(123)
    expected = (torch.rand(3), np.random.rand(3), random.random())
    torch.manual_seed(123), np.random.seed(123), random.seed(123)
    check_exercise("train_step", train_step)
    check_exercise("evaluate", all_exercises()["evaluate"].solution)
    assert torch.is_grad_enabled()
    got = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(got[0], expected[0]) and np.array_equal(got[1], expected[1]) and got[2] == expected[2]


def test_a_fault_in_the_checker_is_an_error_not_the_learners_failure():
    import operator
    from dataclasses import replace
    from functools import partial

    from course_utils.checking.judge import judge

    broken_check = partial(operator.getitem, {})  # raises KeyError from library code, as a checker bug would
    result = judge(replace(all_exercises()["flatten_features"], check=broken_check), lambda x: x)
    assert result.status == "error" and "Your work is safe" in result.message


def test_checker_is_deterministic():
    wrong = lambda x: x.reshape(-1, x.shape[0]).T  # noqa: E731
    assert check_exercise("flatten_features", wrong) == check_exercise("flatten_features", wrong)


def test_checker_does_not_modify_the_learners_function():
    def evaluate(model, loader):
        return 0.5
    evaluate.note = "mine"
    before = dict(vars(evaluate))
    check_exercise("evaluate", evaluate)
    assert vars(evaluate) == before


def test_sys_exit_in_an_answer_is_reported_not_raised():
    import sys
    result = check_exercise("to_batch", lambda image: sys.exit(1))
    assert result.status == "failed" and "SystemExit" in result.message


def test_hints_are_progressive_and_bounded():
    first, last = hint("to_batch"), hint("to_batch", 3)
    assert "Hint 1 of 3" in str(first) and "hint('to_batch', 2)" in str(first)
    assert "solution('to_batch')" in str(last)
    assert "only 3 hints" in str(hint("to_batch", 9))
    assert "whole number" in str(hint("to_batch", 0))
    assert "Did you mean" in str(hint("to_btach"))


def test_solution_shows_the_reference_source():
    shown = solution("train_step")
    assert "optimizer.zero_grad()" in str(shown) and "<pre" in shown._repr_html_()
    assert "Did you mean" in str(solution("evalute"))


@pytest.mark.parametrize("raise_it, needle, mistake", [
    (lambda: torch.nn.Linear(4, 2)(torch.ones(3, 5)), "expects 4 input features", "flatten_all"),
    (lambda: torch.nn.Conv2d(3, 4, 3)(torch.ones(1, 8, 8, 3)), "permute(2, 0, 1)", "hwc_not_permuted"),
    (lambda: torch.nn.Conv2d(3, 4, 3)(torch.ones(1, 1, 8, 8)), "grayscale", "grayscale_not_expanded"),
    (lambda: torch.nn.CrossEntropyLoss()(torch.ones(2, 3), torch.ones(2)), "torch.long", "float_targets"),
    (lambda: torch.ones(2, requires_grad=False).sum().backward(), "requires_grad=True", "froze_everything"),
])
def test_common_errors_get_plain_explanations(raise_it, needle, mistake):
    with pytest.raises(Exception) as info:
        raise_it()
    explanation, related = explain_error(info.value)
    assert needle in explanation and related == mistake


def test_device_mismatch_is_explained():
    error = RuntimeError("Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!")
    explanation, _ = explain_error(error)
    assert "model.to(device)" in explanation


def test_registry_is_complete_and_consistent():
    names = set(all_exercises())
    assert {"to_batch", "flatten_features", "train_step", "evaluate"} <= names
    for exercise in all_exercises().values():
        assert exercise.hints and exercise.task and callable(exercise.check)


def test_an_outer_alarm_timer_survives_a_check():
    import signal
    previous = signal.signal(signal.SIGALRM, lambda *args: None)
    signal.setitimer(signal.ITIMER_REAL, 30)
    try:
        check_exercise("flatten_features", lambda x: torch.flatten(x, 1))
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 25 < remaining <= 30
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_path_plus_string_is_explained():
    from pathlib import Path
    with pytest.raises(TypeError) as info:
        Path("data") + "/train"
    explanation, related = explain_error(info.value)
    assert 'root / "train"' in explanation and related is None


def test_missing_return_is_pointed_out():
    result = check_exercise("conv_output_size", lambda size, kernel_size, stride=1, padding=0, dilation=1: None)
    assert result.status == "failed" and "forget a `return`" in result.message
    assert "an ImageClassification" in check_exercise(
        "build_transforms", lambda weights: weights.transforms()).message
