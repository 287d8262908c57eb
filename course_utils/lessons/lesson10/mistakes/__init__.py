"""Lesson 10 catalogue entries: the solar cells' (cells.py) and Grad-CAM's (gradcam.py)."""
from . import cells, gradcam

MISTAKES = cells.MISTAKES + gradcam.MISTAKES
