"""Procedural household objects: a second offline family, different in kind from the flowers.

The flowers are organic, radially symmetric blossoms seen from above against foliage; their class lives in petal
count, petal shape and centre texture. This family is the opposite on each axis: rigid man-made objects
(`bicycle`, `chair`, `mug`, `teapot`, `umbrella`, all ImageNet-like categories) seen from the side, standing in
indoor or street scenes, whose class lives in *part structure*: two spoked wheels joined by a tube frame; a seat on
four legs with a backrest; a cylinder with a side handle; a round body with a spout, a lid and a handle; a ribbed
dome on a hooked shaft. Mug and teapot (body + handle) and chair and bicycle (thin tube networks) are deliberately
close pairs.

What makes it hard in the right way:

- colour: every class is painted from one shared palette with overlapping weights, the second colours (bands,
  panels, cushions, saddles) come from the same palette, and the scene (walls, floors, tablecloths) and the
  clutter (books, boxes, balls, plates, picture frames, pot plants, sticks) are drawn independently of the class,
  so a colour histogram has little to go on;
- confusers: the clutter carries the classes' parts without their structure: round plates and wall clocks (a
  wheel, a rim), sticks (a shaft, a leg), boxes (a seat), balls (a teapot body);
- nuisance: scale, position, tilt, mirror, perspective (3/4 views squash wheels and rims), a smaller second
  instance, occluders in front, a shaded and lit object with a cast shadow, colour temperature, vignetting,
  defocus or motion blur, signal-dependent sensor noise, JPEG.

The camera and light model is written for this family (no code shared with the flowers' pictures), so an artefact
of one generator is not silently repeated in the other. Every image is a pure function of `(seed, index, size)`:
the label is `index % 5` and all randomness comes from `numpy.random.default_rng([FAMILY_SALT, GENERATOR_VERSION,
seed, index])`. Objects are mirrored at random and only tilted a little, so flips, small rotations and zooms keep
the label. Bump `GENERATOR_VERSION` whenever the pictures change: it keys the on-disk cache.
"""

from __future__ import annotations

import colorsys
import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

GENERATOR_VERSION = 1
FAMILY_SALT = 20407  # keeps this family's random streams apart from the flowers'
CLASS_NAMES = ("bicycle", "chair", "mug", "teapot", "umbrella")
SUPERSAMPLE = 2  # the sharp foreground is drawn at 2x and reduced

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
WALLS: tuple[Colour, ...] = (
    (224, 214, 196),
    (236, 234, 228),
    (170, 174, 178),
    (178, 198, 214),
    (176, 192, 160),
    (230, 214, 150),
    (150, 80, 64),
    (60, 70, 96),
    (206, 170, 150),
)
FLOORS: tuple[Colour, ...] = (
    (150, 104, 64),
    (110, 72, 44),
    (186, 150, 106),
    (120, 120, 124),
    (80, 84, 90),
    (170, 160, 146),
    (96, 110, 70),
)


def object_image(seed: int, index: int, size: int) -> tuple[np.ndarray, int]:
    """The `index`-th image of data set `seed` as a (size, size, 3) uint8 RGB array, after JPEG, and its label."""
    data, label = object_jpeg(seed, index, size)
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")), label


def object_jpeg(seed: int, index: int, size: int) -> tuple[bytes, int]:
    """The same image as JPEG bytes (the quality is part of the nuisance, so it comes from the rng too)."""
    label = index % len(CLASS_NAMES)
    rng = np.random.default_rng([FAMILY_SALT, GENERATOR_VERSION, seed, index])
    image = render_scene(CLASS_NAMES[label], rng, size)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=int(rng.integers(30, 92)))
    return buffer.getvalue(), label


def render_scene(class_name: str, rng: np.random.Generator, size: int) -> Image.Image:
    """Room or street, far clutter (blurred with the room), the object(s) lit and shadowed, occluders, camera."""
    image = scene_background(rng, size)
    far = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(2, 7))):
        clutter_item(far, rng, size, scale=rng.uniform(0.12, 0.35))
    image = image.filter(ImageFilter.GaussianBlur(size * rng.uniform(0.0, 0.012)))
    canvas = size * SUPERSAMPLE
    image = image.resize((canvas, canvas), Image.BILINEAR)
    light = rng.uniform(-np.pi, 0)  # light from somewhere above
    placements = object_placements(rng, canvas)
    for placement in placements:
        layer = Image.new("RGBA", (canvas, canvas), (0, 0, 0, 0))
        DRAWERS[class_name](Sketch(ImageDraw.Draw(layer), placement), rng)
        image = composite_lit(image, layer, placement, light, rng)
    near = ImageDraw.Draw(image)
    for _ in range(int(rng.choice([0, 1, 1, 2]))):
        occluder(near, rng, canvas)
    image = image.reduce(SUPERSAMPLE)
    return camera(image, rng)


# ---------------------------------------------------------------------------------------------------- colours


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


# ---------------------------------------------------------------------------------------------------- geometry


@dataclass(frozen=True)
class Placement:
    """Where an object stands: local units (object height ~ 1, y down) -> canvas pixels."""

    cx: float
    cy: float
    scale: float  # pixels per local unit
    angle: float = 0.0
    mirror: float = 1.0  # -1 flips the object left-right

    def place(self, points) -> np.ndarray:
        local = np.asarray(points, dtype=np.float64) * [self.mirror * self.scale, self.scale]
        c, s = np.cos(self.angle), np.sin(self.angle)
        return np.stack(
            [local[..., 0] * c - local[..., 1] * s + self.cx, local[..., 0] * s + local[..., 1] * c + self.cy], axis=-1
        )


@dataclass(frozen=True)
class Sketch:
    """Draws local-unit shapes through a Placement; widths are in local units too."""

    draw: ImageDraw.ImageDraw
    at: Placement

    def polygon(self, points, fill: Colour, outline: Colour | None = None) -> None:
        self.draw.polygon(self.at.place(points).ravel().tolist(), fill=fill, outline=outline)

    def line(self, points, fill: Colour, width: float) -> None:
        pixels = max(round(width * self.at.scale), 1)
        self.draw.line(self.at.place(points).ravel().tolist(), fill=fill, width=pixels, joint="curve")

    def ellipse(
        self, cx: float, cy: float, rx: float, ry: float, fill: Colour, outline: Colour | None = None, n: int = 32
    ) -> None:
        self.polygon(ellipse_points(cx, cy, rx, ry, n), fill, outline)

    def ring(self, cx: float, cy: float, rx: float, ry: float, fill: Colour, width: float, n: int = 36) -> None:
        points = ellipse_points(cx, cy, rx, ry, n)
        self.line(np.vstack([points, points[:2]]), fill, width)


def ellipse_points(
    cx: float, cy: float, rx: float, ry: float, n: int = 32, start: float = 0.0, stop: float = 2 * np.pi
) -> np.ndarray:
    t = np.linspace(start, stop, n, endpoint=stop - start < 2 * np.pi - 1e-9)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def bezier(p0, p1, p2, n: int = 12) -> np.ndarray:
    """Quadratic Bezier from p0 to p2 pulled towards p1."""
    t = np.linspace(0, 1, n)[:, None]
    p0, p1, p2 = (np.asarray(p, dtype=np.float64) for p in (p0, p1, p2))
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2


def tapered(path: np.ndarray, start_width: float, end_width: float) -> np.ndarray:
    """A polygon around a centre line, `start_width` wide at its start and `end_width` at its end."""
    tangent = np.gradient(path, axis=0)
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
    normal /= np.linalg.norm(normal, axis=1, keepdims=True) + 1e-12
    half = np.linspace(start_width, end_width, len(path))[:, None] / 2
    return np.vstack([path + normal * half, (path - normal * half)[::-1]])


# ---------------------------------------------------------------------------------------------------- objects


def draw_bicycle(pen: Sketch, rng: np.random.Generator) -> None:
    """Two spoked wheels, a diamond or step-through tube frame, saddle, handlebar, chainring."""
    frame = paint("bicycle", rng)
    tyre = tyre_colour(rng)
    metal = vary(PAINTS["silver"], rng)
    r = rng.uniform(0.2, 0.25)
    base = rng.uniform(0.58, 0.72)
    squash = rng.uniform(0.6, 1.0)  # a 3/4 view narrows the wheels into ellipses
    rear, front = np.array([-base / 2, 0.5 - r]), np.array([base / 2, 0.5 - r])
    spokes = int(rng.integers(10, 24))
    for hub in (rear, front):
        wheel(pen, hub, r, squash, tyre, metal, spokes, rng)
    bracket = rear + [base * rng.uniform(0.42, 0.52), rng.uniform(0.0, 0.04)]
    seat = bracket + [-rng.uniform(0.05, 0.12), -rng.uniform(0.36, 0.46)]
    head = np.array([front[0] - rng.uniform(0.08, 0.15), seat[1] + rng.uniform(-0.03, 0.05)])
    head_low = head + [0.03, 0.1]
    width = rng.uniform(0.022, 0.035)
    top_from = seat + (bracket - seat) * rng.uniform(0.45, 0.65) if rng.random() < 0.3 else seat
    tubes = [(rear, bracket), (rear, seat), (bracket, seat), (top_from, head), (bracket, head_low), (head, head_low)]
    chainring = rng.uniform(0.04, 0.06)
    pen.line([rear, bracket], vary((50, 50, 50), rng), 0.01)  # chain
    for a, b in tubes:
        pen.line([a, b], frame, width)
    pen.polygon(tapered(np.array([head_low, front]), width, width * 0.7), frame)
    pen.ring(*bracket, chainring, chainring * squash**0.5, metal, 0.012)
    crank = rng.uniform(0, 2 * np.pi)
    pedal = bracket + 0.08 * np.array([np.cos(crank), np.sin(crank)])
    pen.line([bracket, pedal], metal, 0.015)
    pen.line([pedal - [0.025, 0], pedal + [0.025, 0]], vary((40, 40, 40), rng), 0.02)
    saddle_colour = vary((40, 36, 34), rng) if rng.random() < 0.6 else paint("bicycle", rng)
    post = seat + [-0.01, -rng.uniform(0.04, 0.09)]
    pen.line([seat, post], metal, 0.016)
    pen.polygon(
        [post + [-0.07, -0.01], post + [0.05, -0.02], post + [0.06, 0.005], post + [-0.06, 0.02]], saddle_colour
    )
    stem = head + [-0.01, -rng.uniform(0.04, 0.09)]
    pen.line([head, stem], metal, 0.016)
    if rng.random() < 0.5:  # flat or swept-back bar
        bar = [stem, stem + [-0.06, -0.01], stem + [-0.1, 0.02]]
    else:  # drop bar
        bar = [stem, stem + [0.05, 0.0], stem + [0.07, 0.05], stem + [0.03, 0.07]]
    pen.line(bar, vary((40, 40, 40), rng) if rng.random() < 0.5 else metal, 0.02)


def wheel(
    pen: Sketch,
    hub: np.ndarray,
    r: float,
    squash: float,
    tyre: Colour,
    metal: Colour,
    spokes: int,
    rng: np.random.Generator,
) -> None:
    rx = r * squash
    for angle in np.linspace(0, 2 * np.pi, spokes, endpoint=False) + rng.uniform(0, np.pi):
        pen.line([hub, hub + [rx * 0.92 * np.cos(angle), r * 0.92 * np.sin(angle)]], metal, 0.005)
    pen.ring(*hub, rx * 0.93, r * 0.93, metal, 0.012)
    pen.ring(*hub, rx, r, tyre, rng.uniform(0.03, 0.05))
    pen.ellipse(*hub, 0.02 * squash, 0.02, metal)


def draw_chair(pen: Sketch, rng: np.random.Generator) -> None:
    """A seat on four legs in a 3/4 view, with a backrest of slats, rails, spindles or a solid panel."""
    colour = paint("chair", rng)
    legs_colour = colour if rng.random() < 0.7 else paint("chair", rng)
    seat_w, depth, skew = rng.uniform(0.38, 0.52), rng.uniform(0.08, 0.16), rng.uniform(0.06, 0.16)
    leg = rng.uniform(0.36, 0.46)
    front_left = np.array([-0.28, 0.5 - leg])
    front_right, back_left = front_left + [seat_w, 0], front_left + [skew, -depth]
    back_right = back_left + [seat_w, 0]
    thick = rng.uniform(0.025, 0.045)
    leg_w = rng.uniform(0.025, 0.045)
    splay = rng.uniform(0.0, 0.04)
    for corner, sign in ((back_left, -1), (back_right, 1)):
        pen.line([corner, corner + [sign * splay, leg]], tone(legs_colour, 0.75), leg_w)
    back_h = rng.uniform(0.42, 0.58)
    lean = rng.uniform(0.0, 0.08)
    tops = [back_left + [lean, -back_h], back_right + [lean, -back_h]]
    style = rng.choice(["slats", "rails", "spindles", "panel"])
    post_w = leg_w * rng.uniform(0.9, 1.2)
    if style == "panel":
        low = rng.uniform(0.25, 0.5)
        pen.polygon(
            [tops[0], tops[1], back_right + (tops[1] - back_right) * low, back_left + (tops[0] - back_left) * low],
            tone(colour, 0.9),
        )
    else:
        bars = int(rng.integers(2, 5)) if style != "spindles" else int(rng.integers(4, 8))
        mid = rng.uniform(0.3, 0.5)
        for k in range(1, bars + 1):
            t = k / (bars + 1)
            if style == "rails":
                f = mid + (1 - mid) * t
                pen.line(
                    [back_left + (tops[0] - back_left) * f, back_right + (tops[1] - back_right) * f],
                    tone(colour, 0.9),
                    post_w * 0.8,
                )
            else:
                low = back_left + (back_right - back_left) * t + (tops[0] - back_left) * mid
                high = tops[0] + (tops[1] - tops[0]) * t
                pen.line([low, high], tone(colour, 0.9), post_w * (0.9 if style == "slats" else 0.45))
        pen.line(
            [back_left + (tops[0] - back_left) * mid, back_right + (tops[1] - back_right) * mid],
            tone(colour, 0.85),
            post_w,
        )
    pen.line([tops[0] + [-0.01, 0], tops[1] + [0.01, 0]], colour, rng.uniform(0.04, 0.07))  # top rail
    for corner, top in zip((back_left, back_right), tops):
        pen.line([corner, top], tone(colour, 0.85), post_w)
    pen.polygon([front_left, front_right, back_right, back_left], tone(colour, 1.1))  # seat top
    pen.polygon([front_left, front_right, front_right + [0, thick], front_left + [0, thick]], tone(colour, 0.7))
    if rng.random() < 0.35:  # a cushion in a second colour
        cushion = any_paint(rng)
        inset = np.array([0.03, 0.0])
        pen.polygon(
            [
                front_left + inset + [0, -0.015],
                front_right - inset + [0, -0.015],
                back_right - inset + [0, -0.01],
                back_left + inset + [0, -0.01],
            ],
            cushion,
        )
    for corner, sign in ((front_left, -1), (front_right, 1)):
        pen.line([corner + [0, thick], corner + [sign * splay, leg]], legs_colour, leg_w)
    if rng.random() < 0.5:  # stretcher between the front legs
        y = rng.uniform(0.55, 0.8) * leg
        pen.line([front_left + [-splay * 0.6, y], front_right + [splay * 0.6, y]], legs_colour, leg_w * 0.6)


def cylinder_band(cx: float, top: float, bottom: float, half_width: float, rim: float) -> np.ndarray:
    """The visible side of a vertical cylinder between two heights, bounded by elliptical arcs."""
    lower = ellipse_points(cx, bottom, half_width, rim, 16, 0.0, np.pi)
    upper = ellipse_points(cx, top, half_width, rim, 16, np.pi, 0.0)
    return np.vstack([lower, upper])


def decorate(
    pen: Sketch,
    cx: float,
    top: float,
    bottom: float,
    half_width: float,
    rim: float,
    colour: Colour,
    rng: np.random.Generator,
) -> None:
    """Bands, dots or a label on a round body: the same decorations for mugs and teapots."""
    kind = rng.choice(["none", "band", "bands", "dots", "label"], p=[0.35, 0.2, 0.15, 0.15, 0.15])
    second = any_paint(rng)
    height = bottom - top
    if kind in ("band", "bands"):
        for _ in range(1 if kind == "band" else 2):
            y = top + height * rng.uniform(0.2, 0.75)
            pen.polygon(cylinder_band(cx, y, y + height * rng.uniform(0.06, 0.14), half_width * 0.99, rim), second)
    elif kind == "dots":
        for _ in range(int(rng.integers(4, 10))):
            x, y = rng.uniform(-0.75, 0.75) * half_width + cx, rng.uniform(top + 0.1 * height, bottom - 0.1 * height)
            r = half_width * rng.uniform(0.06, 0.12)
            pen.ellipse(x, y, r * (1 - abs(x - cx) / half_width) + 0.005, r, second, n=12)
    elif kind == "label":
        w, h = half_width * rng.uniform(0.4, 0.8), height * rng.uniform(0.2, 0.35)
        x, y = cx + rng.uniform(-0.2, 0.2) * half_width, top + height * rng.uniform(0.3, 0.5)
        pen.polygon([[x - w / 2, y], [x + w / 2, y], [x + w / 2, y + h], [x - w / 2, y + h]], second)


def draw_mug(pen: Sketch, rng: np.random.Generator) -> None:
    """An upright cylinder with an elliptical rim showing the dark inside, and a loop handle on one side."""
    colour = paint("mug", rng)
    half = rng.uniform(0.2, 0.3)
    height = rng.uniform(0.5, 0.75)
    rim = half * rng.uniform(0.12, 0.35)
    top, bottom = 0.5 - height - 0.05, 0.45
    if rng.random() < 0.25:  # saucer
        saucer = any_paint(rng) if rng.random() < 0.5 else colour
        pen.ellipse(0, bottom, half * 1.7, rim * 1.6 + 0.03, tone(saucer, 0.85))
        pen.ellipse(0, bottom - 0.01, half * 1.55, rim * 1.4 + 0.02, saucer)
    handle_w = rng.uniform(0.045, 0.08)
    reach = rng.uniform(0.1, 0.18)
    h0, h1 = top + height * rng.uniform(0.12, 0.25), top + height * rng.uniform(0.65, 0.85)
    square = rng.random() < 0.4
    middle = [half + reach * (1.3 if square else 1.5), (h0 + h1) / 2]
    loop = bezier([half - 0.02, h0], middle, [half - 0.02, h1], 14)
    if square:
        loop = np.array([[half - 0.02, h0], [half + reach, h0 + 0.02], [half + reach, h1 - 0.02], [half - 0.02, h1]])
    pen.line(loop, tone(colour, 0.9), handle_w)
    pen.polygon(cylinder_band(0, top, bottom, half, rim), colour)
    cylinder_shading(pen, 0, top, bottom, half, rim, colour)
    decorate(pen, 0, top, bottom, half, rim, colour, rng)
    pen.ellipse(0, top, half, rim, tone(colour, 1.1))
    inside = vary((50, 32, 22), rng) if rng.random() < 0.5 else tone(colour, 0.45)
    pen.ellipse(0, top + rim * 0.1, half * 0.88, rim * 0.8, inside)


def cylinder_shading(
    pen: Sketch, cx: float, top: float, bottom: float, half: float, rim: float, colour: Colour
) -> None:
    """A light strip and a dark edge strip: a glossy cylinder at a glance."""
    for a, b, factor in ((-0.62, -0.38, 1.25), (0.7, 1.0, 0.75)):
        strip = np.array(
            [
                [cx + a * half, top + rim * 0.9],
                [cx + b * half, top + rim * 0.9],
                [cx + b * half, bottom + rim * 0.5],
                [cx + a * half, bottom + rim * 0.7],
            ]
        )
        pen.polygon(strip, tone(colour, factor))


def draw_teapot(pen: Sketch, rng: np.random.Generator) -> None:
    """A wide round body, a tapered spout rising on one side, a loop or overhead handle, a domed lid with a knob."""
    colour = paint("teapot", rng)
    half_w, half_h = rng.uniform(0.24, 0.32), rng.uniform(0.17, 0.24)
    cy = 0.5 - half_h - 0.02
    power = rng.uniform(2.0, 3.2)  # 2: round, higher: boxier
    t = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    body = np.stack(
        [
            half_w * np.sign(np.cos(t)) * np.abs(np.cos(t)) ** (2 / power),
            cy + half_h * np.sign(np.sin(t)) * np.abs(np.sin(t)) ** (2 / power),
        ],
        axis=1,
    )
    spout_base = np.array([-half_w * 0.8, cy + half_h * rng.uniform(-0.1, 0.4)])
    spout_tip = np.array([-half_w - rng.uniform(0.12, 0.22), cy - half_h - rng.uniform(0.0, 0.12)])
    bend = np.array([spout_tip[0] + rng.uniform(0.0, 0.06), spout_base[1] + 0.02])
    spout = bezier(spout_base, bend, spout_tip, 12)
    pen.polygon(tapered(spout, rng.uniform(0.09, 0.14), rng.uniform(0.03, 0.05)), tone(colour, 0.85))
    overhead = rng.random() < 0.25
    handle_w = rng.uniform(0.035, 0.06)
    if overhead:
        arc = ellipse_points(0, cy - half_h * 0.9, half_w * 0.75, half_h * rng.uniform(1.2, 1.7), 20, np.pi, 2 * np.pi)
        pen.line(arc, vary((40, 36, 34), rng) if rng.random() < 0.5 else tone(colour, 0.8), handle_w)
    else:
        loop = bezier(
            [half_w * 0.75, cy - half_h * 0.55],
            [half_w + rng.uniform(0.16, 0.26), cy - half_h * 0.2],
            [half_w * 0.8, cy + half_h * 0.5],
            14,
        )
        pen.line(loop, tone(colour, 0.85), handle_w)
    pen.polygon(body, colour)
    shade = np.stack([body[:, 0] * 0.35 - half_w * 0.3, cy + (body[:, 1] - cy) * 0.55 - half_h * 0.2], axis=1)
    pen.polygon(shade, tone(colour, 1.18))
    decorate(pen, 0, cy - half_h * 0.5, cy + half_h * 0.6, half_w * 0.95, half_h * 0.15, colour, rng)
    lid_top = cy - half_h * 0.95
    lid_w = half_w * rng.uniform(0.45, 0.65)
    pen.polygon(ellipse_points(0, lid_top, lid_w, rng.uniform(0.05, 0.09), 20, np.pi, 2 * np.pi), tone(colour, 0.95))
    pen.ellipse(0, lid_top, lid_w, 0.02, tone(colour, 0.75))
    knob = rng.uniform(0.025, 0.04)
    pen.ellipse(
        0,
        lid_top - 0.07 - knob * 0.5,
        knob,
        knob * 0.8,
        tone(colour, 0.8) if rng.random() < 0.6 else vary((40, 36, 34), rng),
    )


def draw_umbrella(pen: Sketch, rng: np.random.Generator) -> None:
    """An open ribbed dome with scalloped edge, a shaft through it, a J hook or a straight grip."""
    colour = paint("umbrella", rng)
    second = paint("umbrella", rng) if rng.random() < 0.4 else None
    radius, height = rng.uniform(0.4, 0.5), rng.uniform(0.2, 0.34)
    tilt = rng.uniform(0.08, 0.3)  # how much of the underside's ellipse shows
    top = np.array([0.0, -0.5 + 0.06 + rng.uniform(0.0, 0.05)])
    ribs = int(rng.integers(3, 6)) * 2 + 1
    handle_colour = vary((40, 34, 30), rng) if rng.random() < 0.5 else vary(PAINTS["wood"], rng)
    shaft_end = top + [0, rng.uniform(0.8, 0.9)]
    pen.line([top, shaft_end], vary(PAINTS["silver"], rng) if rng.random() < 0.6 else handle_colour, 0.018)
    if rng.random() < 0.7:  # J hook
        hook = rng.uniform(0.05, 0.08)
        pen.line(ellipse_points(shaft_end[0] + hook, shaft_end[1], hook, hook, 12, np.pi, 0.0), handle_colour, 0.04)
    else:
        pen.line([shaft_end - [0, 0.1], shaft_end + [0, 0.02]], handle_colour, 0.055)
    azimuth = np.linspace(0, np.pi, ribs)
    phi = np.linspace(0, 1, 10)[:, None]

    def rib(a: float) -> np.ndarray:
        x = radius * np.sin(phi * np.pi / 2) * np.cos(a)
        y = top[1] + height * (1 - np.cos(phi * np.pi / 2)) + tilt * radius * np.sin(phi * np.pi / 2) * np.sin(a)
        return np.hstack([x, y])

    lines = [rib(a) for a in azimuth]
    scallop = rng.uniform(0.02, 0.05)
    for k in range(ribs - 1):
        a, b = lines[k], lines[k + 1]
        edge = bezier(a[-1], (a[-1] + b[-1]) / 2 - [0, scallop], b[-1], 6)
        fill = colour if second is None or k % 2 == 0 else second
        pen.polygon(np.vstack([a, edge, b[::-1]]), tone(fill, 0.85 + 0.3 * np.sin(np.pi * (k + 0.5) / (ribs - 1))))
    rib_colour = tone(colour, 0.6)
    for line in lines[1:-1]:
        pen.line(line, rib_colour, 0.008)
    pen.line([top, top - [0, 0.06]], vary(PAINTS["silver"], rng), 0.018)  # ferrule


DRAWERS: dict[str, Callable[[Sketch, np.random.Generator], None]] = {
    "bicycle": draw_bicycle,
    "chair": draw_chair,
    "mug": draw_mug,
    "teapot": draw_teapot,
    "umbrella": draw_umbrella,
}


# ---------------------------------------------------------------------------------------------------- scene


def object_placements(rng: np.random.Generator, canvas: int) -> list[Placement]:
    """The main object, sometimes a smaller second one of the same class behind it (drawn first)."""
    mirror = float(rng.choice([-1.0, 1.0]))
    main = Placement(
        cx=canvas * rng.uniform(0.25, 0.75),
        cy=canvas * rng.uniform(0.3, 0.65),
        scale=canvas * rng.uniform(0.38, 0.85),
        angle=rng.normal(0, 0.14),
        mirror=mirror,
    )
    if rng.random() >= 0.2:
        return [main]
    second = Placement(
        cx=canvas * rng.uniform(0.15, 0.85),
        cy=canvas * rng.uniform(0.25, 0.5),
        scale=main.scale * rng.uniform(0.4, 0.65),
        angle=rng.normal(0, 0.12),
        mirror=float(rng.choice([-1.0, 1.0])),
    )
    return [second, main]


def composite_lit(
    image: Image.Image, layer: Image.Image, at: Placement, light: float, rng: np.random.Generator
) -> Image.Image:
    """Shade the object's layer along the light direction, cast its soft shadow, and paste it over the scene."""
    canvas = image.width
    rgba = np.asarray(layer, dtype=np.float32) / 255
    alpha = rgba[..., 3:4]
    ys, xs = np.mgrid[0:canvas, 0:canvas].astype(np.float32)
    along = ((xs - at.cx) * np.cos(light) + (ys - at.cy) * np.sin(light)) / max(at.scale, 1.0)
    lit = rgba[..., :3] * np.clip(1 + rng.uniform(0.2, 0.6) * along, 0.45, 1.5)[..., None]
    shift = at.scale * rng.uniform(0.02, 0.08)
    dx, dy = -np.cos(light) * shift, -np.sin(light) * shift * 0.5
    shadow = layer.getchannel("A").transform(layer.size, Image.AFFINE, (1, 0, -dx, 0, 1, -dy))
    shadow = shadow.filter(ImageFilter.GaussianBlur(at.scale * rng.uniform(0.015, 0.05)))
    darkness = np.asarray(shadow, dtype=np.float32)[..., None] / 255 * rng.uniform(0.25, 0.55)
    scene = np.asarray(image, dtype=np.float32) / 255 * (1 - darkness)
    out = scene * (1 - alpha) + np.clip(lit, 0, 1) * alpha
    return Image.fromarray((out * 255 + 0.5).astype(np.uint8))


def scene_background(rng: np.random.Generator, size: int) -> Image.Image:
    """A room (wall over a floor), a table top, a tablecloth or a street: never related to the class."""
    kind = rng.choice(["room", "table", "cloth", "street"], p=[0.45, 0.2, 0.15, 0.2])
    pixels = np.zeros((size, size, 3), np.float32)
    ys = np.arange(size, dtype=np.float32)[:, None] / size
    xs = np.arange(size, dtype=np.float32)[None, :] / size
    horizon = rng.uniform(0.45, 0.8)
    if kind == "room":
        wall = np.array(vary(WALLS[int(rng.integers(len(WALLS)))], rng), np.float32)
        floor = np.array(vary(FLOORS[int(rng.integers(len(FLOORS)))], rng), np.float32)
        pixels[:] = wall
        if rng.random() < 0.35:  # wallpaper stripes
            period = rng.uniform(0.05, 0.15)
            stripes = (np.sin(2 * np.pi * xs / period) > 0).astype(np.float32)
            pixels *= (1 - 0.12 * stripes)[..., None]
        below = (ys >= horizon)[..., None].repeat(size, axis=1)
        pixels = np.where(below, floor * planks(rng, size)[..., None], pixels)
    elif kind == "table":
        wood = np.array(vary(FLOORS[int(rng.integers(3))], rng), np.float32)
        pixels[:] = wood * planks(rng, size, along_x=True)[..., None]
    elif kind == "cloth":
        a, b = np.array(any_paint(rng), np.float32), np.array(vary((236, 234, 228), rng), np.float32)
        period = rng.uniform(0.08, 0.2)
        checks = ((np.floor(xs / period) + np.floor(ys / period)) % 2).astype(np.float32)
        pixels[:] = (a * checks[..., None] + b * (1 - checks[..., None])) * 0.5 + b * 0.3
    else:
        sky = np.array(vary((150, 186, 222), rng, sat=0.4), np.float32)
        ground = np.array(vary((110, 110, 112), rng), np.float32)
        pixels[:] = sky * (0.85 + 0.3 * ys[..., None])
        below = (ys >= horizon)[..., None].repeat(size, axis=1)
        pixels = np.where(below, ground * (0.85 + 0.25 * smooth_noise(rng, size, 24))[..., None], pixels)
    pixels *= (0.8 + 0.35 * smooth_noise(rng, size, 3))[..., None]  # uneven light on the scene
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    if kind == "room" and rng.random() < 0.5:
        wall_item(ImageDraw.Draw(image), rng, size, horizon)
    return image


def smooth_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    grid = (rng.random((cells, cells)) * 255).astype(np.uint8)
    return np.asarray(Image.fromarray(grid).resize((size, size), Image.BICUBIC), np.float32) / 255


def planks(rng: np.random.Generator, size: int, along_x: bool = False) -> np.ndarray:
    """Wood boards: bands of slightly different brightness with fine grain and dark seams."""
    count = int(rng.integers(4, 10))
    coordinate = np.arange(size) * count / size
    board = rng.uniform(0.85, 1.1, count + 1)[coordinate.astype(int)]
    seams = np.where((coordinate % 1) < 0.06, 0.75, 1.0)
    profile = (board * seams).astype(np.float32)
    grain = 0.93 + 0.1 * smooth_noise(rng, size, 30)
    field = profile[None, :] if along_x else profile[:, None]
    return np.broadcast_to(field, (size, size)) * grain


def wall_item(draw: ImageDraw.ImageDraw, rng: np.random.Generator, size: int, horizon: float) -> None:
    """A picture frame, a window or a wall clock on the wall."""
    w, h = size * rng.uniform(0.15, 0.35), size * rng.uniform(0.12, 0.3)
    x, y = rng.uniform(0, size - w), rng.uniform(0, max(horizon * size - h - 2, 1))
    kind = rng.choice(["frame", "window", "clock"])
    if kind == "clock":
        r = min(w, h) / 2
        draw.ellipse(
            [x, y, x + 2 * r, y + 2 * r],
            fill=vary((240, 240, 236), rng),
            outline=any_paint(rng),
            width=max(int(r * 0.15), 1),
        )
        cx, cy = x + r, y + r
        for angle in rng.uniform(0, 2 * np.pi, 2):
            draw.line(
                [cx, cy, cx + 0.7 * r * np.cos(angle), cy + 0.7 * r * np.sin(angle)],
                fill=(30, 30, 30),
                width=max(int(r * 0.08), 1),
            )
        return
    border = any_paint(rng) if kind == "frame" else vary((236, 236, 232), rng)
    draw.rectangle([x, y, x + w, y + h], fill=border)
    m = min(max(size * 0.012, 1), w / 4, h / 4)  # the border; tiny images get a thinner one
    inner = [x + m, y + m, x + w - m, y + h - m]
    if kind == "window":
        draw.rectangle(inner, fill=vary((170, 200, 230), rng, sat=0.4))
        draw.line([x + w / 2, y, x + w / 2, y + h], fill=border, width=max(int(m), 1))
        draw.line([x, y + h / 2, x + w, y + h / 2], fill=border, width=max(int(m), 1))
    else:
        draw.rectangle(inner, fill=any_paint(rng))
        draw.polygon(
            [
                (inner[0], inner[3]),
                ((inner[0] + inner[2]) / 2, inner[1] + (inner[3] - inner[1]) * 0.3),
                (inner[2], inner[3]),
            ],
            fill=any_paint(rng),
        )


def clutter_item(draw: ImageDraw.ImageDraw, rng: np.random.Generator, canvas: int, scale: float) -> None:
    """A class-neutral thing: books, a box, a ball, a plate, a pot plant or sticks. Some share a part's shape."""
    kind = rng.choice(["books", "box", "ball", "plate", "plant", "sticks"])
    s = canvas * scale
    x, y = rng.uniform(0, canvas), rng.uniform(canvas * 0.3, canvas)
    colour = any_paint(rng)
    if kind == "books":
        for _ in range(int(rng.integers(2, 6))):
            h = s * rng.uniform(0.1, 0.2)
            w = s * rng.uniform(0.6, 1.0)
            draw.rectangle([x - w / 2, y - h, x + w / 2, y], fill=any_paint(rng), outline=(30, 30, 30))
            y -= h
    elif kind == "box":
        w, h, d = s * rng.uniform(0.4, 1.0), s * rng.uniform(0.3, 0.8), s * rng.uniform(0.1, 0.3)
        draw.polygon([(x, y), (x + w, y), (x + w, y - h), (x, y - h)], fill=colour)
        draw.polygon([(x, y - h), (x + w, y - h), (x + w + d, y - h - d), (x + d, y - h - d)], fill=tone(colour, 1.2))
        draw.polygon([(x + w, y), (x + w + d, y - d), (x + w + d, y - h - d), (x + w, y - h)], fill=tone(colour, 0.7))
    elif kind == "ball":
        r = s * rng.uniform(0.2, 0.4)
        draw.ellipse([x - r, y - 2 * r, x + r, y], fill=colour)
        draw.ellipse([x - r * 0.5, y - r * 1.7, x, y - r * 1.2], fill=tone(colour, 1.3))
    elif kind == "plate":
        r = s * rng.uniform(0.25, 0.5)
        squash = rng.uniform(0.3, 1.0)
        draw.ellipse(
            [x - r, y - r * squash, x + r, y + r * squash],
            fill=tone(colour, 0.85) if rng.random() < 0.5 else vary((232, 232, 228), rng),
            outline=tone(colour, 0.6),
            width=max(int(r * 0.1), 1),
        )
        draw.ellipse(
            [x - r * 0.6, y - r * 0.6 * squash, x + r * 0.6, y + r * 0.6 * squash],
            outline=tone(colour, 0.7),
            width=max(int(r * 0.05), 1),
        )
    elif kind == "plant":
        pot = vary((170, 90, 60), rng) if rng.random() < 0.6 else colour
        w = s * rng.uniform(0.2, 0.35)
        draw.polygon([(x - w, y - w * 1.4), (x + w, y - w * 1.4), (x + w * 0.75, y), (x - w * 0.75, y)], fill=pot)
        green = vary((60, 120, 50), rng, hue=0.05)
        for _ in range(int(rng.integers(4, 9))):
            angle = rng.uniform(-np.pi * 0.9, -np.pi * 0.1)
            length = s * rng.uniform(0.3, 0.7)
            tip = (x + length * np.cos(angle), y - w * 1.4 + length * np.sin(angle))
            draw.line([x, y - w * 1.4, *tip], fill=green, width=max(int(w * 0.35), 1))
    else:
        for _ in range(int(rng.integers(1, 4))):
            angle = rng.uniform(0, np.pi)
            length = s * rng.uniform(0.5, 1.2)
            draw.line(
                [x, y, x + length * np.cos(angle), y - length * np.sin(angle)],
                fill=any_paint(rng),
                width=max(int(s * rng.uniform(0.02, 0.06)), 1),
            )


def occluder(draw: ImageDraw.ImageDraw, rng: np.random.Generator, canvas: int) -> None:
    """Something in front: a table edge along the bottom, the corner of a box, a plant's leaves or a clutter item."""
    kind = rng.choice(["edge", "corner", "leaves", "item"])
    if kind == "edge":
        y = canvas * rng.uniform(0.82, 0.95)
        colour = vary(FLOORS[int(rng.integers(len(FLOORS)))], rng)
        draw.polygon(
            [(0, y), (canvas, y + canvas * rng.uniform(-0.05, 0.05)), (canvas, canvas), (0, canvas)], fill=colour
        )
    elif kind == "corner":
        w, h = canvas * rng.uniform(0.15, 0.3), canvas * rng.uniform(0.2, 0.45)
        x = 0 if rng.random() < 0.5 else canvas - w
        draw.rectangle([x, canvas - h, x + w, canvas], fill=any_paint(rng), outline=(30, 30, 30), width=2)
    elif kind == "leaves":
        green = vary((60, 120, 50), rng, hue=0.05)
        x = canvas * rng.choice([0.0, 1.0])
        for _ in range(int(rng.integers(2, 5))):
            y = rng.uniform(0.3, 1.0) * canvas
            length = canvas * rng.uniform(0.15, 0.35)
            angle = rng.uniform(-0.6, 0.6) + (0 if x == 0 else np.pi)
            tip = (x + length * np.cos(angle), y + length * np.sin(angle))
            draw.line([x, y, *tip], fill=tone(green, rng.uniform(0.8, 1.2)), width=max(int(canvas * 0.04), 2))
    else:
        clutter_item(draw, rng, canvas, scale=rng.uniform(0.2, 0.35))


# ---------------------------------------------------------------------------------------------------- camera


def camera(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Defocus or motion blur, colour temperature, exposure, vignetting, contrast, signal-dependent noise."""
    size = image.width
    blur = rng.random()
    if blur < 0.4:
        image = image.filter(ImageFilter.GaussianBlur(size * rng.uniform(0.003, 0.013)))
    elif blur < 0.5:
        image = image.filter(motion_kernel(rng))
    pixels = np.asarray(image, dtype=np.float32) / 255
    warmth = rng.uniform(-1, 1)
    gains = np.array([1 + 0.12 * warmth, 1.0, 1 - 0.12 * warmth], np.float32) * rng.uniform(0.96, 1.04, 3)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) / max(size - 1, 1) - 0.5
    vignette = 1 - rng.uniform(0, 0.5) * (xs**2 + ys**2) * 2
    pixels = pixels * gains * vignette[..., None] * rng.uniform(0.75, 1.2)
    contrast = rng.uniform(-0.3, 0.3)
    pixels = np.clip(pixels, 0, 1)
    pixels = pixels + contrast * pixels * (1 - pixels) * (2 * pixels - 1) * 2
    noise = rng.uniform(0.0, 0.05) * np.sqrt(np.clip(pixels, 0.01, 1))
    pixels = pixels + noise * rng.standard_normal(pixels.shape).astype(np.float32)
    pixels = pixels + rng.uniform(0, 0.015) * rng.standard_normal(pixels.shape[:2] + (1,)).astype(np.float32)
    return Image.fromarray(np.clip(pixels * 255 + 0.5, 0, 255).astype(np.uint8))


def motion_kernel(rng: np.random.Generator) -> ImageFilter.Kernel:
    """A 5x5 line kernel at a random angle: a short camera shake."""
    angle = rng.uniform(0, np.pi)
    weights = np.zeros((5, 5), np.float32)
    for t in np.linspace(-2, 2, 9):
        weights[round(2 + t * np.sin(angle)), round(2 + t * np.cos(angle))] += 1
    return ImageFilter.Kernel((5, 5), (weights / weights.sum()).ravel().tolist(), scale=1)
