"""A small, recognisable synthetic picture for demos: a house under a sun, drawn with NumPy."""
from __future__ import annotations

import numpy as np


def demo_image(height: int = 32, width: int = 48) -> np.ndarray:
    """An RGB uint8 image (height x width x 3) whose layout is easy to recognise when scrambled."""
    y, x = np.mgrid[0:height, 0:width]
    image = np.zeros((height, width, 3), dtype=np.float64)
    sky = 1 - y / max(height - 1, 1) * 0.5
    image[..., 0], image[..., 1], image[..., 2] = 0.35 * sky, 0.6 * sky, 0.95 * sky
    ground = y >= int(height * 0.7)
    image[ground] = (0.2, 0.6, 0.2)
    sun = (y - height * 0.2) ** 2 + (x - width * 0.8) ** 2 <= (min(height, width) * 0.14) ** 2
    image[sun] = (1.0, 0.85, 0.1)
    left, right = int(width * 0.2), int(width * 0.5)
    top, bottom = int(height * 0.4), int(height * 0.75)
    image[top:bottom, left:right] = (0.75, 0.15, 0.1)
    door = (y >= int(height * 0.55)) & (y < bottom) & (x >= int(width * 0.31)) & (x < int(width * 0.39))
    image[door] = (0.35, 0.2, 0.1)
    return (image * 255).round().astype(np.uint8)
