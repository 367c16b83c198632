"""The five household objects of the `objects` family, each a drawer `(Sketch, rng) -> None` in the object's local
frame (height about 1, y down), and the geometry they share: `Placement` (local units to canvas pixels), `Sketch`
(shapes through a placement), ellipses, Bezier curves and tapered strokes.

Class identity lives here, in part structure (wheels and tube frame, seat legs and backrest, cylinder and handle,
body spout and lid, ribbed dome and shaft); the scene around an object is `object_rooms.py`, lighting and camera
`objects.py`. Every drawer takes its random draws in a fixed order: change it and the pictures change (bump
`objects.GENERATOR_VERSION`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import ImageDraw

from tl_claims.data.object_paints import PAINTS, Colour, any_paint, paint, tone, tyre_colour, vary

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
    chair_backrest(pen, rng, style, colour, (back_left, back_right), tops, post_w)
    pen.line([tops[0] + [-0.01, 0], tops[1] + [0.01, 0]], colour, rng.uniform(0.04, 0.07))  # top rail
    for corner, top in zip((back_left, back_right), tops):
        pen.line([corner, top], tone(colour, 0.85), post_w)
    pen.polygon([front_left, front_right, back_right, back_left], tone(colour, 1.1))  # seat top
    pen.polygon([front_left, front_right, front_right + [0, thick], front_left + [0, thick]], tone(colour, 0.7))
    if rng.random() < 0.35:  # a cushion in a second colour
        chair_cushion(pen, (front_left, front_right, back_right, back_left), any_paint(rng))
    for corner, sign in ((front_left, -1), (front_right, 1)):
        pen.line([corner + [0, thick], corner + [sign * splay, leg]], legs_colour, leg_w)
    if rng.random() < 0.5:  # stretcher between the front legs
        y = rng.uniform(0.55, 0.8) * leg
        pen.line([front_left + [-splay * 0.6, y], front_right + [splay * 0.6, y]], legs_colour, leg_w * 0.6)


def chair_backrest(
    pen: Sketch,
    rng: np.random.Generator,
    style: str,
    colour: Colour,
    back: tuple[np.ndarray, np.ndarray],
    tops: list[np.ndarray],
    post_w: float,
) -> None:
    """Between the back posts: a solid panel, or slats, rails or spindles standing on a cross rail."""
    back_left, back_right = back
    if style == "panel":
        low = rng.uniform(0.25, 0.5)
        pen.polygon(
            [tops[0], tops[1], back_right + (tops[1] - back_right) * low, back_left + (tops[0] - back_left) * low],
            tone(colour, 0.9),
        )
        return
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


def chair_cushion(pen: Sketch, seat: tuple[np.ndarray, ...], colour: Colour) -> None:
    """A cushion inset on the seat top (front left, front right, back right, back left)."""
    front_left, front_right, back_right, back_left = seat
    inset = np.array([0.03, 0.0])
    pen.polygon(
        [
            front_left + inset + [0, -0.015],
            front_right - inset + [0, -0.015],
            back_right - inset + [0, -0.01],
            back_left + inset + [0, -0.01],
        ],
        colour,
    )


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
