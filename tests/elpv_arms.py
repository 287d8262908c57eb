"""Measure lesson 10's frozen-feature arms on the ELPV solar cells (not a test: `python tests/elpv_arms.py`).

The paper's design: 1,968 training and 656 test cells, stratified by level and type (its own split is not
published, so each seed draws one); a linear head on cached features, binary (probability >= 0.5) and four levels.
Prints accuracy, balanced accuracy and the recall of defective cells on the test cells, mean ± SD over seeds.
"""
import statistics
import sys
import time

import torch

from course_utils.data.elpv import SolarCells, paper_split
from course_utils.models.cell_features import cell_features
from course_utils.training.probe import fit_head, scores

SEEDS = (0, 1, 2)
ARMS = (("shapes", 56), ("random", 56), ("imagenet", 128), ("imagenet", 224))


def summary(values) -> str:
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def main(arms=ARMS) -> None:
    binary, levels = SolarCells("binary"), SolarCells("levels")
    y, y4 = torch.tensor(binary.targets), torch.tensor(levels.targets)
    splits = {seed: paper_split(binary, seed) for seed in SEEDS}
    rows = {"always functional": {"acc": [], "bal": [], "rec": [], "acc4": []}}
    for seed, split in splits.items():
        test = torch.tensor(split["test"])
        majority = scores(torch.zeros(len(test), dtype=torch.long), y[test], 2)
        rows["always functional"]["acc"].append(majority.accuracy)
        rows["always functional"]["bal"].append(majority.balanced_accuracy)
        rows["always functional"]["rec"].append(majority.recall)
        rows["always functional"]["acc4"].append((y4[test] == 0).float().mean().item())
    for source, size in arms:
        features, what = cell_features(source, size)
        print(f"{source} @ {size}: {what}, {features.shape[1]} features", flush=True)
        row = rows.setdefault(f"{source} {size} px", {"acc": [], "bal": [], "rec": [], "acc4": [], "s": []})
        for seed, split in splits.items():
            train, test = torch.tensor(split["train"]), torch.tensor(split["test"])
            start = time.perf_counter()
            head = fit_head(features[train], y[train], 2, seed)
            result = scores(head(features[test]).argmax(1), y[test], 2)
            head4 = fit_head(features[train], y4[train], 4, seed)
            row["acc4"].append((head4(features[test]).argmax(1) == y4[test]).float().mean().item())
            row["s"].append(time.perf_counter() - start)
            row["acc"].append(result.accuracy)
            row["bal"].append(result.balanced_accuracy)
            row["rec"].append(result.recall)
    print(f"\n{'arm':22s} {'binary acc':>15s} {'balanced':>15s} {'defective recall':>17s} {'4-level acc':>15s}")
    for name, row in rows.items():
        print(f"{name:22s} {summary(row['acc']):>15s} {summary(row['bal']):>15s} {summary(row['rec']):>17s} "
              f"{summary(row['acc4']):>15s}")
    print("paper (VGG-19 fine-tuned on a GPU): 88.42 % 'average accuracy'; SVM 82.44 %")


if __name__ == "__main__":
    main(ARMS if len(sys.argv) == 1 else [(a.split("@")[0], int(a.split("@")[1])) for a in sys.argv[1:]])
