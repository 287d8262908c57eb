"""Benchmark (not a test): the CPU-dependent figures that tests compare with a threshold, measured here.

Thread counts change the order of floating-point sums, so these figures move a little from one machine (or thread
count) to another; a busy machine changes only their speed. `make bench-thresholds` prints each figure with
1 and 2 threads, so the margins written next to the tests' thresholds come from measured spreads.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIGURES = '''
import json, sys
sys.path.insert(0, sys.argv[1])
import torch
from course_utils import run_symptom
from course_utils.models.pretrained import course_weights
from helpers import linear_probe_accuracy
out = {"threads": torch.get_num_threads()}
out["shipped linear probe (>= 0.85)"] = linear_probe_accuracy(course_weights(progress=False))
values = lambda mistake: (run_symptom(mistake).broken.values, run_symptom(mistake).fixed.values)
b, f = values("skip_normalization"); out["skip_normalization fixed / mismatch / reverse / never"] = [f["result"], b["result"], b["reverse"], b["never"]]
b, f = values("augment_validation"); out["augment_validation fixed / broken scores"] = [f["scores"][0], b["scores"]]
b, f = values("class_to_idx_mismatch"); out["class_to_idx_mismatch fixed / broken"] = [f["result"], b["result"]]
b, f = values("kept_1000_outputs"); out["kept_1000_outputs impossible share per step"] = b["impossible"]
b, f = values("bn_stats_drift"); out["bn_stats_drift layer1 / layer4 / cosine"] = [b["drift_layer1"], b["drift_layer4"], b["cosine"]]
r = run_symptom("full_finetune_tiny_data"); b, f = r.broken.values, r.fixed.values
out["full_finetune_tiny_data broken train / broken val / fixed val"] = [b["train_accuracy"][-1], b["val_accuracy"][-1], f["val_accuracy"][-1]]
out["full_finetune_tiny_data drift ratio"] = b["drift"] / max(f["drift"], 1e-12)
print(json.dumps(out))
'''


def measure(threads: int) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    done = subprocess.run([sys.executable, "-c", FIGURES, str(HERE)], capture_output=True, text=True, env=env,
                          cwd=HERE.parent, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    runs = [measure(threads) for threads in (1, 2)]
    for key in runs[0]:
        if key != "threads":
            shown = "   ".join(json.dumps(run[key], default=float)[:60] for run in runs)
            print(f"{key:62s} 1 thread: {shown.replace('   ', '   2 threads: ', 1)}")


if __name__ == "__main__":
    main()
