"""Lesson 04's checkers: the two transform pipelines (build_transforms) and the loaders (make_loaders)."""
from .loaders import check_make_loaders
from .transforms import check_build_transforms

__all__ = ["check_build_transforms", "check_make_loaders"]
