"""Lesson 10's checkers: grad_cam (gradcam.py) and threshold_for_recall (threshold.py)."""
from .gradcam import cam_images, cam_model, check_grad_cam
from .threshold import check_threshold_for_recall

__all__ = ["cam_images", "cam_model", "check_grad_cam", "check_threshold_for_recall"]
