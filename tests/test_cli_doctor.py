"""`course doctor`: every check passes here, and every cross appears when its condition is produced."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from course_utils.cli import doctor
from course_utils.data.generated import course_dataset


def test_doctor_passes_on_this_machine():
    done = subprocess.run([sys.executable, "-m", "course_utils", "doctor"], capture_output=True, text=True,
                          timeout=300, env=dict(os.environ, COURSE_WEIGHTS="course"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "✘" not in done.stdout and "The course can run here." in done.stdout
    for label in ("Python", "torch + torchvision", "CPU / CUDA", "notebook kernel", "dataset", "course backbone",
                  "weights", "disk space"):
        assert f" {label}: " in done.stdout


def test_old_python_is_a_cross_with_the_way_out():
    check = doctor.check_python((3, 8, 10))
    assert check.ok is False and "3.8.10" in check.detail and "PYTHON=" in check.fix


def test_a_mismatched_torchvision_is_caught_by_running_an_operator(tmp_path):
    fake = tmp_path / "torchvision"
    fake.mkdir()
    (fake / "__init__.py").write_text('raise RuntimeError("operator torchvision::nms does not exist")\n')
    check, info = doctor.check_torch_pair(env=dict(os.environ, PYTHONPATH=str(tmp_path)))
    assert check.ok is False and info is None
    assert "mismatched pair" in check.detail and "constraints.txt" in check.fix
    assert doctor.check_compute(None).ok is None


def _kernel(folder: Path, argv0: str, display: str) -> None:
    spec = folder / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({"argv": [argv0, "-m", "ipykernel_launcher", "-f",
                                                           "{connection_file}"], "display_name": display,
                                                  "language": "python"}))


def test_kernel_missing_or_elsewhere_or_misnamed_is_a_cross(tmp_path):
    missing = doctor.check_kernel(kernel_dirs=[str(tmp_path / "none")])   # ipykernel's own spec answers instead
    assert missing.ok is False and "ipykernel install" in missing.fix
    _kernel(tmp_path / "other", "/usr/bin/python3", doctor.KERNEL_DISPLAY)
    elsewhere = doctor.check_kernel(kernel_dirs=[str(tmp_path / "other")])
    assert elsewhere.ok is False and "/usr/bin/python3" in elsewhere.detail
    _kernel(tmp_path / "named", sys.executable, "Python 3")
    assert "not 'Python 3 (PyTorch" in doctor.check_kernel(kernel_dirs=[str(tmp_path / "named")]).detail
    _kernel(tmp_path / "good", sys.executable, doctor.KERNEL_DISPLAY)
    assert doctor.check_kernel(kernel_dirs=[str(tmp_path / "good")]).ok is True


def test_kernel_display_name_matches_the_makefile():
    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    assert f"KERNEL_DISPLAY := {doctor.KERNEL_DISPLAY}" in makefile


def test_a_damaged_or_missing_dataset_is_a_cross(tmp_path):
    copy = shutil.copytree(course_dataset(progress=False), tmp_path / "data")
    assert doctor.check_dataset(copy).ok is True
    next((copy / "train").rglob("*.png")).unlink()
    damaged = doctor.check_dataset(copy)
    assert damaged.ok is False and "course setup" in damaged.fix
    assert "not generated yet" in doctor.check_dataset(tmp_path / "nowhere").detail


def test_a_missing_backbone_is_a_cross_with_a_measured_estimate(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))          # nothing built here either
    check = doctor.check_backbone(tmp_path / "absent.pt", tmp_path / "absent.json")
    assert check.ok is False and "missing" in check.detail and "minutes" in check.fix


def test_weights_forced_to_imagenet_without_the_file_is_a_cross(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert doctor.check_weights({"COURSE_WEIGHTS": "imagenet"}).ok is False
    assert doctor.check_weights({"COURSE_WEIGHTS": "course"}).ok is True
    assert doctor.check_weights({}).ok is None                  # auto: information, never a failure
    assert doctor.check_weights({"COURSE_WEIGHTS": "best"}).ok is False


def test_too_little_disk_is_a_cross(tmp_path):
    assert doctor.check_disk(tmp_path, need=10 ** 18).ok is False
    assert doctor.check_disk(tmp_path, need=1).ok is True


def test_kernel_line_says_which_thread_policy_the_kernel_runs_with(tmp_path):
    _kernel(tmp_path / "plain", sys.executable, doctor.KERNEL_DISPLAY)
    assert "PyTorch's default threads" in doctor.check_kernel(kernel_dirs=[str(tmp_path / "plain")]).detail
    spec = tmp_path / "policy" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": doctor.KERNEL_DISPLAY, "language": "python",
        "env": {"OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": "1"}}))
    line = doctor.check_kernel(kernel_dirs=[str(tmp_path / "policy")])
    assert line.ok is True and "OMP_NUM_THREADS=1, OMP_WAIT_POLICY=PASSIVE" in line.detail


def test_imagenet_network_line(tmp_path):
    from course_utils.models.imagenet import weights_file

    assert doctor.check_imagenet_network().ok is True
    damaged = tmp_path / "lite0.pth"
    damaged.write_bytes(weights_file().read_bytes()[:1000])
    check = doctor.check_imagenet_network(damaged)
    assert check.ok is False and "damaged" in check.detail and "--force-reinstall" in check.fix
    assert doctor.check_imagenet_network(tmp_path / "absent.pth").ok is False
