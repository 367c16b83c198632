"""The five species of the `flowers` family and what they are drawn with: the shared palette with its overlapping
per-class weights, colour jitter, the `Pen` (a flower's local frame, tilted and rotated) and the petal shapes.

Kept apart from the scene (`flowers.py`: background, stems, occluders, camera) so that what makes a class, shape and
structure, reads in one place. Every function draws from the caller's rng in a fixed order: the pictures are a pure
function of that order, so a change here changes the pictures (bump `flowers.GENERATOR_VERSION`).
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np
from PIL import ImageDraw

PALETTE = {
    "white": (246, 245, 238),
    "cream": (248, 236, 196),
    "yellow": (250, 212, 40),
    "gold": (238, 168, 22),
    "orange": (242, 118, 24),
    "red": (200, 24, 34),
    "crimson": (140, 12, 44),
    "pink": (240, 146, 178),
    "magenta": (196, 42, 132),
    "purple": (112, 44, 142),
    "lilac": (186, 160, 222),
}
# Per-class petal colour weights over the shared palette: every class can take every colour, so colour overlaps.
PETAL_COLOURS = {
    "daisy": {
        "white": 3,
        "cream": 2,
        "pink": 2,
        "lilac": 2,
        "yellow": 2,
        "purple": 1,
        "magenta": 1,
        "orange": 1,
        "red": 1,
    },
    "dandelion": {"yellow": 3, "gold": 2, "white": 2, "cream": 2, "orange": 1, "lilac": 1, "pink": 1, "red": 1},
    "roses": {
        "red": 2,
        "pink": 2,
        "white": 2,
        "yellow": 2,
        "crimson": 1,
        "orange": 1,
        "cream": 1,
        "magenta": 1,
        "gold": 1,
    },
    "sunflowers": {"yellow": 3, "gold": 2, "orange": 2, "red": 1, "cream": 1, "crimson": 1, "white": 1, "pink": 1},
    "tulips": {
        "red": 2,
        "pink": 2,
        "yellow": 2,
        "white": 2,
        "purple": 1,
        "orange": 2,
        "magenta": 1,
        "lilac": 1,
        "cream": 1,
    },
}
CENTRE_COLOURS = {
    "brown": (92, 56, 24),
    "dark": (40, 26, 16),
    "olive": (96, 96, 30),
    "yellow": (236, 190, 30),
    "orange": (226, 128, 24),
    "green": (120, 150, 50),
}


# ---------------------------------------------------------------------------------------------------- colours


def jitter(rgb: tuple[int, int, int], rng: np.random.Generator, hue=0.03, sat=0.15, val=0.15) -> tuple[int, ...]:
    """The colour with small random hue, saturation and value shifts: no two flowers share an exact colour."""
    h, s, v = colorsys.rgb_to_hsv(*(c / 255 for c in rgb))
    h = (h + rng.uniform(-hue, hue)) % 1.0
    s = float(np.clip(s * rng.uniform(1 - sat, 1 + sat), 0, 1))
    v = float(np.clip(v * rng.uniform(1 - val, 1 + val), 0, 1))
    return tuple(round(c * 255) for c in colorsys.hsv_to_rgb(h, s, v))


def shade(rgb: tuple[int, ...], factor: float) -> tuple[int, ...]:
    """Darker (factor < 1) or lighter (factor > 1, towards white) version of a colour."""
    if factor <= 1:
        return tuple(int(c * factor) for c in rgb)
    return tuple(int(c + (255 - c) * (factor - 1)) for c in rgb)


def pick(weights: dict[str, float], rng: np.random.Generator) -> str:
    names = list(weights)
    p = np.array([weights[n] for n in names], dtype=float)
    return names[rng.choice(len(names), p=p / p.sum())]


def petal_colour(class_name: str, rng: np.random.Generator) -> tuple[int, ...]:
    return jitter(PALETTE[pick(PETAL_COLOURS[class_name], rng)], rng)


# ---------------------------------------------------------------------------------------------------- geometry


@dataclass
class Pen:
    """Draws shapes given in a flower's local frame (unit = flower radius) with a tilt, a rotation and a position.

    Tilt squashes the local y axis (a flower seen at an angle), then the shape is rotated and moved to (cx, cy).
    """

    draw: ImageDraw.ImageDraw
    cx: float
    cy: float
    radius: float
    angle: float = 0.0
    squash: float = 1.0

    def place(self, points: np.ndarray) -> np.ndarray:
        """Local (..., 2) points -> canvas (..., 2) points."""
        local = np.asarray(points, dtype=np.float64) * [self.radius, self.radius * self.squash]
        c, s = np.cos(self.angle), np.sin(self.angle)
        x = local[..., 0] * c - local[..., 1] * s + self.cx
        y = local[..., 0] * s + local[..., 1] * c + self.cy
        return np.stack([x, y], axis=-1)

    def polygon(self, points: np.ndarray, fill, outline=None, width: int = 1) -> None:
        self.draw.polygon(self.place(points).ravel().tolist(), fill=fill, outline=outline, width=width)

    def polygons(self, shapes: np.ndarray, fills: list, outline=None) -> None:
        """Many polygons of the same vertex count, (n, k, 2), placed in one vectorised step."""
        for points, fill in zip(self.place(shapes).reshape(len(shapes), -1).tolist(), fills):
            self.draw.polygon(points, fill=fill, outline=outline)

    def disc(self, x: float, y: float, r: float, fill, outline=None, width: int = 1) -> None:
        self.polygon(circle(r, 24) + [x, y], fill, outline, width)

    def dots(self, centres: np.ndarray, r: float, fills: list) -> None:
        """Small round dots (seed or pollen texture); tiny enough that the tilt does not matter."""
        pixel_r = max(r * self.radius, 0.6)
        for (x, y), fill in zip(self.place(centres).tolist(), fills):
            self.draw.ellipse([x - pixel_r, y - pixel_r, x + pixel_r, y + pixel_r], fill=fill)

    def line(self, points: np.ndarray, fill, width: float) -> None:
        pixels = max(int(width * self.radius), 1)
        self.draw.line(self.place(points).ravel().tolist(), fill=fill, width=pixels, joint="curve")


def circle(r: float, n: int) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([r * np.cos(t), r * np.sin(t)], axis=1)


def rotate(points: np.ndarray, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return points @ np.array([[c, s], [-s, c]])


def petal_profile(profile: str, n: int = 10) -> np.ndarray:
    """Outline of a unit petal (length 1, width 1) along +x, symmetric about the x axis: (2n, 2) points."""
    t = np.linspace(0.0, 1.0, n)
    half = {
        "ellipse": np.sin(np.pi * t),
        "pointed": np.sin(np.pi * t) ** 0.7 * (1 - t) ** 0.4 / 0.75,
        "round": np.sqrt(np.sin(np.pi * np.clip(t * 0.85, 0, 1))) * (1 - t**6),
        "strap": np.minimum(1.0, 6 * t) * np.minimum(1.0, 6 * (1 - t) + 0.4),
    }[profile]
    upper = np.stack([t, np.clip(half, 0, 1.2) / 2], axis=1)
    return np.concatenate([upper, (upper * [1, -1])[::-1]])


PROFILES = {name: petal_profile(name) for name in ("ellipse", "pointed", "round", "strap")}


def petal_shape(length: float, width: float, profile: str) -> np.ndarray:
    """A petal along +x from 0 to `length`."""
    return PROFILES[profile] * [length, width]


def petal_ring(
    pen: Pen,
    count: int,
    start: float,
    length: float,
    width: float,
    profile: str,
    colour,
    rng,
    phase: float | None = None,
) -> None:
    """`count` petals evenly around the centre, each from radius `start` outwards, with per-petal variation."""
    phase = rng.uniform(0, 2 * np.pi) if phase is None else phase
    angles = phase + 2 * np.pi * np.arange(count) / count + rng.normal(0, 0.06, count)
    sizes = np.stack([length * rng.uniform(0.88, 1.1, count), width * rng.uniform(0.85, 1.15, count)], axis=1)
    shapes = PROFILES[profile][None] * sizes[:, None, :] + [start, 0]
    c, s = np.cos(angles)[:, None], np.sin(angles)[:, None]
    rotated = np.stack([shapes[..., 0] * c - shapes[..., 1] * s, shapes[..., 0] * s + shapes[..., 1] * c], axis=-1)
    tones = rng.uniform(0.82, 1.08, count)
    pen.polygons(rotated, [shade(colour, tone) for tone in tones], outline=shade(colour, 0.7))


# ---------------------------------------------------------------------------------------------------- species


def draw_daisy(pen: Pen, rng: np.random.Generator) -> None:
    """One or two rings of many thin, long petals around a small, finely dotted centre."""
    colour = petal_colour("daisy", rng)
    centre = rng.uniform(0.16, 0.28)
    count = int(rng.integers(16, 30))
    for layer in range(int(rng.integers(1, 3))):
        width = rng.uniform(0.1, 0.17)
        petal_ring(
            pen,
            count,
            centre * 0.6,
            1.0 - centre * 0.6 - 0.08 * layer,
            width,
            "ellipse",
            shade(colour, 1.0 - 0.12 * layer),
            rng,
        )
    disc_colour = CENTRE_COLOURS[pick({"yellow": 4, "orange": 2, "brown": 2, "dark": 1, "green": 1}, rng)]
    disc_colour = jitter(disc_colour, rng)
    pen.disc(0, 0, centre, fill=disc_colour, outline=shade(disc_colour, 0.75))
    textured_centre(pen, centre, disc_colour, rng, density=0.35)


def draw_dandelion(pen: Pen, rng: np.random.Generator) -> None:
    """A dense pom-pom of very many narrow strap florets in rings, or a white seed-head clock."""
    if rng.random() < 0.25:
        seed_head(pen, rng)
        return
    colour = petal_colour("dandelion", rng)
    rings = int(rng.integers(3, 6))
    for ring in range(rings):
        reach = 1.0 - ring / (rings + 0.5)
        count = int(rng.integers(26, 44) * (1 - 0.12 * ring))
        width = rng.uniform(0.07, 0.11)
        petal_ring(pen, count, 0.02, reach, width, "strap", shade(colour, 1.0 - 0.08 * ring), rng)
    points = rng.normal(0, 0.08, (30, 2))
    pen.dots(points, 0.02, [shade(colour, rng.uniform(0.6, 0.9)) for _ in points])


def seed_head(pen: Pen, rng: np.random.Generator) -> None:
    """A dandelion clock: a fuzzy ball of thin white radial hairs with tufts at the tips."""
    grey = jitter((232, 232, 226), rng, sat=0.5)
    count = int(rng.integers(60, 110))
    angles = rng.uniform(0, 2 * np.pi, count)
    reach = rng.uniform(0.75, 1.0, count)
    tips = np.stack([np.cos(angles) * reach, np.sin(angles) * reach], axis=1)
    for tip in tips:
        pen.line(np.array([[0.0, 0.0], tip]), fill=shade(grey, rng.uniform(0.75, 1.0)), width=0.012)
    pen.dots(tips, 0.035, [shade(grey, rng.uniform(0.85, 1.05)) for _ in tips])
    pen.disc(0, 0, 0.1, fill=jitter((150, 130, 90), rng))


def draw_roses(pen: Pen, rng: np.random.Generator) -> None:
    """Concentric rings of broad, rounded, overlapping petals that darken inwards, around a tight spiral bud."""
    colour = petal_colour("roses", rng)
    rings = int(rng.integers(3, 5))
    for ring in range(rings):
        reach = 1.0 - ring / (rings + 0.6)
        count = int(rng.integers(5, 8))
        petal_ring(
            pen, count, 0.0, reach, reach * rng.uniform(0.9, 1.2), "round", shade(colour, 1.0 - 0.13 * ring), rng
        )
    bud = shade(colour, 0.6)
    turns = rng.uniform(2.0, 3.0)
    t = np.linspace(0, turns * 2 * np.pi, 40)
    r = 0.25 * t / t[-1]
    spiral = np.stack([r * np.cos(t), r * np.sin(t)], axis=1)
    pen.disc(0, 0, 0.26, fill=shade(colour, 0.75))
    pen.line(spiral, fill=bud, width=0.035)


def draw_sunflowers(pen: Pen, rng: np.random.Generator) -> None:
    """A large disc of seeds in golden-angle spirals, ringed by pointed petals."""
    colour = petal_colour("sunflowers", rng)
    centre = rng.uniform(0.36, 0.5)
    count = int(rng.integers(18, 30))
    phase = rng.uniform(0, 2 * np.pi)
    for layer in range(int(rng.integers(1, 3))):
        petal_ring(
            pen,
            count,
            centre * 0.85,
            1.0 - centre * 0.85 - 0.06 * layer,
            rng.uniform(0.17, 0.25),
            "pointed",
            shade(colour, 1.0 - 0.15 * layer),
            rng,
            phase=phase + layer * np.pi / count,
        )
    disc_weights = {"brown": 4, "dark": 3, "olive": 1, "orange": 1, "yellow": 1, "green": 1}
    disc_colour = jitter(CENTRE_COLOURS[pick(disc_weights, rng)], rng)
    pen.disc(0, 0, centre, fill=disc_colour, outline=shade(disc_colour, 0.6), width=2)
    textured_centre(pen, centre, disc_colour, rng, density=1.0)


def textured_centre(pen: Pen, centre: float, colour, rng: np.random.Generator, density: float) -> None:
    """Seeds or pollen on a golden-angle (Fermat) spiral: the phyllotaxis real composite flowers show."""
    count = int(220 * density * centre / 0.45)
    k = np.arange(1, count + 1)
    radius = centre * 0.95 * np.sqrt(k / count)
    angle = k * 2.39996
    points = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    fills = [shade(colour, rng.uniform(0.5, 1.45)) for _ in points]
    pen.dots(points, 0.022, fills)


def draw_tulips(pen: Pen, rng: np.random.Generator) -> None:
    """An upright cup of three broad, pointed petals, seen from the side (the pen's rotation stays small)."""
    colour = petal_colour("tulips", rng)
    height, width = rng.uniform(1.3, 1.7), rng.uniform(0.55, 0.8)
    cup = petal_shape(height, width, "pointed")
    cup = rotate(cup, np.pi / 2) * [1, -1] + [0, height / 2]  # point up, centred on the pen
    for side, tone in ((-1, 0.72), (1, 0.72), (0, 1.0)):
        lean = side * rng.uniform(0.12, 0.3)
        shape = rotate(cup - [0, height / 2], lean) + [side * width * 0.45, height / 2]
        fill = shade(colour, tone * rng.uniform(0.9, 1.05))
        pen.polygon(shape, fill=fill, outline=shade(colour, 0.6))
    sheen = petal_shape(height * 0.6, width * 0.25, "ellipse")
    sheen = rotate(sheen, -np.pi / 2) + [rng.uniform(-0.1, 0.1), height * 0.3]
    pen.polygon(sheen, fill=shade(colour, 1.18))


SPECIES = {
    "daisy": draw_daisy,
    "dandelion": draw_dandelion,
    "roses": draw_roses,
    "sunflowers": draw_sunflowers,
    "tulips": draw_tulips,
}
