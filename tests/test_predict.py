"""`python -m tl_claims predict`, driven through `tl_claims.cli.main` as a user would."""

import json

import numpy as np
import pytest
import skimage.data
from PIL import Image

from tl_claims import backbones, cli
from tl_claims.backbones import keras_apps
from tl_claims.predict import imagenet_class_names


@pytest.fixture(autouse=True)
def only_the_predict_command(monkeypatch, tmp_path):
    """Other commands belong to other modules (their import problems must not fail these tests); a private cache."""
    monkeypatch.setattr(cli, "COMMAND_MODULES", ["tl_claims.predict"])
    monkeypatch.setenv("TL_CLAIMS_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    Image.fromarray(skimage.data.chelsea()).save(folder / "chelsea.png")
    Image.fromarray(skimage.data.coffee()).save(folder / "coffee.jpg")
    return folder


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["predict", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_class_names_fixture_has_the_1000_imagenet_classes_in_order():
    names = imagenet_class_names()
    assert len(names) == len(set(names)) == 1000
    assert names[0].startswith("tench") and names[285] == "Egyptian cat" and names[967] == "espresso"


def test_text_output_lists_top5_best_first_for_each_image(capsys, photos):
    code, out, err = run_cli(capsys, str(photos / "chelsea.png"), str(photos / "coffee.jpg"))
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 2 * 6
    assert lines[0].startswith(str(photos / "chelsea.png")) and "efficientnet_lite0, 224 px, preprocessed" in lines[0]
    assert lines[1].split()[0] == "285" and lines[1].endswith("Egyptian cat")
    assert lines[7].split()[0] == "967" and lines[7].endswith("espresso")
    probabilities = [float(line.split()[1]) for line in lines[1:6]]
    assert probabilities == sorted(probabilities, reverse=True)


def test_json_output_and_no_preprocess_changes_the_answer(capsys, photos):
    image = str(photos / "chelsea.png")
    code, out, _ = run_cli(capsys, "--json", image)
    assert code == 0
    (result,) = json.loads(out)
    assert result["image"] == image and len(result["top5"]) == 5
    assert set(result["top5"][0]) == {"index", "name", "probability"}
    assert result["top5"][0]["index"] == 285 and result["top5"][0]["name"] == "Egyptian cat"
    assert np.all(np.diff([c["probability"] for c in result["top5"]]) <= 0)
    code, out, _ = run_cli(capsys, "--json", "--no-preprocess", image)
    assert code == 0 and json.loads(out)[0]["top5"][0]["index"] != 285


def assert_one_line_error(code: int, out: str, err: str, *fragments: str) -> None:
    assert code != 0 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and err.startswith("error: ")
    for fragment in fragments:
        assert fragment in err


def test_missing_file_is_one_clear_line(capsys, tmp_path):
    assert_one_line_error(*run_cli(capsys, str(tmp_path / "nope.jpg")), "nope.jpg", "does not exist")


def test_not_an_image_is_one_clear_line(capsys, tmp_path):
    fake = tmp_path / "notes.jpg"
    fake.write_text("this is not a JPEG")
    assert_one_line_error(*run_cli(capsys, str(fake)), "notes.jpg", "is not an image")


def test_unknown_backbone_is_one_clear_line(capsys, photos):
    code, out, err = run_cli(capsys, "--backbone", "resnet50", str(photos / "chelsea.png"))
    assert_one_line_error(code, out, err, "'resnet50'", "efficientnet_lite0", "mobilenet_v2")


def test_too_small_image_size_is_one_clear_line(capsys, photos):
    assert_one_line_error(*run_cli(capsys, "--image-size", "16", str(photos / "chelsea.png")), ">= 32")


def test_missing_keras_weights_is_one_clear_line(capsys, photos, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setattr(keras_apps.tempfile, "gettempdir", lambda: str(tmp_path / "tmp"))
    monkeypatch.setattr(keras_apps, "_network_reachable", lambda url: False)
    code, out, err = run_cli(capsys, "--backbone", "efficientnet_b0", str(photos / "chelsea.png"))
    assert_one_line_error(code, out, err, "'efficientnetb0.h5'", "weights=PATH")


def test_weights_and_image_size_options(capsys, photos, tmp_path):
    model = backbones.load("mobilenet_v2", image_size=32, include_top=True, weights=None)
    model.save_weights(tmp_path / "v2.weights.h5")
    code, out, err = run_cli(
        capsys,
        "--backbone",
        "mobilenet_v2",
        "--image-size",
        "32",
        "--weights",
        str(tmp_path / "v2.weights.h5"),
        str(photos / "chelsea.png"),
    )
    assert code == 0, err
    assert "mobilenet_v2, 32 px" in out and len(out.strip().splitlines()) == 6
    assert_one_line_error(
        *run_cli(capsys, "--weights", str(tmp_path / "absent.pth"), str(photos / "chelsea.png")),
        "absent.pth",
        "does not exist",
    )
