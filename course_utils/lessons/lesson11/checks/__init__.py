"""Lesson 11's checkers: an epoch's shares (shard_indices) and a metric over every rank's share (global_accuracy)."""
from .shards import check_global_accuracy, check_shard_indices

__all__ = ["check_global_accuracy", "check_shard_indices"]
