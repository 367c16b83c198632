"""Where an object of the `objects` family stands, never related to its class: rooms (wall over floor), table tops,
tablecloths and streets, things on the walls, class-neutral clutter (some sharing a part's shape: plates and
clocks like wheels, sticks like shafts, boxes like seats, balls like teapot bodies) and occluders in front.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from tl_claims.data.object_paints import Colour, any_paint, tone, vary

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
