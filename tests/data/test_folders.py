"""The class-folder reader without TensorFlow (`folders.read_with_pillow`) against the lesson's loader
(`keras.utils.image_dataset_from_directory`, tf.data underneath): the same files, order and labels; the same pixels
for PNG files at their own size, and JPEG files within a few levels (TensorFlow decodes with libjpeg's fast integer
DCT, Pillow with its accurate one)."""

import numpy as np
import pytest
from PIL import Image

from tl_claims.data import folders
from tl_claims.data.photos import PHOTOS_ROOT


@pytest.fixture
def tree(tmp_path):
    """Two classes of JPEG and PNG files at 20 px, one RGBA and one grey, a hidden folder and a text file."""
    rng = np.random.default_rng(0)
    for name, count in (("b_tulips", 3), ("a_daisy", 2)):
        (tmp_path / name / "sub").mkdir(parents=True)
        for index in range(count):
            pixels = rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / name / f"{index}.png")
        # Opaque: transparency is the one decoder's rule (over white, tests/data/test_decode.py), which the folder's
        # normalised copy applies before the Keras loader reads it; the raw loader would drop the alpha channel.
        opaque = rng.integers(0, 256, (20, 20, 4), dtype=np.uint8)
        opaque[..., 3] = 255
        Image.fromarray(opaque).save(tmp_path / name / "sub" / "r.png")
        Image.fromarray(rng.integers(0, 256, (20, 20), dtype=np.uint8)).save(tmp_path / name / "G.PNG")
        (tmp_path / name / "notes.txt").write_text("not an image")
    (tmp_path / ".hidden").mkdir()
    return tmp_path


@pytest.mark.tensorflow_only("compares with the tf.data loader")
def test_pillow_reads_what_the_keras_loader_reads_bit_for_bit_at_the_files_own_size(tree, monkeypatch):
    loaded = folders.read_class_folders(tree, 20)
    pillow = folders.read_with_pillow(tree, 20)
    assert pillow[2] == loaded[2] and len(pillow[2]) == 9
    np.testing.assert_array_equal(pillow[1], loaded[1])
    np.testing.assert_array_equal(pillow[0], loaded[0])
    monkeypatch.setattr(folders, "has_tensorflow", lambda: False)
    np.testing.assert_array_equal(folders.read_class_folders(tree, 20, ("b_tulips",))[0], loaded[0][4:])


@pytest.mark.tensorflow_only("compares with the tf.data loader")
@pytest.mark.parametrize("size", [128, 64])
def test_jpeg_photos_agree_within_a_few_levels_at_their_size_and_resized(size):
    root = PHOTOS_ROOT / "128px"
    loaded = folders.read_class_folders(root, size, ("daisy",))
    pillow = folders.read_with_pillow(root, size, ("daisy",))
    assert pillow[2] == loaded[2] and len(pillow[2]) > 100
    difference = np.abs(pillow[0].astype(int) - loaded[0].astype(int))
    assert difference.max() <= 8 and difference.mean() < 1.0, (difference.max(), difference.mean())
