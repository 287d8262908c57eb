"""Evaluation helpers of lesson 08 against straightforward references."""
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course_utils.training.evaluation import confusion_matrix, per_class_accuracy, predict_loader, top_k_accuracy


def reference_matrix(preds, targets, k):
    matrix = torch.zeros(k, k, dtype=torch.int64)
    for t, p in zip(targets.tolist(), preds.tolist()):
        matrix[t, p] += 1
    return matrix


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.int16, torch.uint8])
@pytest.mark.parametrize("seed", range(5))
def test_confusion_matrix_matches_a_loop_for_any_integer_dtype(dtype, seed):
    g = torch.Generator().manual_seed(seed)
    k = int(torch.randint(1, 8, (1,), generator=g)) + 2
    n = int(torch.randint(0, 30, (1,), generator=g))
    preds, targets = torch.randint(0, k - 1, (n,), generator=g), torch.randint(0, k - 1, (n,), generator=g)
    out = confusion_matrix(preds.to(dtype), targets.to(dtype), k)                # class k-1 never occurs
    assert out.dtype == torch.int64 and torch.equal(out, reference_matrix(preds, targets, k))


def test_per_class_accuracy_is_recall_and_nan_for_an_absent_class():
    matrix = torch.tensor([[3, 1, 0], [0, 2, 0], [0, 0, 0]])
    values = per_class_accuracy(matrix)
    assert values[:2].tolist() == [0.75, 1.0] and torch.isnan(values[2])


def test_top_k_accuracy_counts_the_true_class_among_the_k_largest():
    logits = torch.tensor([[3.0, 2.0, 1.0], [1.0, 3.0, 2.0], [1.0, 2.0, 3.0]])
    targets = torch.tensor([1, 1, 0])
    assert top_k_accuracy(logits, targets, 1) == 1 / 3
    assert top_k_accuracy(logits, targets, 2) == 2 / 3
    assert top_k_accuracy(logits, targets, 3) == 1.0
    with pytest.raises(ValueError, match="1 <= k <= 3"):
        top_k_accuracy(logits, targets, 4)


def test_predict_loader_runs_in_eval_mode_and_gives_the_modes_back():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Dropout(0.5), nn.Linear(8, 3)).train()
    data = TensorDataset(torch.randn(10, 4), torch.arange(10) % 3)
    result = predict_loader(model, DataLoader(data, batch_size=4))
    assert model.training and all(m.training for m in model.modules())
    with torch.no_grad():
        expected = model.eval()(data.tensors[0])
    assert torch.allclose(result.logits, expected) and torch.equal(result.targets, data.tensors[1])
    assert result.accuracy == (expected.argmax(1) == data.tensors[1]).sum().item() / 10
