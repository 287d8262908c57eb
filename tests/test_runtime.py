"""The course's thread policy: half the cores, sleeping OpenMP waits, applied to the kernel, grading and tests."""
import os
import subprocess
import sys

import pytest

from course_utils.cli.grade import worker_env
from course_utils.runtime import course_env, course_threads, kernel_env_args


@pytest.fixture
def no_choice_made(monkeypatch):
    monkeypatch.delenv("COURSE_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)


def test_half_the_cores_and_sleeping_waits(no_choice_made):
    assert [course_threads(c) for c in (1, 2, 3, 8)] == [1, 1, 1, 4]
    env = course_env()
    assert env["OMP_WAIT_POLICY"] == "PASSIVE" and env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == str(course_threads())


def test_learners_can_choose_a_count_or_pytorchs_defaults(monkeypatch, no_choice_made):
    monkeypatch.setenv("COURSE_THREADS", "3")
    assert course_env()["OMP_NUM_THREADS"] == "3"
    monkeypatch.setenv("COURSE_THREADS", "torch")
    assert course_env() == {} and kernel_env_args() == []
    monkeypatch.setenv("COURSE_THREADS", "many")  # not a count: the course's default
    assert course_env()["OMP_NUM_THREADS"] == str(course_threads())
    monkeypatch.delenv("COURSE_THREADS")
    monkeypatch.setenv("OMP_NUM_THREADS", "5")  # exported by the learner: kept
    assert course_env()["OMP_NUM_THREADS"] == "5"


def test_the_kernel_registration_arguments_carry_the_policy(no_choice_made):
    args = kernel_env_args()
    assert args[:3] == ["--env", "OMP_WAIT_POLICY", "PASSIVE"] and args.count("--env") == 3


def test_grading_workers_get_the_policy(monkeypatch, no_choice_made):
    assert worker_env(1)["OMP_NUM_THREADS"] == "1" and worker_env()["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("COURSE_THREADS", "torch")  # parallel workers are pinned even then
    assert worker_env(1)["OMP_NUM_THREADS"] == "1"


def test_this_test_process_and_its_kernels_run_under_the_policy():
    # conftest.py set the variables before PyTorch started (values the caller set win): a fresh interpreter with
    # this environment, as nbval's kernels get it, uses the thread count they name
    policy = {name: os.environ.get(name) for name in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS")}
    if os.environ.get("COURSE_THREADS") != "torch":
        assert policy["OMP_WAIT_POLICY"] and policy["OMP_NUM_THREADS"], policy
    done = subprocess.run([sys.executable, "-c", "import torch; print(torch.get_num_threads())"],
                          capture_output=True, text=True, check=True)
    if policy["OMP_NUM_THREADS"]:
        assert int(done.stdout) == int(policy["OMP_NUM_THREADS"])


def test_the_policy_module_does_not_start_pytorch():
    done = subprocess.run([sys.executable, "-c", "import sys, course_utils.runtime; print('torch' in sys.modules)"],
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
