"""Lesson 09's checkers: the splits of one folder (split_dataset), the epoch to keep (best_checkpoint) and the loss
weights of an imbalanced folder (class_weights)."""
from .checkpoint import check_best_checkpoint
from .split import check_split_dataset, image_bytes
from .weights import check_class_weights

__all__ = ["check_best_checkpoint", "check_class_weights", "check_split_dataset", "image_bytes"]
