"""The course outside this repository: build the wheel, install it into a fresh virtual environment elsewhere, set it
up there (the dataset in a fresh cache), copy one lesson and one exercise notebook to another folder, and run them."""
import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent


def _outside(environ) -> dict:
    """The environment of a user outside the repository: nothing of this test run's shared store."""
    return {name: value for name, value in environ.items() if name != "COURSE_SYMPTOM_STORE"}


def run(*command, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=600, **kwargs)
    assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(python of a fresh venv with only the wheel installed in it, the wheel, a scratch folder)."""
    base = tmp_path_factory.mktemp("outside")
    run(sys.executable, "-m", "pip", "wheel", ROOT, "--no-deps", "--no-build-isolation", "-q", "-w", base / "dist")
    wheel = next((base / "dist").glob("pytorch_cnn_course-*.whl"))
    run(sys.executable, "-m", "venv", "--without-pip", base / "env")
    python = base / "env" / "bin" / "python"
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    # The heavy dependencies (torch, Jupyter) come from this environment's site-packages, listed after the new
    # environment's own, so the course package itself can only come from the wheel.
    (site / "course_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target", site, wheel)
    (base / "env" / "bin" / "course").write_text(f"#!{python}\nimport sys\nfrom course_utils.cli import main\n"
                                                 "sys.exit(main())\n")
    return python, wheel, base


def test_the_wheel_ships_the_backbone_and_the_command(installed):
    _, wheel, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    assert "course_utils/assets/course_resnet18.pt" in names and "course_utils/assets/course_resnet18.json" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "course = course_utils.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_a_lesson_and_an_exercise_run_outside_the_repository(installed):
    python, _, base = installed
    elsewhere = base / "learner"
    elsewhere.mkdir()
    env = {**_outside(os.environ), "COURSE_CACHE": str(base / "cache"), "COURSE_WEIGHTS": "course",
           "JUPYTER_PATH": str(base / "env" / "share" / "jupyter"), "PYTHONPATH": ""}
    where = run(python, "-c", "import course_utils; print(course_utils.__file__)", cwd=elsewhere, env=env).stdout
    assert str(base / "env") in where and str(ROOT) not in where
    run(python, "-m", "ipykernel", "install", "--prefix", base / "env", "--name", "python3", "--display-name",
        "Python 3 (PyTorch CNN course)", env=env)
    run(python, "-m", "course_utils", "setup", cwd=elsewhere, env=env)  # what `make lab` runs: the dataset, once
    for folder, name in (("notebooks", "01_tensor_shapes"), ("exercises", "04_data_and_transforms")):
        target = elsewhere / f"{folder}_{name}.ipynb"
        target.write_text((ROOT / folder / f"{name}.ipynb").read_text())
        run(python, "-m", "nbconvert", "--to", "notebook", "--execute", "--inplace",
            "--ExecutePreprocessor.timeout=300", target, cwd=elsewhere, env=env)
        cells = nbformat.read(target, as_version=4).cells
        errors = [o for c in cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
        expected = sum("raises-exception" in c.metadata.get("tags", []) for c in cells)
        assert len(errors) == expected, [e.ename for e in errors]
    assert (base / "cache" / "shapes5-v1" / "manifest.json").is_file()          # the dataset, built in the user cache
    doctor = subprocess.run([python, "-m", "course_utils", "doctor"], capture_output=True, text=True, timeout=300,
                            cwd=elsewhere, env=env)
    assert doctor.returncode == 0, doctor.stdout
    assert json.loads((base / "env" / "share" / "jupyter" / "kernels" / "python3" / "kernel.json").read_text())[
        "argv"][0] == str(python)


def test_the_imagenet_network_loads_outside_the_repository(installed):
    python, _, base = installed
    code = ("from PIL import Image; from course_utils.models.imagenet import *; m, w = pretrained_efficientnet_lite0(); "
            "print(top_k(m, w, Image.open(sample_photo_path()).convert('RGB'), k=1)[0][0])")
    done = run(python, "-c", code, cwd=base, env={**_outside(os.environ), "COURSE_CACHE": str(base / "cache"),
                                                        "PYTHONPATH": ""})
    assert done.stdout.strip() == "academic gown"
