"""One decoder, two ways in: each awkward image gives the same right pixels through `predict` and through the folder
loader (or both refuse it, naming the file)."""

import struct

import numpy as np
import pytest
from PIL import Image

from tl_claims import predict
from tl_claims.data import DataError, decode, folders

SIZE = 12
RED = (200, 40, 40)


def uniform(value) -> np.ndarray:
    return np.tile(np.array(value, np.uint8), (SIZE, SIZE, 1))


def bmp(bits: int, row: bytes, palette: bytes = b"") -> bytes:
    """A SIZE x SIZE BMP of `bits` bits per pixel, every row the same: Pillow writes only 1-, 8-, 24- and 32-bit."""
    stride = (SIZE * bits + 31) // 32 * 4
    data = row.ljust(stride, b"\0") * SIZE
    offset = 14 + 40 + len(palette)
    header = b"BM" + struct.pack("<IHHI", offset + len(data), 0, 0, offset)
    info = struct.pack("<IiiHHIIiiII", 40, SIZE, SIZE, 1, bits, 0, len(data), 2835, 2835, len(palette) // 4, 0)
    return header + info + palette + data


def write_palette_bmp(path):
    Image.fromarray(uniform(RED)).convert("P", palette=Image.ADAPTIVE, colors=4).save(path)


def write_4_bit_bmp(path):
    palette = bytes([0, 0, 0, 0, RED[2], RED[1], RED[0], 0]) + bytes(4 * 14)  # index 1 = RED (stored B, G, R, 0)
    path.write_bytes(bmp(4, bytes([0x11]) * (SIZE // 2), palette))


def write_16_bit_bmp(path):
    path.write_bytes(bmp(16, struct.pack("<H", 0x7C00) * SIZE))  # 5-5-5: red at its maximum, green and blue 0


def write_16_bit_png(path):
    Image.fromarray(np.full((SIZE, SIZE), 128 * 257, np.uint16)).save(path)  # 128 of 255 in 16 bits
    assert Image.open(path).mode.startswith("I;16")


def write_exif_rotated_jpeg(path):
    """Stored sideways, left half red, with orientation 6 (turn 90 degrees clockwise to view): upright, the top half
    is red (orientation 8 would put it at the bottom)."""
    stored = np.zeros((SIZE, SIZE, 3), np.uint8)
    stored[:, : SIZE // 2] = RED
    exif = Image.Exif()
    exif[decode.EXIF_ORIENTATION] = 6
    Image.fromarray(stored).save(path, quality=100, exif=exif)


def write_rgba_png(path):
    pixels = np.zeros((SIZE, SIZE, 4), np.uint8)  # transparent black, but an opaque red left half
    pixels[:, : SIZE // 2] = (*RED, 255)
    Image.fromarray(pixels, "RGBA").save(path)


def write_la_png(path):
    Image.fromarray(np.zeros((SIZE, SIZE, 2), np.uint8), "LA").save(path)  # fully transparent black


def write_cmyk_jpeg(path):
    Image.fromarray(uniform(RED)).convert("CMYK").save(path, quality=100)


def top_red_bottom_black(pixels):
    return np.allclose(pixels[:4], RED, atol=25) and np.allclose(pixels[-4:], 0, atol=25)


def left_red_right_white(pixels):
    return np.allclose(pixels[:, :4], RED, atol=2) and np.allclose(pixels[:, -4:], 255, atol=2)


CASES = {
    "palette BMP": ("odd.bmp", write_palette_bmp, lambda px: np.allclose(px, RED, atol=3)),
    "4-bit BMP": ("odd.bmp", write_4_bit_bmp, lambda px: np.allclose(px, RED, atol=1)),
    "16-bit BMP": ("odd.bmp", write_16_bit_bmp, lambda px: np.allclose(px, (255, 0, 0), atol=1)),
    "16-bit grey PNG, scaled not clipped": ("odd.png", write_16_bit_png, lambda px: np.allclose(px, 128, atol=1)),
    "EXIF-rotated JPEG": ("odd.jpg", write_exif_rotated_jpeg, top_red_bottom_black),
    "RGBA PNG over white": ("odd.png", write_rgba_png, left_red_right_white),
    "LA PNG over white": ("odd.png", write_la_png, lambda px: np.allclose(px, 255, atol=1)),
    "CMYK JPEG": ("odd.jpg", write_cmyk_jpeg, lambda px: np.allclose(px, RED, atol=6)),
}


def through_predict(path, _tmp_path) -> np.ndarray:
    return predict.load_image(path, SIZE)


def through_the_folder_loader(path, tmp_path) -> np.ndarray:
    """The pixels the claims' folder source gives the one image of class `cats` (the other class: one plain PNG)."""
    root = path.parent.parent
    (root / "dogs").mkdir(exist_ok=True)
    Image.fromarray(uniform((90, 90, 90))).save(root / "dogs" / "plain.png")
    pool = folders.folder_pools(root.resolve(), SIZE, tmp_path / "cache").train
    x, y = pool.take(np.arange(len(pool.labels)))
    return x[y == 0][0]


WAYS = {"predict": through_predict, "folder loader": through_the_folder_loader}


def odd_file(tmp_path, name: str):
    (tmp_path / "photos" / "cats").mkdir(parents=True)
    return tmp_path / "photos" / "cats" / name


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("case", CASES)
def test_an_awkward_image_gives_the_same_right_pixels_both_ways(tmp_path, case, way):
    name, write, right = CASES[case]
    path = odd_file(tmp_path, name)
    write(path)
    pixels = WAYS[way](path, tmp_path)
    assert pixels.shape == (SIZE, SIZE, 3) and pixels.dtype == np.uint8
    assert right(pixels), pixels[:, :, 0]


@pytest.mark.parametrize("way", WAYS)
def test_an_image_over_the_pixel_limit_is_refused_both_ways_naming_the_file(tmp_path, way):
    """10000 x 10000 is over Pillow's 89,478,485-pixel limit but under twice it, where Pillow only warns."""
    path = odd_file(tmp_path, "huge.png")
    Image.new("1", (10_000, 10_000)).save(path)  # 12 kB on disk: 1 bit a pixel, compressed
    with pytest.raises((DataError, decode.TooManyPixels)) as error:
        WAYS[way](path, tmp_path)
    assert "huge.png" in str(error.value) and "decompression bomb or a huge image" in str(error.value)


def test_a_file_pillow_cannot_identify_is_named_with_a_fix(tmp_path):
    (tmp_path / "notes.png").write_text("not a picture")
    with pytest.raises(decode.NotAnImage, match=r"notes\.png: is not an image.*; pass a JPEG or PNG file"):
        decode.read_rgb(tmp_path / "notes.png")
