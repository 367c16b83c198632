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

This module renders a scene (placement, light and shadow, camera); the objects and their geometry are
`object_drawers.py`, the rooms, clutter and occluders `object_rooms.py`, the palette `object_paints.py`.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from tl_claims.data.object_drawers import DRAWERS, Placement, Sketch
from tl_claims.data.object_rooms import clutter_item, occluder, scene_background

GENERATOR_VERSION = 1
FAMILY_SALT = 20407  # keeps this family's random streams apart from the flowers'
CLASS_NAMES = ("bicycle", "chair", "mug", "teapot", "umbrella")
SUPERSAMPLE = 2  # the sharp foreground is drawn at 2x and reduced


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


# ---------------------------------------------------------------------------------------------------- lighting


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
