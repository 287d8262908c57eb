"""On a busy machine every verdict stays right: the registry's answers are checked by two processes pinned to one
core, each the other's CPU-bound competitor. Nothing here is timed; only verdicts are asserted."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent

# Answers to replace_head in the styles of public code (a textbook, a pruning library) and realistic wrong ones:
# on a busy machine each must still be judged on its merits, not by a time limit.
OUTSIDE_ANSWERS = textwrap.dedent('''
    import torch
    from torch import nn
    from torchvision import models

    def textbook_style(model, num_classes):           # d2l: a new Linear, Xavier-initialised
        model.fc = nn.Linear(model.fc.in_features, num_classes)
        nn.init.xavier_uniform_(model.fc.weight)
        return model

    def library_style(model, num_classes):            # find the classifier by name, replace it keeping its input size
        name = "fc" if hasattr(model, "fc") else "classifier"
        layer = getattr(model, name)
        setattr(model, name, nn.Linear(layer.in_features, num_classes, bias=layer.bias is not None))
        return model

    def resnet34_head(model, num_classes):           # right for ResNet-18 and -34, wrong for ResNet-50
        model.fc = nn.Linear(512, num_classes)
        return model

    def rebuilt_resnet50(model, num_classes):        # a new ResNet-50 without weights: the pretrained ones are gone
        model = models.resnet50(weights=None)
        model.fc = nn.Linear(model.fc.in_features, num_classes)
        return model

    OUTSIDE = [("textbook_style", None), ("library_style", None), ("resnet34_head", "hardcoded_in_features"),
               ("rebuilt_resnet50", "reinitialized_backbone")]
''')

SCRIPT = textwrap.dedent('''
    import json, sys, time
    sys.path.insert(0, sys.argv[1])
    from course_utils import check_exercise
    from course_utils.registry import all_exercises
    from helpers import stub
    exec(sys.argv[2])
    wrong = []
    def expect(name, answer, mistake, label):
        result = check_exercise(name, answer)
        ok = result.passed if mistake is None else (result.status == "failed" and result.mistake == mistake)
        if not ok:
            wrong.append(f"{name} / {label}: expected {mistake or 'a pass'}, got {result.status} "
                         f"{result.mistake}: {result.message[:200]}")
    share, shares = map(int, sys.argv[3].split("/"))
    for name, exercise in sorted(all_exercises().items())[share::shares]:
        expect(name, exercise.solution, None, "solution")
        for i, answer in enumerate(exercise.alternatives):
            expect(name, answer, None, f"alternative {i}")
        for mistake, answer in exercise.wrong_answers.items():
            expect(name, answer, mistake, f"wrong answer {mistake}")
        if check_exercise(name, stub(name)).status != "not_attempted":
            wrong.append(f"{name}: the stub is not 'not attempted'")
    loop = None
    if share == 0:
        for label, mistake in OUTSIDE:
            expect("replace_head", globals()[label], mistake, label)
        def endless(x):
            while True:
                pass
        start = time.monotonic()
        looped = check_exercise("flatten_features", endless, time_limit=2)
        loop = [looped.status, "did not finish" in looped.message, time.monotonic() - start]
    print(json.dumps({"wrong": wrong, "loop": loop}), flush=True)
    while True:  # done: now the CPU-bound competitor of the shares still checking, until the test ends
        pass
''')

@pytest.mark.skipif(shutil.which("taskset") is None or not hasattr(os, "sched_getaffinity"),
                    reason="needs Linux's taskset")
def test_every_verdict_holds_on_a_busy_machine():
    cores = sorted(os.sched_getaffinity(0))
    # Two checking processes pinned to one core, each with as many PyTorch threads as the machine has cores, each
    # checking half the registry: each is the other's CPU-bound competitor, and one that has finished spins until
    # the other has too, so every verdict is reached on a core shared with a busy process (the rest of the suite
    # runs beside this test on the other cores: pytest-xdist).
    logs = [tempfile.TemporaryFile(mode="w+") for _ in range(2)]
    shares = [subprocess.Popen(["taskset", "-c", str(cores[0]), sys.executable, "-c", SCRIPT, str(HERE),
                                OUTSIDE_ANSWERS, f"{share}/2"], stdout=subprocess.PIPE, stderr=log, text=True,
                               cwd=ROOT, env=dict(os.environ, OMP_NUM_THREADS=str(len(cores))))
              for share, log in enumerate(logs)]
    watchdog = threading.Timer(900, lambda: [share.kill() for share in shares])  # a hung check ends the test
    watchdog.start()
    try:
        lines = [share.stdout.readline() for share in shares]  # each prints its report, then spins
    finally:
        watchdog.cancel()
        for share in shares:
            share.kill()
            share.wait()
    reports = []
    for line, log in zip(lines, logs):
        log.seek(0)
        assert line.strip(), log.read()[-3000:]
        reports.append(json.loads(line))
    wrong = [entry for report in reports for entry in report["wrong"]]
    assert wrong == [], "\n".join(wrong)
    report = reports[0]
    status, said_so, seconds = report["loop"]
    assert status == "failed" and said_so, report
    # not a timing test: the wall-clock backstop (3 x 2 s) guarantees the bound; the margin covers a slow start
    assert seconds < 20, f"an endless loop with a 2 s limit took {seconds:.1f} s to be stopped"
