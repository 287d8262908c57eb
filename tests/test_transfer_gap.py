"""The generated target task is hard enough that a CNN from scratch clearly loses to the pretrained backbone."""
import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from course_utils.data import course_dataset
from course_utils.lessons.lesson03.exercises import build_cnn
from course_utils.pretrained import pretrained_resnet18
from course_utils.training import fit


def _linear_probe_accuracy(root) -> float:
    backbone, weights = pretrained_resnet18("course", progress=False)
    backbone.fc = nn.Identity()
    backbone.eval()

    def features(split):
        data = datasets.ImageFolder(root / split, transform=weights.transforms())
        with torch.no_grad():
            return torch.cat([backbone(x) for x, _ in DataLoader(data, batch_size=128)]), torch.tensor(data.targets)

    (train_x, train_y), (val_x, val_y) = features("train"), features("val")
    torch.manual_seed(0)
    head = nn.Linear(train_x.shape[1], 5)
    optimizer = torch.optim.Adam(head.parameters(), lr=0.01)
    for _ in range(300):
        optimizer.zero_grad()
        nn.functional.cross_entropy(head(train_x), train_y).backward()
        optimizer.step()
    return (head(val_x).argmax(1) == val_y).float().mean().item()


def _scratch_accuracy(root) -> float:
    normalize = transforms.Normalize([0.5] * 3, [0.25] * 3)
    train = datasets.ImageFolder(root / "train", transforms.Compose([transforms.RandomHorizontalFlip(),
                                                                     transforms.ToTensor(), normalize]))
    val = datasets.ImageFolder(root / "val", transforms.Compose([transforms.ToTensor(), normalize]))
    torch.manual_seed(0)
    model = build_cnn(5)
    history = fit(model, DataLoader(train, batch_size=20, shuffle=True), DataLoader(val, batch_size=125),
                  torch.optim.Adam(model.parameters(), lr=1e-3), epochs=30, progress=False)
    return history.best_val_accuracy  # even its best epoch, chosen with hindsight


def test_transfer_clearly_beats_training_from_scratch():
    root = course_dataset(progress=False)
    transfer, scratch = _linear_probe_accuracy(root), _scratch_accuracy(root)
    assert transfer > 0.7, transfer
    assert transfer > scratch + 0.25, (transfer, scratch)
