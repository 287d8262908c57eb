"""The course's thread policy: half the cores, sleeping OpenMP waits, applied to the kernel, grading and tests."""
import os
import subprocess
import sys

from course_utils.cli.grade import worker_env
from course_utils.runtime import course_env, course_threads, kernel_env_args


def test_half_the_cores_and_sleeping_waits(monkeypatch):
    monkeypatch.delenv("COURSE_THREADS", raising=False)
    assert [course_threads(c) for c in (1, 2, 3, 8)] == [1, 1, 1, 4]
    env = course_env()
    assert env["OMP_WAIT_POLICY"] == "PASSIVE" and env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == str(course_threads())


def test_learners_can_choose_a_count_or_pytorchs_defaults(monkeypatch):
    monkeypatch.setenv("COURSE_THREADS", "3")
    assert course_env()["OMP_NUM_THREADS"] == "3"
    monkeypatch.setenv("COURSE_THREADS", "torch")
    assert course_env() == {} and kernel_env_args() == []
    monkeypatch.setenv("COURSE_THREADS", "many")  # not a count: the course's default
    assert course_env()["OMP_NUM_THREADS"] == str(course_threads())


def test_the_kernel_registration_arguments_carry_the_policy(monkeypatch):
    monkeypatch.delenv("COURSE_THREADS", raising=False)
    args = kernel_env_args()
    assert args[:3] == ["--env", "OMP_WAIT_POLICY", "PASSIVE"] and args.count("--env") == 3


def test_grading_workers_get_the_policy(monkeypatch):
    monkeypatch.delenv("COURSE_THREADS", raising=False)
    assert worker_env(1)["OMP_NUM_THREADS"] == "1" and worker_env()["OMP_WAIT_POLICY"] == "PASSIVE"


def test_this_test_process_runs_under_the_policy_unless_told_otherwise():
    # conftest.py sets the variables before PyTorch starts; values set by the caller win
    assert os.environ.get("OMP_WAIT_POLICY") and os.environ.get("OMP_NUM_THREADS")
    import torch
    assert torch.get_num_threads() == int(os.environ["OMP_NUM_THREADS"])


def test_the_policy_module_does_not_start_pytorch():
    done = subprocess.run([sys.executable, "-c", "import sys, course_utils.runtime; print('torch' in sys.modules)"],
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
