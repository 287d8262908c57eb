"""Lesson 02's checkers: one optimisation step (train_step) and accuracy over a loader (evaluate)."""
from .evaluate import check_evaluate
from .train_step import check_train_step

__all__ = ["check_evaluate", "check_train_step"]
