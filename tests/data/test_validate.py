"""Bad input: each case either loads as RGB or is a DataError that names the file and the fix, before training."""

import contextlib
import io
import os
import signal
import struct
import zlib

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tl_claims.data import DataConfig, DataError, folders, load_splits
from tl_claims.data.validate import inspect_folder

SIZE = 12


def rgb(value=(200, 40, 40)) -> np.ndarray:
    return np.tile(np.array(value, np.uint8), (SIZE, SIZE, 1))


def jpeg_bytes(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


@pytest.fixture
def tree(tmp_path):
    """A valid two-class folder (three plain images each) to which a test adds one odd file."""
    root = tmp_path / "photos"
    for name, value in (("cats", (30, 30, 30)), ("dogs", (90, 90, 90))):
        (root / name).mkdir(parents=True)
        for k in range(3):
            Image.fromarray(rgb(value)).save(root / name / f"plain{k}.png")
    return root


def load_pool(root, tmp_path) -> tuple[np.ndarray, np.ndarray]:
    """Every image of a plain tree as the loader returns it (no splitting)."""
    pool = folders.folder_pools(root.resolve(), SIZE, tmp_path / "cache").train
    return pool.take(np.arange(len(pool.labels)))


def loaded(root, tmp_path) -> np.ndarray:
    """The pixels the loader returns for the one odd image, cats/odd.* (it sorts before cats/plain*.png)."""
    x, y = load_pool(root, tmp_path)
    return x[y == 0][0]


def fails(root, *patterns: str) -> str:
    with pytest.raises(DataError) as error:
        inspect_folder(root)
    message = str(error.value)
    for pattern in patterns:
        assert pattern in message, message
    return message


# ---------------------------------------------------------------------------------------------------- reported


def test_truncated_jpeg_is_reported_with_its_name(tree):
    data = jpeg_bytes(rgb())
    (tree / "cats" / "odd.jpg").write_bytes(data[: len(data) // 2])
    fails(tree, "odd.jpg", "cannot be decoded", "re-export")


def test_corrupt_jpeg_is_reported(tree):
    data = bytearray(jpeg_bytes(rgb()))
    data[200:] = b"\x00" * (len(data) - 200)  # header intact, entropy-coded data garbage
    (tree / "cats" / "odd.jpg").write_bytes(bytes(data))
    fails(tree, "odd.jpg", "cannot be decoded")


def test_non_image_with_an_image_extension_is_reported(tree):
    (tree / "dogs" / "notes.png").write_text("not a picture")
    fails(tree, "notes.png", "is not an image", "rename it")


def test_empty_class_folder_is_never_silent(tree):
    (tree / "birds").mkdir()
    (tree / "birds" / "readme.txt").write_text("only text here")
    fails(tree, "birds", "empty class folder", "add images")


def test_single_class_is_reported(tmp_path):
    (tmp_path / "only" / "cats").mkdir(parents=True)
    Image.fromarray(rgb()).save(tmp_path / "only" / "cats" / "a.png")
    fails(tmp_path / "only", "single class folder (cats/)", "at least two classes")


def test_class_names_that_differ_between_splits_are_reported(tmp_path):
    root = tmp_path / "split"
    for folder in ("train/cats", "train/dogs", "test/cats", "test/dog"):
        (root / folder).mkdir(parents=True)
        Image.fromarray(rgb()).save(root / folder / "a.png")
    fails(root, "test", "lacks ['dogs']", "has extra ['dog']", "same class folder names")


def test_missing_path_and_a_file_instead_of_a_folder(tmp_path):
    fails(tmp_path / "nowhere", "nowhere", "no such folder")
    (tmp_path / "file.jpg").write_bytes(b"x")
    fails(tmp_path / "file.jpg", "is a file, not a folder")


def test_images_outside_class_folders_and_two_validation_folders(tmp_path, tree):
    Image.fromarray(rgb()).save(tree / "loose.png")
    fails(tree, "outside any class folder", "loose.png")
    root = tmp_path / "split"
    for folder in ("train/a", "train/b", "val/a", "val/b", "validation/a", "validation/b"):
        (root / folder).mkdir(parents=True)
        Image.fromarray(rgb()).save(root / folder / "x.png")
    fails(root, "both val/ and validation/")


def test_a_folder_without_class_sub_folders_is_reported(tmp_path):
    (tmp_path / "flat").mkdir()
    Image.fromarray(rgb()).save(tmp_path / "flat" / "a.png")
    fails(tmp_path / "flat", "has no class sub-folders", "one sub-folder per class")


def test_split_folders_mixed_with_class_folders_are_reported(tmp_path):
    root = tmp_path / "mixed"
    for folder in ("train/a", "train/b", "cats"):
        (root / folder).mkdir(parents=True)
        Image.fromarray(rgb()).save(root / folder / "x.png")
    fails(root, "mixes split folders (train) with other folders (cats)")


def test_all_problems_are_reported_together(tree):
    (tree / "cats" / "bad.jpg").write_bytes(b"\xff\xd8\xff garbage")
    (tree / "dogs" / "notes.png").write_text("text")
    (tree / "birds").mkdir()
    message = fails(tree, "3 problem(s)", "bad.jpg", "notes.png", "birds")
    assert message.count("\n  - ") == 3


def test_load_splits_reports_before_training(tree):
    (tree / "cats" / "odd.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(DataError, match=r"odd.jpg"):
        load_splits(DataConfig(f"folder:{tree}", SIZE, 1, 0, 1, tree.parent / "cache"), seed=0)


# ---------------------------------------------------------------------------------------------------- loaded


def test_grayscale_loads_as_rgb(tree, tmp_path):
    Image.fromarray(np.full((SIZE, SIZE), 77, np.uint8)).save(tree / "cats" / "odd.jpg", quality=100)
    pixels = loaded(tree, tmp_path)
    assert np.allclose(pixels, 77, atol=2)


def test_rgba_is_composited_over_white(tree, tmp_path):
    pixels = np.zeros((SIZE, SIZE, 4), np.uint8)  # transparent black ...
    pixels[:, : SIZE // 2] = (10, 200, 10, 255)  # ... except an opaque green left half
    Image.fromarray(pixels, "RGBA").save(tree / "cats" / "odd.png")
    out = loaded(tree, tmp_path)
    assert np.allclose(out[:, 1], (10, 200, 10), atol=2)
    assert np.allclose(out[:, -2], 255, atol=2)
    assert not list(tree.rglob("*.png.png"))  # the user's folder is never modified


def test_palette_png_loads_with_its_colours(tree, tmp_path):
    Image.fromarray(rgb((200, 40, 40))).convert("P", palette=Image.ADAPTIVE, colors=4).save(tree / "cats" / "odd.png")
    assert np.allclose(loaded(tree, tmp_path), (200, 40, 40), atol=3)


def test_palette_png_with_transparency_is_composited(tree, tmp_path):
    image = Image.fromarray(rgb((0, 0, 0))).convert("P")
    image.save(tree / "cats" / "odd.png", transparency=image.getpixel((0, 0)))
    assert np.allclose(loaded(tree, tmp_path), 255, atol=2)


def test_16_bit_grey_png_is_scaled_not_clipped(tree, tmp_path):
    Image.fromarray(np.full((SIZE, SIZE), 32896, np.uint16)).save(tree / "cats" / "odd.png")  # 128 * 257
    assert Image.open(tree / "cats" / "odd.png").mode.startswith("I;16")
    assert np.allclose(loaded(tree, tmp_path), 128, atol=1)


def test_16_bit_rgb_png_is_scaled(tree, tmp_path):
    pixels = rgb((200, 40, 40)).astype(np.uint16) * 257
    (tree / "cats" / "odd.png").write_bytes(tf.io.encode_png(tf.constant(pixels)).numpy())
    assert np.allclose(loaded(tree, tmp_path), (200, 40, 40), atol=1)


def test_cmyk_jpeg_is_converted_to_rgb(tree, tmp_path):
    Image.fromarray(rgb((200, 40, 40))).convert("CMYK").save(tree / "cats" / "odd.jpg", quality=100)
    assert inspect_folder(tree).to_convert == [tree / "cats" / "odd.jpg"]
    assert np.allclose(loaded(tree, tmp_path), (200, 40, 40), atol=6)


def test_files_without_an_image_extension_are_ignored(tree, tmp_path):
    (tree / "cats" / ".DS_Store").write_bytes(b"\x00\x01")
    (tree / "cats" / "notes.txt").write_text("ignored")
    _x, y = load_pool(tree, tmp_path)
    assert np.bincount(y).tolist() == [3, 3]


# ------------------------------------------------------------------------------- hostile entries and names
# The checker walks the tree as the loader does and decides from metadata, so the loader never meets an entry the
# checker did not accept: no TensorFlow "internal error", and a named pipe is never opened (it would block forever).


@contextlib.contextmanager
def within(seconds: int):
    """Fail instead of hanging (a named pipe opened for reading blocks until a writer comes)."""

    def timeout(*_):
        raise AssertionError(f"still running after {seconds} s: something opened a named pipe")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_a_dangling_symlink_is_reported_not_an_internal_error(tree):
    (tree / "cats" / "odd.jpg").symlink_to(tree / "nowhere.jpg")
    fails(tree, "odd.jpg", "symbolic link to", "nowhere.jpg", "does not exist")


def test_a_looping_symlink_is_reported(tree):
    (tree / "cats" / "loop.jpg").symlink_to(tree / "cats" / "loop.jpg")
    fails(tree, "loop.jpg", "symbolic link that loops")


def test_a_named_pipe_with_an_image_extension_is_refused_by_name_and_never_opened(tree):
    os.mkfifo(tree / "cats" / "pipe.jpg")
    with within(20):
        fails(tree, "pipe.jpg", "is a named pipe", "not opened")
        with pytest.raises(DataError, match="named pipe"):
            load_splits(DataConfig(f"folder:{tree}", SIZE, 1, 0, 1, tree.parent / "cache"), seed=0)


def test_a_symlink_to_a_named_pipe_is_refused(tree, tmp_path):
    os.mkfifo(tmp_path / "pipe")
    (tree / "cats" / "odd.png").symlink_to(tmp_path / "pipe")
    with within(20):
        fails(tree, "odd.png", "symbolic link to a named pipe")


def test_a_device_with_an_image_extension_is_refused(tree):
    (tree / "cats" / "null.png").symlink_to("/dev/null")
    fails(tree, "null.png", "character device")


def test_a_symlink_to_a_good_image_loads_like_the_image(tree, tmp_path):
    Image.fromarray(rgb((10, 220, 10))).save(tmp_path / "green.png")
    (tree / "cats" / "odd.png").symlink_to(tmp_path / "green.png")
    assert np.allclose(loaded(tree, tmp_path), (10, 220, 10), atol=1)


def latin1(path) -> bytes:
    return os.fsencode(path)


@pytest.mark.parametrize("where", ["file", "class folder"])
def test_a_latin1_name_is_reported_readably(tree, where):
    if where == "file":
        name = os.path.join(latin1(tree / "cats"), b"caf\xe9.png")
    else:
        os.mkdir(os.path.join(latin1(tree), b"b\xe9b\xe9s"))
        name = os.path.join(latin1(tree), b"b\xe9b\xe9s", b"a.png")
    Image.fromarray(rgb()).save(os.fsdecode(name), format="PNG")
    message = fails(tree, "not valid UTF-8", "caf\\xe9.png" if where == "file" else "b\\xe9b\\xe9s")
    message.encode("utf-8")  # printable as it is: no surrogates left in the message


def test_exif_orientation_is_applied(tree, tmp_path):
    """A phone photo stored sideways with orientation 6 (rotate 90 degrees clockwise to view) loads upright."""
    stored = np.zeros((SIZE, SIZE, 3), np.uint8)
    stored[:, : SIZE // 2] = (250, 0, 0)  # left half red as stored: the top half once turned clockwise
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(stored).save(tree / "cats" / "odd.jpg", quality=100, exif=exif)
    assert inspect_folder(tree).to_convert == [tree / "cats" / "odd.jpg"]
    upright = loaded(tree, tmp_path)
    assert upright[1, SIZE // 2, 0] > 200 and upright[-2, SIZE // 2, 0] < 50


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims width x height pixels in a few dozen bytes: a decompression bomb's header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


@pytest.mark.parametrize("pixels", ["over twice the limit", "just over the limit"])
def test_a_decompression_bomb_is_named_as_such_with_pillows_limit(tree, pixels):
    side = 20_000 if pixels == "over twice the limit" else 9_500  # Pillow: 89,478,485 pixels, error at twice
    (tree / "cats" / "bomb.png").write_bytes(png_header_only(side, side))
    fails(tree, "bomb.png", "decompression bomb", f"{Image.MAX_IMAGE_PIXELS:,}", "resize it")
