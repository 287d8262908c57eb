"""Hostile and junk answers (SPEC §4): nothing an answer does makes check_exercise raise, hang past its limit,
leak state, or give a false pass. Cases that could kill or poison the process run in a fresh interpreter."""
import glob
import inspect
import io
import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest
import torch

from course_utils import check_exercise
from course_utils.lessons.lesson01.answers import flatten_with_reshape
from course_utils.lessons.lesson03.answers import ModuleCNN
from course_utils.registry import all_exercises
from helpers import ROOT, Hostile, LyingTensor


def _isolated(code: str, timeout: float = 120) -> dict:
    """Run ``code`` in a fresh interpreter with course_utils importable; it prints one JSON object last."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- exceptions of every kind become "failed"

class Boom(BaseException):
    """A custom BaseException, as a learner (or a library) might define."""


class BadText(Exception):
    def __str__(self):
        raise RuntimeError("str of the exception itself fails")


def _raises(exc):
    def answer(*args, **kwargs):
        raise exc
    return answer


RAISED = {
    "GeneratorExit": GeneratorExit(),
    "custom BaseException": Boom("boom"),
    "SystemExit": SystemExit(3),
    "exception whose str raises": BadText(),
    "StopIteration": StopIteration(),
    "RecursionError": RecursionError("deep"),
}


@pytest.mark.parametrize("name", sorted(all_exercises()))
@pytest.mark.parametrize("kind", sorted(RAISED))
def test_anything_raised_is_a_failure(name, kind):
    result = check_exercise(name, _raises(RAISED[kind]))
    assert result.status == "failed", result
    assert str(result) and result._repr_html_()


@pytest.mark.parametrize("name", sorted(all_exercises()))
def test_returned_objects_that_fail_to_print_or_compare_are_failures(name):
    result = check_exercise(name, lambda *args, **kwargs: Hostile())
    assert result.status == "failed", result
    pair = check_exercise(name, lambda *args, **kwargs: (Hostile(), Hostile()))
    assert pair.status == "failed", pair


def test_non_callable_answer_whose_repr_raises():
    result = check_exercise("to_batch", Hostile())
    assert result.status == "failed" and "Hostile" in result.message


def test_repr_that_never_ends_hits_the_time_limit():
    class Endless:
        def __repr__(self):
            while True:
                pass
    start = time.perf_counter()
    result = check_exercise("evaluate", lambda model, loader: Endless(), time_limit=0.3)
    assert result.status == "failed" and time.perf_counter() - start < 3


def test_a_misspelt_forward_is_a_failure_not_a_stub():
    class Net(torch.nn.Module):
        def __init__(self, num_classes):
            super().__init__()
            self.convs = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Conv2d(4, num_classes, 3))

        def foward(self, x):  # sic
            return self.convs(x).mean((2, 3))
    result = check_exercise("build_cnn", Net)
    assert result.status == "failed" and "forward" in result.message and "spelling" in result.message


def test_keyboard_interrupt_still_stops_the_check():
    with pytest.raises(KeyboardInterrupt):
        check_exercise("to_batch", _raises(KeyboardInterrupt()))


# ---------------------------------------------------------------- the time limit holds

def _swallows(*args, **kwargs):
    while True:
        try:
            while True:
                pass
        except BaseException:  # noqa: BLE001  (deliberately hostile)
            continue


def _resets_the_alarm(*args, **kwargs):
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    while True:
        try:
            time.sleep(0.05)
        except BaseException:  # noqa: BLE001
            pass


def _blocks_the_alarm(*args, **kwargs):
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    while True:
        try:
            pass
        except BaseException:  # noqa: BLE001
            pass


def _own_handler(*args, **kwargs):
    signal.signal(signal.SIGALRM, lambda *a: None)
    while True:
        try:
            time.sleep(0.01)
        except BaseException:  # noqa: BLE001
            pass


def _replaces_setitimer(*args, **kwargs):
    signal.setitimer = lambda *a, **k: (0.0, 0.0)
    try:
        while True:
            pass
    finally:
        signal.setitimer = ORIGINAL_SETITIMER


def _returns_late(x):
    try:
        while True:
            pass
    except BaseException:  # noqa: BLE001
        return torch.flatten(x, 1)


def _clears_its_trace(*args, **kwargs):
    while True:
        try:
            sys.settrace(None)
        except BaseException:  # noqa: BLE001
            sys.settrace(None)


ORIGINAL_SETITIMER = signal.setitimer
DEFEATS = {"swallows the timeout": _swallows, "resets the alarm": _resets_the_alarm,
           "blocks the alarm": _blocks_the_alarm, "installs its own handler": _own_handler,
           "replaces signal.setitimer": _replaces_setitimer, "returns late with a right answer": _returns_late,
           "clears the trace function": _clears_its_trace}


@pytest.mark.parametrize("kind", sorted(DEFEATS))
def test_time_limit_cannot_be_defeated(kind):
    handler, mask = signal.getsignal(signal.SIGALRM), signal.pthread_sigmask(signal.SIG_BLOCK, [])
    start = time.perf_counter()
    result = check_exercise("flatten_features", DEFEATS[kind], time_limit=0.3)
    assert time.perf_counter() - start < 3
    if signal.setitimer is not ORIGINAL_SETITIMER:  # the time limit cut the answer short before its `finally`
        signal.setitimer = ORIGINAL_SETITIMER
        assert result.status == "error" and "signal.setitimer" in result.message
    else:
        # a computing loop runs out of its 0.3 s of CPU time; one that sleeps, of the 3x wall-clock backstop
        assert result.status == "failed" and ("did not finish within 0.3 s of computing time" in result.message
                                              or "did not finish: after 0.9 s on the clock" in result.message)
    assert signal.getsignal(signal.SIGALRM) is handler and signal.pthread_sigmask(signal.SIG_BLOCK, []) == mask
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0) and sys.gettrace() is None
    assert check_exercise("flatten_features", flatten_with_reshape).passed  # the next check is unaffected


@pytest.mark.parametrize("limit", [0, -1, math.nan, math.inf, "10", True, 1e9])
def test_unusable_time_limits_are_refused_not_obeyed(limit):
    start = time.perf_counter()
    result = check_exercise("flatten_features", _swallows, time_limit=limit)
    assert time.perf_counter() - start < 1 and result.status == "error" and "time_limit" in result.message


# ---------------------------------------------------------------- global state is as it was

def test_the_working_directory_comes_back_after_an_answer_moved_into_a_folder_the_check_deleted(tmp_path,
                                                                                                monkeypatch):
    def moves_into_the_checkers_folder(root, fractions, seed):       # a common way to list files: chdir, then glob
        os.chdir(root)
        files = sorted(glob.glob("*/*.png") + glob.glob("*/*.jpg") + glob.glob("*/*.JPG"))
        return {name: [] for name in fractions} | {next(iter(fractions)): [(os.path.abspath(f), 0) for f in files]}
    monkeypatch.chdir(tmp_path)                                                        # undone after the test
    check_exercise("split_dataset", moves_into_the_checkers_folder)                 # its folder is gone afterwards
    assert os.getcwd() == str(tmp_path)
    assert check_exercise("to_batch", lambda image: None).status == "failed"         # the next check still judges


def test_global_state_is_restored(tmp_path):
    def meddles(x):
        torch.set_num_threads(3)  # neither the check's own 1 nor the session's count
        torch.use_deterministic_algorithms(True)
        torch.autograd.set_detect_anomaly(True)
        torch.set_default_device("meta")
        torch.set_default_dtype(torch.float64)
        os.chdir(tmp_path)
        os.environ["COURSE_HOSTILE"] = "1"
        sys.stdout = sys.stderr = io.StringIO()
        warnings.simplefilter("error")
        sys.path.insert(0, "/nowhere")
        sys.setrecursionlimit(len(inspect.stack()) + 40)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.setitimer(signal.ITIMER_REAL, 50)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
        np.seterr(all="raise")
        return torch.flatten(x, 1)
    before = (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled(), torch.is_anomaly_enabled(),
              torch.get_default_device(), torch.get_default_dtype(), os.getcwd(), dict(os.environ), sys.stdout,
              sys.stderr, list(warnings.filters), list(sys.path), sys.getrecursionlimit(),
              signal.getsignal(signal.SIGINT), signal.getitimer(signal.ITIMER_REAL),
              signal.pthread_sigmask(signal.SIG_BLOCK, []), np.geterr())
    check_exercise("flatten_features", meddles)
    after = (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled(), torch.is_anomaly_enabled(),
             torch.get_default_device(), torch.get_default_dtype(), os.getcwd(), dict(os.environ), sys.stdout,
             sys.stderr, list(warnings.filters), list(sys.path), sys.getrecursionlimit(),
             signal.getsignal(signal.SIGINT), signal.getitimer(signal.ITIMER_REAL),
             signal.pthread_sigmask(signal.SIG_BLOCK, []), np.geterr())
    assert after == before
    assert check_exercise("flatten_features", flatten_with_reshape).passed


def test_checks_run_in_a_clean_state_whatever_the_notebook_set():
    torch.set_default_dtype(torch.float64)
    try:
        assert check_exercise("train_step", all_exercises()["train_step"].solution).passed
        assert torch.get_default_dtype() == torch.float64
    finally:
        torch.set_default_dtype(torch.float32)


# ---------------------------------------------------------------- no false passes

def test_lying_numbers_and_tensors_cannot_pass():
    class Yes(int):
        def __eq__(self, other):
            return True

        __hash__ = int.__hash__
    assert check_exercise("conv_output_size", lambda *args, **kwargs: Yes(1)).status == "failed"

    result = check_exercise("flatten_features",
                            lambda x: torch.zeros(x.shape[0], x[0].numel()).as_subclass(LyingTensor))
    assert result.status == "failed"


def test_mutated_inputs_cannot_pass():
    for name in ("to_batch", "flatten_features", "train_step", "evaluate", "build_transforms", "make_loaders"):
        assert check_exercise(name, all_exercises()[name].wrong_answers["modified_input"]).mistake == "modified_input"


PATCHES = {
    "torch.allclose": "torch.allclose = lambda *a, **k: True",
    "torch.equal": "torch.equal = lambda *a, **k: True",
    "Tensor.argmax": "torch.Tensor.argmax = lambda self, *a, **k: torch.zeros((), dtype=torch.long)",
    "a course_utils internal": "import course_utils.checking.expect as e; e.same = lambda *a, **k: True",
}


def test_patched_torch_or_course_utils_is_refused_not_trusted():
    code = """
        import json, torch
        import course_utils.checking.expect
        from course_utils import check_exercise
        wrong = lambda x: torch.zeros(x.shape[0], x[0].numel())
        assert check_exercise("flatten_features", wrong).status == "failed"   # seen unpatched first
        outcomes = {}
        for label, patch in PATCHES.items():
            saved = (torch.allclose, torch.equal, course_utils.checking.expect.same)
            exec(patch)
            outcomes[label] = [check_exercise("flatten_features", wrong).status,
                               check_exercise("evaluate", lambda m, l: 0.0).status]
            torch.allclose, torch.equal, course_utils.checking.expect.same = saved
            if "argmax" in vars(torch.Tensor):
                del torch.Tensor.argmax
        outcomes["restored"] = check_exercise("flatten_features", wrong).status
        def patches_during_the_check(x):
            torch.equal = lambda *a, **k: True
            return wrong(x)
        outcomes["patched by the answer"] = check_exercise("flatten_features", patches_during_the_check).status
        print(json.dumps(outcomes))
    """
    outcomes = _isolated(f"PATCHES = {PATCHES!r}\n" + textwrap.dedent(code))
    for label in PATCHES:
        assert outcomes[label] == ["error", "error"], label
    assert outcomes["restored"] == "failed" and outcomes["patched by the answer"] == "error"


def test_default_device_meta_set_by_an_answer_does_not_break_later_checks():
    outcomes = _isolated("""
        import json, torch
        from course_utils import check_exercise
        from course_utils.lessons.lesson01.answers import flatten_with_reshape
        def meta(x):
            torch.set_default_device("meta")
            return torch.flatten(x, 1)
        first = check_exercise("flatten_features", meta).status
        print(json.dumps({"first": first, "device": str(torch.get_default_device()),
                          "next": check_exercise("flatten_features", flatten_with_reshape).status}))
    """)
    assert outcomes == {"first": "passed", "device": "cpu", "next": "passed"}


def test_the_checker_leaves_a_returned_model_in_its_mode():
    models = []

    def keeps_a_reference(num_classes):
        models.append(ModuleCNN(num_classes))
        return models[-1]
    check_exercise("build_cnn", keeps_a_reference)
    assert models and all(model.training for model in models)


# ---------------------------------------------------------------- found by an adversarial review

def test_odd_tensors_and_numbers_are_the_answers_fault():
    odd = {
        "to_batch": lambda image: torch.empty(1, 3, *image.shape[:2], device="meta"),
        "flatten_features": lambda x: torch.flatten(x, 1).to_sparse(),
        "conv_output_size": lambda *args, **kwargs: 10 ** 5000,
        "evaluate": lambda model, loader: 10 ** 400,
    }
    for name, answer in odd.items():
        assert check_exercise(name, answer).status == "failed", name
    nested: list = []
    for _ in range(20_000):
        nested = [nested]
    assert check_exercise("flatten_features", lambda x: nested).status == "failed"
    with_meta_output = lambda n: torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Conv2d(4, 4, 3),  # noqa: E731
                                                     torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                                                     torch.nn.Linear(4, n)).to("meta")
    assert check_exercise("build_cnn", with_meta_output).status == "failed"


def test_not_implemented_in_one_branch_is_a_failure_not_a_stub():
    def partial_answer(image):
        if image.ndim == 2:
            raise NotImplementedError("grayscale images are not supported")
        return torch.from_numpy(image[..., :3].copy()).permute(2, 0, 1).float().div(255).unsqueeze(0)
    assert check_exercise("to_batch", partial_answer).status == "failed"


def test_an_answer_raising_the_timeout_itself_is_no_timeout():
    from course_utils.checking.timelimit import TimeLimitExceeded
    result = check_exercise("flatten_features", _raises(TimeLimitExceeded()))
    assert result.status == "failed" and "did not finish" not in result.message


def test_a_loader_that_never_ends_is_stopped():
    import itertools

    class Endless:
        def __init__(self, batch):
            self.batch = batch

        def __iter__(self):
            return itertools.repeat(self.batch)
    batch = (torch.zeros(5, 2), torch.zeros(5, dtype=torch.long))
    start = time.perf_counter()
    result = check_exercise("make_loaders", lambda *args: (Endless(batch), Endless(batch)), time_limit=2)
    assert result.status == "failed" and time.perf_counter() - start < 5


def test_modes_left_switched_on_are_reported_and_switched_off():
    from torch.overrides import TorchFunctionMode

    class Liar(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            return True if func in (torch.equal, torch.allclose) else func(*args, **(kwargs or {}))

    def leaves_a_mode(x):
        Liar().__enter__()
        return torch.zeros(x.shape[0], x[0].numel())

    def leaves_inference_mode(x):
        leaves_inference_mode.guard = torch.inference_mode()
        leaves_inference_mode.guard.__enter__()
        return torch.flatten(x, 1)
    result = check_exercise("flatten_features", leaves_a_mode)
    assert result.status == "error" and "TorchFunctionMode" in result.message
    assert torch._C._len_torch_function_stack() == 0  # noqa: SLF001
    result = check_exercise("flatten_features", leaves_inference_mode)
    leaves_inference_mode.guard.__exit__(None, None, None)
    assert result.status == "error" and "inference_mode" in result.message


def test_tampering_that_hides_from_a_final_look_is_caught():
    outcomes = _isolated("""
        import json, warnings, torch, numpy as np
        import course_utils.lessons.lesson01.exercises as lesson01
        from course_utils import check_exercise
        wrong = lambda x: torch.zeros(x.shape[0], x[0].numel())
        outcomes = {"before": check_exercise("flatten_features", wrong).status}
        original_equal, original_hook = torch.equal, warnings._filters_mutated
        def undo():                       # would run during the checker's restore, undoing the patch
            torch.equal = original_equal
            warnings._filters_mutated = original_hook
            original_hook()
        def patch_then_undo(x):
            torch.equal = lambda *a, **k: True
            warnings._filters_mutated = undo
            return wrong(x)
        outcomes["undo in restore"] = check_exercise("flatten_features", patch_then_undo).status
        torch.equal, warnings._filters_mutated = original_equal, original_hook
        code = lesson01.check_flatten_features.__code__
        lesson01.check_flatten_features.__code__ = (lambda answer: None).__code__
        outcomes["code swapped"] = check_exercise("flatten_features", wrong).status
        lesson01.check_flatten_features.__code__ = code
        rng = np.random.default_rng
        np.random.default_rng = lambda *a, **k: rng(0)
        outcomes["numpy.random"] = check_exercise("to_batch", lambda im: None).status
        np.random.default_rng = rng
        float32 = torch.float32
        torch.float32 = torch.float64
        outcomes["torch.float32"] = check_exercise("to_batch", lambda im: None).status
        torch.float32 = float32
        class Meta(type):
            @property
            def __module__(cls):
                raise RuntimeError("no module")
        torch.Evil = Meta("Evil", (), {})
        outcomes["hostile metaclass"] = check_exercise("flatten_features", wrong).status
        outcomes["after"] = check_exercise("flatten_features", wrong).status
        print(json.dumps(outcomes))
    """)
    assert outcomes["before"] == outcomes["after"] == outcomes["hostile metaclass"] == "failed"
    for label in ("undo in restore", "code swapped", "numpy.random", "torch.float32"):
        assert outcomes[label] == "error", label


def test_a_blocked_pending_alarm_does_not_kill_the_process():
    outcomes = _isolated("""
        import json, signal, threading, torch
        from course_utils import check_exercise
        def pending_alarm(x):
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
            signal.pthread_kill(threading.get_ident(), signal.SIGALRM)
            return torch.flatten(x, 1)
        print(json.dumps({"status": check_exercise("flatten_features", pending_alarm).status}))
    """)
    assert outcomes == {"status": "passed"}


def test_more_global_state_is_restored():
    import gc
    import logging

    def meddles(x):
        gc.set_threshold(1, 1, 1)
        sys.set_int_max_str_digits(700)
        torch.set_printoptions(precision=1)
        np.set_printoptions(precision=1)
        logging.disable(logging.CRITICAL)
        sys.meta_path.insert(0, object())
        torch.backends.mkldnn.enabled = False
        return torch.flatten(x, 1)
    before = (gc.get_threshold(), sys.get_int_max_str_digits(), torch._tensor_str.PRINT_OPTS.precision,  # noqa: SLF001
              np.get_printoptions()["precision"], logging.root.manager.disable, list(sys.meta_path),
              torch.backends.mkldnn.enabled)
    assert check_exercise("flatten_features", meddles).passed
    after = (gc.get_threshold(), sys.get_int_max_str_digits(), torch._tensor_str.PRINT_OPTS.precision,  # noqa: SLF001
             np.get_printoptions()["precision"], logging.root.manager.disable, list(sys.meta_path),
             torch.backends.mkldnn.enabled)
    assert after == before


def _hides_the_backbone(model):
    """Freezes nothing, then makes the model's own methods list only the head (what CONTRIBUTING.md's rule is for)."""
    head = list(model.fc.named_parameters(prefix="fc"))
    model.named_parameters = lambda *args, **kwargs: iter(head)
    model.parameters = lambda *args, **kwargs: iter(p for _, p in head)
    return model


def test_a_model_whose_methods_lie_about_its_parameters_cannot_pass():
    # checkers read parameters through nn.Module.named_parameters(model), never through the answer's model
    assert check_exercise("freeze_backbone", _hides_the_backbone).status == "failed"
    assert check_exercise("unfreeze_last_block", _hides_the_backbone).status == "failed"
