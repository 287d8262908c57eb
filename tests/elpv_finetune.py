"""Measure lesson 10's fine-tuned arm beyond what the notebook runs (not a test: `python tests/elpv_finetune.py`).

Lite0's last block fine-tuned on the cells' cached trunk as in lesson 10 (four levels as targets, 3 epochs, the
epoch chosen on validation), at 128 px and at 224 px, and at 128 px with a second version of every cell under one
of the 8 symmetries of a square (drawn once per cell): as augmentation (epochs alternate the versions) and as
test-time augmentation (the test cells' probabilities averaged over both versions). Paired gaps against the
lesson's arm, on the same three seeds' test cells.
"""
import time

import torch
from torch.utils.data import DataLoader

from course_utils.data.elpv import SolarCells
from course_utils.data.generated import cache_dir
from course_utils.models.backbone import atomic_save
from course_utils.models.cell_features import _Trunk, _body_of, cell_trunk, lite0_for_cells
from course_utils.models.features import extract_features
from course_utils.models.pretrained import Preset
from course_utils.training import cells as benchmark
from course_utils.training.cell_finetune import finetune_arm
from course_utils.training.tta import symmetries


def symmetric_trunk(size: int) -> torch.Tensor:
    """The trunk's outputs for every cell turned by one of its 8 symmetries, drawn once per cell (seed 0)."""
    path = cache_dir() / "features" / f"elpv-imagenet-trunk-symmetric-{size}px.pt"
    if path.is_file():
        return torch.load(path, weights_only=True)
    model, preset = lite0_for_cells()
    preset = Preset(crop_size=size, resize_size=size, mean=preset.mean, std=preset.std,
                    interpolation=preset.interpolation)
    choice = torch.randint(8, (2624,), generator=torch.Generator().manual_seed(0))

    class Turned(torch.utils.data.Dataset):
        def __init__(self):
            self.cells = SolarCells(transform=preset)

        def __len__(self):
            return len(self.cells)

        def __getitem__(self, i):
            image, target = self.cells[i]
            return symmetries(image.unsqueeze(0))[int(choice[i])][0], target

    outputs = extract_features(_Trunk(model), DataLoader(Turned(), batch_size=64), progress=True,
                               desc=f"symmetric trunk, {size} px", channels_last=True).tensors[0]
    atomic_save(outputs, path)
    return outputs


def main() -> None:
    cells, levels = SolarCells("binary"), SolarCells("levels")
    splits = benchmark.Splits.draw(cells, seeds=(0, 1, 2))
    arms = []
    for size in (128, 224):
        start = time.perf_counter()
        trunk, what = cell_trunk(size)
        features = _body_of(trunk)[0]
        print(f"{size} px: {what}; {time.perf_counter() - start:.0f} s", flush=True)
        start = time.perf_counter()
        arms.append(finetune_arm(f"tuned, 4 levels, {size} px", trunk, features, cells, levels, splits,
                                 targets="levels"))
        print(f"  trained in {time.perf_counter() - start:.0f} s", flush=True)
        if size == 128:
            start = time.perf_counter()
            turned = symmetric_trunk(size)
            print(f"  symmetric trunk: {time.perf_counter() - start:.0f} s", flush=True)
            for tta in (False, True):
                arms.append(finetune_arm(f"tuned, 4 levels, 128 px, symmetries{' + TTA' if tta else ''}",
                                         [trunk, turned], features, cells, levels, splits, epochs=4,
                                         targets="levels", tta=tta))
    print(benchmark.table(arms))
    gaps = benchmark.comparison(arms, cells)
    for arm in arms[1:]:
        print(gaps.gap(arm.name, arms[0].name))
    for arm in arms:
        print(arm.name, "| epochs chosen:", ", ".join(s.settings.split(" (")[0] for s in arm.seeded),
              f"| {sum(s.seconds for s in arm.seeded):.0f} s for 3 seeds")


if __name__ == "__main__":
    main()
