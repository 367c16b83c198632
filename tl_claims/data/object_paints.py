"""The objects family's paints: one palette shared by all five classes, with mildly different per-class odds, and
the colour helpers every part of the family draws with (objects, rooms, clutter).

Its own helpers, not the flowers' (`flower_species.py`): the two families share no picture code, so an artefact of
one generator is not silently repeated in the other.
"""

from __future__ import annotations

import colorsys

import numpy as np

Colour = tuple[int, int, int]

PAINTS: dict[str, Colour] = {
    "red": (196, 30, 36),
    "orange": (232, 120, 30),
    "yellow": (236, 200, 48),
    "green": (58, 140, 70),
    "teal": (30, 138, 140),
    "blue": (40, 84, 176),
    "navy": (28, 36, 84),
    "purple": (110, 58, 140),
    "pink": (226, 130, 160),
    "white": (236, 236, 230),
    "cream": (236, 222, 186),
    "grey": (128, 128, 130),
    "black": (34, 34, 38),
    "silver": (186, 190, 196),
    "wood": (150, 98, 54),
    "dark wood": (92, 56, 30),
}
# Per-class weights over the shared palette: every class can take every paint, with mildly different odds.
_EVEN = dict.fromkeys(PAINTS, 2)
PAINT_WEIGHTS: dict[str, dict[str, float]] = {
    "bicycle": {**_EVEN, "red": 3, "blue": 3, "black": 3, "wood": 1, "dark wood": 1},
    "chair": {**_EVEN, "wood": 4, "dark wood": 3, "white": 3, "silver": 1},
    "mug": {**_EVEN, "white": 4, "cream": 3, "wood": 1, "dark wood": 1},
    "teapot": {**_EVEN, "white": 3, "silver": 3, "cream": 3, "dark wood": 1},
    "umbrella": {**_EVEN, "black": 4, "navy": 3, "red": 3, "wood": 1, "dark wood": 1},
}


def paint(class_name: str, rng: np.random.Generator) -> Colour:
    weights = PAINT_WEIGHTS[class_name]
    names = list(weights)
    p = np.array([weights[n] for n in names], dtype=float)
    return vary(PAINTS[names[rng.choice(len(names), p=p / p.sum())]], rng)


def any_paint(rng: np.random.Generator) -> Colour:
    return vary(PAINTS[list(PAINTS)[int(rng.integers(len(PAINTS)))]], rng)


def vary(rgb: Colour, rng: np.random.Generator, hue: float = 0.025, sat: float = 0.2, val: float = 0.18) -> Colour:
    """A nearby colour: no two objects share an exact paint."""
    h, s, v = colorsys.rgb_to_hsv(*(c / 255 for c in rgb))
    h = (h + rng.uniform(-hue, hue)) % 1.0
    s = float(np.clip(s * rng.uniform(1 - sat, 1 + sat), 0, 1))
    v = float(np.clip(v * rng.uniform(1 - val, 1 + val), 0, 1))
    r, g, b = (round(c * 255) for c in colorsys.hsv_to_rgb(h, s, v))
    return r, g, b


def tone(rgb: Colour, factor: float) -> Colour:
    """Darker below 1, lighter (towards white) above 1."""
    if factor <= 1:
        r, g, b = (int(c * factor) for c in rgb)
    else:
        r, g, b = (int(c + (255 - c) * min(factor - 1, 1)) for c in rgb)
    return r, g, b


def tyre_colour(rng: np.random.Generator) -> Colour:
    return vary((40, 40, 42), rng) if rng.random() < 0.8 else vary((196, 170, 120), rng)
