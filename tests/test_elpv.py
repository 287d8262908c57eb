"""The ELPV solar cells offline: the reader (ImageFolder's attributes, two label schemes), the paper-sized stratified
split, `course data elpv DIR`, and `course doctor`'s line."""
from collections import Counter

import pytest
import torch
from hypothesis import given, settings, strategies as st
from torchvision import datasets, transforms

from course_utils.cli import main
from course_utils.cli.doctor import check_solar_cells
from course_utils.data import elpv
from course_utils.data.elpv import CELLS, SolarCells, paper_split, read_cells, stratified_split


@pytest.fixture(scope="module")
def cells():
    return SolarCells()


def test_the_reader_has_imagefolders_attributes_and_the_published_counts(cells):
    assert len(cells) == CELLS == 2624
    assert cells.classes == ["functional", "defective"] and cells.class_to_idx == {"functional": 0, "defective": 1}
    assert [target for _, target in cells.samples] == cells.targets
    assert Counter(cells.targets) == {0: 1803, 1: 821}                      # defective: probability 2/3 or 1
    assert Counter(cells.types) == {"mono": 1074, "poly": 1550}
    levels = SolarCells("levels")
    assert Counter(levels.targets) == {0: 1508, 1: 295, 2: 106, 3: 715}
    assert all((p >= 0.5) == bool(b) for p, b in zip(levels.probabilities, cells.targets))


def test_a_cell_opens_as_three_equal_gray_channels_for_any_imagenet_transform(cells):
    image, target = cells[0]
    assert image.size == (300, 300) and image.mode == "RGB" and target in (0, 1)
    red, green, blue = image.split()
    assert red.tobytes() == green.tobytes() == blue.tobytes()
    preset = transforms.Compose([transforms.Resize(64), transforms.ToTensor(),
                                 transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    tensor, _ = SolarCells(transform=preset)[0]
    assert tensor.shape == (3, 64, 64)


def test_an_unknown_label_scheme_lists_the_choices():
    with pytest.raises(ValueError, match="'binary', 'levels'"):
        SolarCells("four")


def test_the_paper_split_has_its_sizes_and_keeps_every_level_and_type_in_proportion(cells):
    split = paper_split(cells)
    train, test = split["train"], split["test"]
    assert (len(train), len(test)) == (1968, 656) and not set(train) & set(test)
    assert sorted(train + test) == list(range(CELLS))
    strata = cells.strata()
    everywhere, in_test = Counter(strata), Counter(strata[i] for i in test)
    for stratum, count in everywhere.items():
        assert abs(in_test[stratum] - count / 4) < 1, (stratum, in_test[stratum], count)
    assert paper_split(cells) == split and paper_split(cells, seed=1) != split


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=1, max_size=80),
       st.lists(st.integers(1, 6), min_size=1, max_size=4), st.integers(0, 3))
def test_a_stratified_split_uses_every_index_once_with_totals_that_add_up(strata, weights, seed):
    fractions = {f"s{i}": w / sum(weights) for i, w in enumerate(weights)}
    split = stratified_split(strata, fractions, seed)
    assert sorted(i for indices in split.values() for i in indices) == list(range(len(strata)))
    for name, share in fractions.items():   # the whole: its share, rounded
        assert abs(len(split[name]) - share * len(strata)) < 1, (name, len(split[name]))
        for stratum in set(strata):         # every stratum: its share rounded down or up (rarely one more)
            members = [i for i, s in enumerate(strata) if s == stratum]
            assert abs(len(set(split[name]) & set(members)) - share * len(members)) < 2


def test_three_splits_of_small_strata_get_their_exact_sizes():
    split = stratified_split([0, 0, 0, 1, 1, 1, 2, 2, 2], {"train": 0.6, "val": 0.2, "test": 0.2})
    assert [len(split[name]) for name in ("train", "val", "test")] == [5, 2, 2]


def test_fractions_that_do_not_add_up_are_refused():
    with pytest.raises(ValueError, match="add up to 1"):
        stratified_split([0, 1], {"train": 0.7, "test": 0.2})


def test_a_damaged_labels_file_names_its_line(tmp_path):
    (tmp_path / "labels.csv").write_text("images/cell0001.png 1.0 mono\nimages/cell0002.png\n")
    with pytest.raises(ValueError, match="line 2"):
        read_cells(tmp_path)


def test_without_the_package_the_message_says_how_to_install_it(monkeypatch):
    def missing(name):
        raise ModuleNotFoundError(name)

    monkeypatch.setattr(elpv.resources, "files", missing)
    with pytest.raises(elpv.ElpvMissing, match="pip install elpv-dataset==1.0.0.post1"):
        SolarCells()
    assert check_solar_cells().ok is False


def test_course_data_writes_class_folders_that_imagefolder_reads_in_level_order(tmp_path, capsys):
    target = tmp_path / "cells"
    assert main(["data", "elpv", str(target), "--labels", "levels"]) == 0
    assert "2624 images written" in capsys.readouterr().out
    folder = datasets.ImageFolder(target)
    assert folder.classes == ["0_of_3", "1_of_3", "2_of_3", "3_of_3"]
    assert Counter(folder.targets) == Counter(SolarCells("levels").targets)
    attribution = (target / "ATTRIBUTION.txt").read_text()
    assert "CC BY-NC-SA 4.0" in attribution and "Solar Energy 185" in attribution
    assert main(["data", "elpv", str(target)]) == 2                    # never written over
    assert "not an empty folder" in capsys.readouterr().err


def test_doctor_reports_the_cells_and_a_missing_file(tmp_path):
    assert check_solar_cells().ok is True
    (tmp_path / "labels.csv").write_text("images/cell0001.png 1.0 mono\n")
    check = check_solar_cells(tmp_path)
    assert check.ok is False and "1 files missing" in check.detail and "pip install" in check.fix


def test_levels_and_binary_agree_with_the_probabilities(cells):
    probabilities = torch.tensor(cells.probabilities)
    assert set(probabilities.mul(3).round().int().tolist()) == {0, 1, 2, 3}
    assert torch.equal(torch.tensor(cells.targets).bool(), probabilities >= 0.5)


def test_scores_count_what_an_inspection_needs():
    from course_utils.training.probe import scores

    targets = torch.tensor([0, 0, 0, 0, 0, 0, 1, 1, 1, 1])
    everything_functional = scores(torch.zeros(10, dtype=torch.long), targets, 2)
    assert everything_functional.accuracy == 0.6 and everything_functional.balanced_accuracy == 0.5
    assert everything_functional.recall == 0.0 and everything_functional.precision != everything_functional.precision
    some = scores(torch.tensor([0, 0, 0, 0, 1, 1, 1, 1, 1, 0]), targets, 2)   # 2 false alarms, 1 missed defect
    assert some.accuracy == 0.7 and some.recall == 0.75 and some.precision == 0.6
    assert abs(some.balanced_accuracy - (4 / 6 + 3 / 4) / 2) < 1e-12


def test_a_seeded_head_on_features_is_reproducible_and_learns(tmp_path):
    from course_utils.training.probe import fit_head, probabilities

    g = torch.Generator().manual_seed(0)
    targets = torch.randint(0, 2, (120,), generator=g)
    features = torch.randn(120, 8, generator=g) * 5 + 40 + targets[:, None] * torch.tensor([15.0] + [0.0] * 7)
    first, again = fit_head(features, targets, 2, seed=1), fit_head(features, targets, 2, seed=1)
    assert torch.equal(probabilities(first, features), probabilities(again, features))
    assert (probabilities(first, features).argmax(1) == targets).float().mean() > 0.85


@pytest.mark.parametrize("n, batch_size", [(130, 64), (128, 64), (5, 8)])
def test_shuffled_batches_are_those_a_shuffling_dataloader_yields(n, batch_size):
    from torch.utils.data import DataLoader, TensorDataset

    from course_utils.training.probe import shuffled_batches

    ours, theirs = torch.Generator().manual_seed(7), torch.Generator().manual_seed(7)
    loader = DataLoader(TensorDataset(torch.arange(n)), batch_size=batch_size, shuffle=True, generator=theirs)
    for _ in range(3):  # epoch after epoch, the two generators in step
        assert [b.tolist() for b in shuffled_batches(n, batch_size, ours)] == [x.tolist() for (x,) in loader]
    assert torch.equal(ours.get_state(), theirs.get_state())


def test_cell_features_are_computed_once_per_machine(tmp_path, monkeypatch):
    from course_utils.models.cell_features import cell_features

    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))
    features, what = cell_features("random", 16, progress=False)
    assert features.shape == (2624, 512) and "now cached" in what
    again, what = cell_features("random", 16, progress=False)
    assert torch.equal(again, features) and "(cached)" in what
    with pytest.raises(ValueError, match="'imagenet', 'shapes', 'random'"):
        cell_features("vgg", 16)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 20), st.booleans()), min_size=1, max_size=40),
       st.sampled_from([0.1, 0.3, 0.5, 0.7, 0.9, 0.95, 1.0]))
def test_threshold_for_recall_is_the_largest_score_that_reaches_the_recall(samples, recall):
    from course_utils.training.probe import threshold_for_recall

    scores = torch.tensor([s / 20 for s, _ in samples])
    targets = torch.tensor([int(p) for _, p in samples])
    if targets.sum() == 0:
        with pytest.raises(ValueError, match="no positive"):
            threshold_for_recall(scores, targets, recall)
        return
    found = lambda t: ((scores >= t) & (targets == 1)).sum().item() / targets.sum().item()  # noqa: E731
    reaching = [t for t in scores.tolist() if found(t) >= recall - 1e-12]
    assert threshold_for_recall(scores, targets, recall) == max(reaching)


def test_threshold_for_recall_refuses_a_recall_outside_zero_to_one():
    from course_utils.training.probe import threshold_for_recall

    for recall in (0, 1.5, -0.1, "0.9"):
        with pytest.raises(ValueError, match=r"\(0, 1\]"):
            threshold_for_recall(torch.tensor([0.2, 0.8]), torch.tensor([0, 1]), recall)
