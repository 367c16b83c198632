"""The one image decoder: how a user's image file becomes RGB pixels, wherever it comes in.

The folder checker (`validate.check_image`) decodes every file with `loaded`; the files TensorFlow's loader would
misread are converted with `to_rgb` into the normalised copy (`folders.normalised_copy`); `predict` reads each photo
with `read_rgb`. One set of rules, so an image means the same pixels in a claim run and in `predict`:

- the pixel limit is Pillow's `MAX_IMAGE_PIXELS` (89,478,485 by default), read at each call: above it the file is
  refused by name and never decoded (Pillow by itself only warns between once and twice the limit, and decodes the
  gigabytes);
- EXIF orientation is applied: a phone photo taken upright must not come in lying on its side;
- every mode becomes RGB uint8: palettes expanded, 16/32-bit grey scaled to 0..255 (Pillow's `convert("RGB")` clips
  it to white), CMYK and 1-bit converted;
- alpha (RGBA, LA, PA, a palette with a transparent colour) is composited over white, what a viewer shows:
  transparent pixels often hold black or colours nobody saw when labelling.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from tl_claims.core.errors import HarnessError

ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}
INTEGER_GREY_MODES = {"I;16", "I;16B", "I;16L", "I"}
EXIF_ORIENTATION = 0x0112  # 1 = upright; 2..8 = mirrored and/or rotated


def readable(path: Path | str) -> str:
    """Any name the file system holds, printable: bytes that are not UTF-8 (a Latin-1 name) shown as \\xNN."""
    return os.fsencode(path).decode("utf-8", errors="backslashreplace")


class ImageError(HarnessError, ValueError):
    """A file that cannot be used as an image. `what` and `fix` are kept apart so the folder checker can list them
    per file; the message names the file."""

    def __init__(self, path: Path | str, what: str, fix: str):
        self.path, self.what, self.fix = Path(path), what, fix
        super().__init__(f"{readable(path)}: {what}; {fix}")


class NotAnImage(ImageError):
    """Pillow recognises no image format in the file."""


class TooManyPixels(ImageError):
    """More pixels than the limit: refused from the header, never decoded."""


class UndecodableImage(ImageError):
    """A known format whose data is corrupt or truncated."""


@contextlib.contextmanager
def loaded(path: Path | str) -> Iterator[Image.Image]:
    """The image at `path`, its structure verified and its pixels fully decoded within the pixel limit; any failure
    is an ImageError naming the file."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)  # above the limit: refused, not decoded
        try:
            with Image.open(path) as image:
                image.verify()  # structure and checksums, without decoding pixels
            image = open_and_load(path)  # the full decode: catches truncated data that verify() lets through
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise TooManyPixels(
                path,
                f"is a decompression bomb or a huge image: more pixels than Pillow's limit of "
                f"{Image.MAX_IMAGE_PIXELS:,} ({str(error)[:120]})",
                "resize it below the limit, or delete it",
            ) from None
        except UnidentifiedImageError:
            raise NotAnImage(
                path, "is not an image: Pillow recognises no image format in it", "pass a JPEG or PNG file"
            ) from None
        except (OSError, SyntaxError, ValueError, EOFError) as error:
            raise UndecodableImage(
                path,
                f"cannot be decoded ({error})",
                "the file is corrupt or truncated: re-export or re-download it, or delete it",
            ) from None
    with image:
        yield image


def open_and_load(path: Path | str) -> Image.Image:
    image = Image.open(path)
    try:
        image.load()
    except BaseException:
        image.close()  # a failed decode must not leave the file open
        raise
    return image


def read_rgb(path: Path | str) -> Image.Image:
    """The file as an upright RGB image by the rules above, or an ImageError naming it."""
    with loaded(path) as image:
        return to_rgb(image)


def orientation(image: Image.Image) -> object:
    """The EXIF orientation tag (1 or absent: upright as stored)."""
    return image.getexif().get(EXIF_ORIENTATION, 1)


def to_rgb(image: Image.Image) -> Image.Image:
    """RGB version of any decoded PIL image, upright as its EXIF orientation says: 16/32-bit grey scaled (not
    clipped), alpha composited over white. Always a new image: the file may be closed afterwards."""
    image = ImageOps.exif_transpose(image) or image
    if image.mode in INTEGER_GREY_MODES:
        pixels = np.asarray(image, dtype=np.float64)
        sixteen_bit = image.mode.startswith("I;16") or pixels.max(initial=0) > 255
        scale = 65535.0 if sixteen_bit else 255.0
        return Image.fromarray(np.clip(pixels / scale * 255 + 0.5, 0, 255).astype(np.uint8)).convert("RGB")
    if image.mode in ALPHA_MODES or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")
