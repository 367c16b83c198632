"""Procedural flowers (family `flowers`, the default `synthetic`): an offline stand-in for `tf_flowers` on which
ImageNet features help a lot, but not fully. `objects.py` is the second, independently designed family.

Why procedural: the claims need a small natural-image-like task without the network. A task that is too easy (one
colour per class, plain backgrounds) lets a colour histogram or a tiny CNN solve it and hides every effect of
transfer learning; one that is too hard leaves nothing for the pretrained features to find. So:

- class identity lives in shape and structure: petal count, petal shape, arrangement, centre size and texture;
- colours are drawn from one shared palette with overlapping per-class weights, so colour alone is a weak cue;
- nuisance makes it behave like photos: textured backgrounds, out-of-focus bokeh and far flowers, scale, position,
  rotation, viewpoint tilt, several flowers, stems and leaves in front, lighting, blur, noise, JPEG compression.

Every image is a pure function of `(seed, index, size)`: the label is `index % 5` and all randomness comes from
`numpy.random.default_rng([GENERATOR_VERSION, seed, index])`. Scenes are drawn at twice the target size and reduced
(anti-aliasing). All shapes are radially symmetric or upright, so flips and small rotations or zooms keep the label.
Bump `GENERATOR_VERSION` whenever the pictures change: it keys the on-disk cache.
"""

from __future__ import annotations

import colorsys
import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

GENERATOR_VERSION = 1
CLASS_NAMES = ("daisy", "dandelion", "roses", "sunflowers", "tulips")
SUPERSAMPLE = 2  # draw at 2x, then reduce: cheap anti-aliasing

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


def flower_image(seed: int, index: int, size: int) -> tuple[np.ndarray, int]:
    """The `index`-th flower of data set `seed` as a (size, size, 3) uint8 RGB array, after JPEG, and its label."""
    data, label = flower_jpeg(seed, index, size)
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")), label


def flower_jpeg(seed: int, index: int, size: int) -> tuple[bytes, int]:
    """The same flower encoded as JPEG bytes (the quality is part of the nuisance, so it comes from the rng too)."""
    label = index % len(CLASS_NAMES)
    rng = np.random.default_rng([GENERATOR_VERSION, seed, index])
    image = render_scene(CLASS_NAMES[label], rng, size)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=int(rng.integers(35, 95)))
    return buffer.getvalue(), label


def render_scene(class_name: str, rng: np.random.Generator, size: int) -> Image.Image:
    """Background, far blurred flowers, near flowers with stems and leaves, occluders, then the camera.

    What ends up blurred (background, far flowers) is drawn at the target size and upsampled; only the sharp near
    layer is supersampled.
    """
    canvas = size * SUPERSAMPLE
    image = background(rng, size)
    if rng.random() < 0.5:
        far_flowers(ImageDraw.Draw(image), class_name, rng, size)
        image = image.filter(ImageFilter.GaussianBlur(size * rng.uniform(0.004, 0.01)))
    image = image.resize((canvas, canvas), Image.BILINEAR)
    draw = ImageDraw.Draw(image)
    near_flowers(draw, class_name, rng, canvas)
    if rng.random() < 0.5:
        occluders(draw, rng, canvas)
    image = image.reduce(SUPERSAMPLE)
    return camera(image, rng)


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


# ---------------------------------------------------------------------------------------------------- background


def value_noise(rng: np.random.Generator, canvas: int, cells: int) -> np.ndarray:
    """Smooth random field in [0, 1] of shape (canvas, canvas): random cells upsampled bicubically."""
    grid = (rng.random((cells, cells)) * 255).astype(np.uint8)
    return np.asarray(Image.fromarray(grid).resize((canvas, canvas), Image.BICUBIC), dtype=np.float32) / 255


def background(rng: np.random.Generator, canvas: int) -> Image.Image:
    """Foliage, grass, sky or soil texture, sometimes with out-of-focus bokeh discs in flower colours."""
    kind = rng.choice(["foliage", "grass", "sky", "soil"], p=[0.4, 0.25, 0.15, 0.2])
    base = {
        "foliage": (60, 110, 40),
        "grass": (90, 140, 50),
        "sky": (120, 170, 220),
        "soil": (110, 84, 60),
    }[kind]
    base = np.array(jitter(base, rng, hue=0.06, sat=0.3, val=0.3), dtype=np.float32)
    texture = (
        0.55 * value_noise(rng, canvas, 4) + 0.3 * value_noise(rng, canvas, 12) + 0.15 * value_noise(rng, canvas, 40)
    )
    pixels = base * (0.55 + 0.9 * texture[..., None])
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    if kind == "grass":
        grass_blades(draw, rng, canvas, base)
    if rng.random() < 0.5:
        bokeh(draw, rng, canvas)
    return image.filter(ImageFilter.GaussianBlur(canvas * rng.uniform(0.0, 0.008)))


def grass_blades(draw: ImageDraw.ImageDraw, rng: np.random.Generator, canvas: int, base: np.ndarray) -> None:
    for _ in range(int(rng.integers(20, 60))):
        x, y = rng.uniform(0, canvas, 2)
        length = canvas * rng.uniform(0.1, 0.35)
        angle = np.pi / 2 + rng.normal(0, 0.3)
        colour = tuple(int(c) for c in np.clip(base * rng.uniform(0.6, 1.4), 0, 255))
        draw.line([(x, y), (x + length * np.cos(angle), y - length * np.sin(angle))], fill=colour, width=2)


def bokeh(draw: ImageDraw.ImageDraw, rng: np.random.Generator, canvas: int) -> None:
    """Blurry discs in any flower colour: colour in the frame that says nothing about the class."""
    for _ in range(int(rng.integers(3, 12))):
        x, y = rng.uniform(0, canvas, 2)
        r = canvas * rng.uniform(0.02, 0.08)
        colour = shade(jitter(PALETTE[rng.choice(list(PALETTE))], rng), rng.uniform(0.6, 1.2))
        draw.ellipse([x - r, y - r, x + r, y + r], fill=colour)


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


# ---------------------------------------------------------------------------------------------------- scene


def near_flowers(draw: ImageDraw.ImageDraw, class_name: str, rng: np.random.Generator, canvas: int) -> None:
    """One to four flowers of the class, the largest last (in front), each on a stem with a leaf or two."""
    count = int(rng.choice([1, 1, 1, 2, 2, 3, 4]))
    radii = sorted(canvas * rng.uniform(0.14, 0.42, count) * (1.0 if count == 1 else 0.8))
    for radius in radii:
        cx, cy = rng.uniform(0.15, 0.85, 2) * canvas
        upright = class_name == "tulips"
        stem(draw, rng, cx, cy + (radius * 0.6 if upright else 0), radius, canvas)
        pen = Pen(
            draw,
            cx,
            cy,
            radius * (0.9 if upright else 1.0),
            angle=rng.normal(0, 0.2) if upright else rng.uniform(0, 2 * np.pi),
            squash=1.0 if upright else float(np.cos(rng.uniform(0, 0.9))),
        )
        SPECIES[class_name](pen, rng)


def far_flowers(draw: ImageDraw.ImageDraw, class_name: str, rng: np.random.Generator, canvas: int) -> None:
    """Small flowers of the same class far behind: they get blurred with the background."""
    for _ in range(int(rng.integers(1, 5))):
        radius = canvas * rng.uniform(0.05, 0.12)
        cx, cy = rng.uniform(0, 1, 2) * canvas
        upright = class_name == "tulips"
        pen = Pen(
            draw,
            cx,
            cy,
            radius,
            angle=rng.normal(0, 0.2) if upright else rng.uniform(0, 2 * np.pi),
            squash=1.0 if upright else float(np.cos(rng.uniform(0, 1.0))),
        )
        SPECIES[class_name](pen, rng)


def stem(draw: ImageDraw.ImageDraw, rng: np.random.Generator, x: float, y: float, radius: float, canvas: int) -> None:
    """A gently curved green stem from the flower down out of the frame, with a leaf."""
    green = jitter((70, 120, 45), rng, hue=0.05, sat=0.25, val=0.25)
    bend = rng.normal(0, 0.3) * radius
    ys = np.linspace(y, canvas * 1.05, 8)
    xs = x + bend * np.sin(np.linspace(0, np.pi / 2, 8))
    draw.line(list(zip(xs.tolist(), ys.tolist())), fill=green, width=max(int(radius * 0.09), 2), joint="curve")
    if rng.random() < 0.8:
        k = int(rng.integers(2, 6))
        leaf(draw, rng, xs[k], ys[k], radius * rng.uniform(0.7, 1.3), green)


def leaf(draw: ImageDraw.ImageDraw, rng: np.random.Generator, x: float, y: float, length: float, green) -> None:
    side = rng.choice([-1, 1])
    angle = -np.pi / 2 + side * rng.uniform(0.4, 1.2)
    shape = rotate(petal_shape(length, length * rng.uniform(0.25, 0.4), "pointed"), angle)
    pen = Pen(draw, x, y, 1.0)
    pen.polygon(shape, fill=shade(green, rng.uniform(0.8, 1.15)), outline=shade(green, 0.7))
    pen.line(
        np.array([[0.0, 0.0], rotate(np.array([[length * 0.9, 0.0]]), angle)[0]]), fill=shade(green, 0.75), width=1
    )


def occluders(draw: ImageDraw.ImageDraw, rng: np.random.Generator, canvas: int) -> None:
    """Leaves and grass blades in front of the flowers: partial occlusion."""
    for _ in range(int(rng.integers(1, 4))):
        green = jitter((60, 115, 40), rng, hue=0.06, sat=0.3, val=0.3)
        x, y = rng.uniform(0, canvas, 2)
        length = canvas * rng.uniform(0.15, 0.4)
        shape = rotate(petal_shape(length, length * rng.uniform(0.15, 0.35), "pointed"), rng.uniform(0, 2 * np.pi))
        Pen(draw, x, y, 1.0).polygon(shape, fill=green, outline=shade(green, 0.7))


# ---------------------------------------------------------------------------------------------------- camera


def camera(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Lighting gradient, white balance, exposure, gamma, defocus blur and sensor noise."""
    if rng.random() < 0.5:
        image = image.filter(ImageFilter.GaussianBlur(image.width * rng.uniform(0.003, 0.012)))
    pixels = np.asarray(image, dtype=np.float32) / 255
    size = pixels.shape[0]
    direction = rng.uniform(0, 2 * np.pi)
    ramp = np.linspace(-0.5, 0.5, size, dtype=np.float32)
    gradient = np.cos(direction) * ramp[None, :] + np.sin(direction) * ramp[:, None]
    light = rng.uniform(0.7, 1.25) * (1 + rng.uniform(0, 0.6) * gradient)
    balance = rng.uniform(0.87, 1.13, 3).astype(np.float32)
    pixels = np.clip(pixels * light[..., None] * balance, 0, 1) ** rng.uniform(0.8, 1.25)
    pixels = pixels * 255 + rng.normal(0, rng.uniform(0, 8), pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
