"""Procedural shape images: the raw material of the course's generated datasets.

Every image is one textured object on a cluttered, coloured background. Classes differ only
in the object's outline; colour, texture, size, rotation, position and clutter are nuisances.
The source task (pretraining) and the target task (the course's dataset) use disjoint shapes,
so a backbone must *transfer* what it learned about edges, corners and outlines.
"""
from __future__ import annotations

import numpy as np


def _polygon(u, v, sides: int, radius: float = 0.9):
    angle = np.arctan2(v, u)
    r = np.hypot(u, v)
    sector = 2 * np.pi / sides
    # distance to the edge of a regular polygon along this angle
    edge = radius * np.cos(np.pi / sides) / np.cos((angle % sector) - sector / 2)
    return r <= edge


def _star(u, v, points: int, inner: float = 0.45):
    angle = np.arctan2(v, u)
    r = np.hypot(u, v)
    t = np.abs(((angle * points / (2 * np.pi)) % 1) - 0.5) * 2  # 1 at a tip, 0 between tips
    return r <= inner + (0.95 - inner) * t ** 1.5


def _box(u, v, x0, x1, y0, y1):
    return (u >= x0) & (u <= x1) & (v >= y0) & (v <= y1)


# Each shape maps rotated, scaled coordinates (u, v in about [-1, 1]) to a boolean mask.
SHAPES = {
    # source task: used only to pretrain the course backbone
    "circle": lambda u, v: u * u + v * v <= 0.8,
    "square": lambda u, v: (np.abs(u) <= 0.7) & (np.abs(v) <= 0.7),
    "triangle": lambda u, v: _polygon(u, v, 3, 0.95),
    "pentagon": lambda u, v: _polygon(u, v, 5),
    "hexagon": lambda u, v: _polygon(u, v, 6),
    "star5": lambda u, v: _star(u, v, 5),
    "plus": lambda u, v: _box(u, v, -0.28, 0.28, -0.9, 0.9) | _box(u, v, -0.9, 0.9, -0.28, 0.28),
    "ring": lambda u, v: (u * u + v * v <= 0.85) & (u * u + v * v >= 0.3),
    "ellipse": lambda u, v: (u / 0.95) ** 2 + (v / 0.5) ** 2 <= 1,
    "semicircle": lambda u, v: (u * u + v * v <= 0.85) & (v >= -0.1),
    "star4": lambda u, v: _star(u, v, 4, 0.35),
    "arrow": lambda u, v: _box(u, v, -0.9, 0.1, -0.2, 0.2) | ((u >= 0.1) & (np.abs(v) <= 0.9 - u * 0.9 - 0.0) & (u <= 0.95)),
    "heart": lambda u, v: ((1.3 * u) ** 2 + (1.3 * -v) ** 2 - 1) ** 3 - (1.3 * u) ** 2 * (1.3 * -v) ** 3 <= 0,
    "ell": lambda u, v: _box(u, v, -0.7, -0.25, -0.9, 0.9) | _box(u, v, -0.7, 0.7, 0.45, 0.9),
    "aitch": lambda u, v: _box(u, v, -0.8, -0.4, -0.9, 0.9) | _box(u, v, 0.4, 0.8, -0.9, 0.9) | _box(u, v, -0.8, 0.8, -0.2, 0.2),
    "two_dots": lambda u, v: ((u + 0.45) ** 2 + v * v <= 0.16) | ((u - 0.45) ** 2 + v * v <= 0.16),
    # target task: the course's dataset, never seen during pretraining
    "crescent": lambda u, v: (u * u + v * v <= 0.85) & ((u - 0.4) ** 2 + (v - 0.1) ** 2 >= 0.5),
    "tee": lambda u, v: _box(u, v, -0.9, 0.9, -0.9, -0.5) | _box(u, v, -0.22, 0.22, -0.9, 0.9),
    "frame": lambda u, v: _box(u, v, -0.8, 0.8, -0.8, 0.8) & ~_box(u, v, -0.45, 0.45, -0.45, 0.45),
    "trefoil": lambda u, v: _trefoil(u, v),
    "hourglass": lambda u, v: (np.abs(u) <= np.abs(v) * 0.9 + 0.08) & (np.abs(v) <= 0.9),
}


def _trefoil(u, v):
    mask = np.zeros_like(u, dtype=bool)
    for k in range(3):
        a = 2 * np.pi * k / 3
        mask |= (u - 0.42 * np.cos(a)) ** 2 + (v - 0.42 * np.sin(a)) ** 2 <= 0.2
    return mask


SOURCE_CLASSES = ("circle", "square", "triangle", "pentagon", "hexagon", "star5", "plus", "ring", "ellipse",
                  "semicircle", "star4", "arrow", "heart", "ell", "aitch", "two_dots")
TARGET_CLASSES = ("crescent", "frame", "hourglass", "tee", "trefoil")


def _texture(kind: int, u, v, rng) -> np.ndarray:
    """A 0..1 pattern in object coordinates: solid, stripes, checks or dots."""
    freq = rng.uniform(3, 7)
    if kind == 0:
        return np.ones_like(u)
    if kind == 1:
        return (np.sin(u * freq * np.pi) > 0).astype(float)
    if kind == 2:
        return ((np.floor(u * freq) + np.floor(v * freq)) % 2).astype(float)
    return ((np.sin(u * freq * np.pi) * np.sin(v * freq * np.pi)) > 0.3).astype(float)


def render(shape: str, size: int, rng: np.random.Generator, clutter: tuple[int, int] = (2, 6),
           scale: tuple[float, float] = (0.45, 0.75), supersample: int = 2) -> np.ndarray:
    """One size x size x 3 uint8 image of ``shape`` with random nuisances drawn from ``rng``.

    ``clutter`` bounds the number of distracting strokes, ``scale`` the object's size.
    """
    n = size * supersample
    axis = (np.arange(n) + 0.5) / n * 2 - 1
    y, x = np.meshgrid(axis, axis, indexing="ij")

    # background: a gradient between two random colours plus a few clutter strokes
    c0, c1 = rng.uniform(0, 1, 3), rng.uniform(0, 1, 3)
    direction = rng.uniform(0, 2 * np.pi)
    t = (np.cos(direction) * x + np.sin(direction) * y + 1.5) / 3
    image = c0 * (1 - t[..., None]) + c1 * t[..., None]
    for _ in range(rng.integers(*clutter)):
        a, offset, width = rng.uniform(0, np.pi), rng.uniform(-1, 1), rng.uniform(0.02, 0.06)
        line = np.abs(np.cos(a) * x + np.sin(a) * y - offset) < width
        image[line] = rng.uniform(0, 1, 3)

    # the object: random scale, rotation, position, colours and texture
    scale = rng.uniform(*scale)
    angle = rng.uniform(0, 2 * np.pi)
    cx, cy = rng.uniform(-0.9 + scale, 0.9 - scale, 2)
    xr, yr = (x - cx) / scale, (y - cy) / scale
    u = np.cos(angle) * xr + np.sin(angle) * yr
    v = -np.sin(angle) * xr + np.cos(angle) * yr
    mask = SHAPES[shape](u, v)
    fg0, fg1 = rng.uniform(0, 1, 3), rng.uniform(0, 1, 3)
    pattern = _texture(int(rng.integers(0, 4)), u, v, rng)[..., None]
    image = np.where(mask[..., None], fg0 * pattern + fg1 * (1 - pattern), image)

    image = image.reshape(size, supersample, size, supersample, 3).mean(axis=(1, 3))  # anti-alias
    image = image + rng.normal(0, 0.03, image.shape)
    return (np.clip(image, 0, 1) * 255).round().astype(np.uint8)
