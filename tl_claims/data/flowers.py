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

This module is the scene (background, stems and leaves, occluders, camera); the species, their palette and the petal
geometry are `flower_species.py`.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from tl_claims.data.flower_species import PALETTE, SPECIES, Pen, jitter, petal_shape, rotate, shade

GENERATOR_VERSION = 1
CLASS_NAMES = ("daisy", "dandelion", "roses", "sunflowers", "tulips")
SUPERSAMPLE = 2  # draw at 2x, then reduce: cheap anti-aliasing


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
