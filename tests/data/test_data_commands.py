"""`python -m tl_claims data ...`: pictures are written, output is what was promised, user errors are one line."""

import json

import numpy as np
import pytest
from PIL import Image

from tl_claims.cli import main
from tl_claims.data import calibrate, commands


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def fake_calibration(monkeypatch):
    monkeypatch.setattr(
        calibrate,
        "calibrate",
        lambda settings: {"color_histogram": 0.35, "linear_probe": 0.81},
    )


def test_calibrate_json_prints_exactly_the_four_accuracies(capsys, fake_calibration):
    code, out, _ = run(capsys, "data", "calibrate", "--json")
    assert code == 0
    assert json.loads(out) == {
        "color_histogram": 0.35,
        "linear_probe": 0.81,
    }


def test_calibrate_table_names_the_gates(capsys, fake_calibration):
    code, out, _ = run(capsys, "data", "calibrate")
    assert code == 0 and "linear_probe" in out and "in [0.70, 0.92]" in out
    assert "own generator streams (train/val/test seeds 101/102/103)" in out


def test_calibrate_accepts_the_objects_family_and_says_where_its_images_come_from(capsys, monkeypatch):
    seen = []
    monkeypatch.setattr(
        calibrate,
        "calibrate",
        lambda settings: seen.append(settings) or {"color_histogram": 0.25, "linear_probe": 0.8},
    )
    code, out, _ = run(capsys, "data", "calibrate", "--dataset", "synthetic:objects")
    assert code == 0 and seen[0].source == "synthetic:objects" and seen[0].data_config().purpose == "calibration"
    assert "calibration: synthetic:objects" in out


def test_a_missed_gate_exits_1_and_says_which(capsys, monkeypatch):
    monkeypatch.setattr(
        calibrate,
        "calibrate",
        lambda settings: {"color_histogram": 0.9, "linear_probe": 0.81},
    )
    code, _, err = run(capsys, "data", "calibrate", "--json")
    assert code == 1 and "colour histogram 0.900" in err


@pytest.mark.smoke
def test_show_writes_a_png_grid(capsys, tmp_path):
    out = tmp_path / "samples.png"
    code, printed, _ = run(capsys, "data", "show", "--out", str(out), "--image-size", "32", "--per-class", "2")
    assert code == 0 and str(out) in printed
    picture = np.asarray(Image.open(out))
    assert picture.shape[0] > 100 and picture.std() > 10


@pytest.mark.smoke
def test_show_augmentations_writes_a_png(capsys, tmp_path):
    out = tmp_path / "aug.png"
    code, _, _ = run(capsys, "data", "show-augmentations", "--out", str(out), "--image-size", "32", "--n", "2")
    assert code == 0 and Image.open(out).size[0] > 100


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["data", "show", "--dataset", "folder:/no/such/folder"], "no such folder"),
        (["data", "show", "--dataset", "ftp:x"], "unknown data source"),
        (["data", "calibrate", "--dataset", "synthetic:cars"], "known families: flowers, objects"),
        (["data", "show-augmentations", "--n", "0"], "--n=0: must be at least 1"),
    ],
)
def test_user_errors_are_one_message_without_traceback(capsys, argv, expected):
    code, _, err = run(capsys, *argv)
    assert code == 2 and expected in err
    assert "Traceback" not in err


def test_bad_files_in_a_folder_are_listed_without_traceback(capsys, tmp_path):
    for name in ("cats", "dogs"):
        (tmp_path / name).mkdir()
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / name / "ok.png")
    (tmp_path / "cats" / "broken.jpg").write_bytes(b"\xff\xd8\xffnot really")
    code, _, err = run(capsys, "data", "show", "--dataset", f"folder:{tmp_path}")
    assert code == 2 and "broken.jpg" in err and "Traceback" not in err


@pytest.fixture
def no_data(monkeypatch):
    """Option checks come before any image is loaded."""
    monkeypatch.setattr(commands, "picture_splits", lambda *_: pytest.fail("loaded data before checking options"))


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--seed", "-1"], "--seed=-1: must be between 0 and 2147483647"),
        (["--image-size", "100000"], "--image-size=100000: must be between 8 and 1024"),
        (["--out", "{tmp}"], "is a folder; give a file name"),
        (["--out", "{tmp}/a_file/picture.png"], "a_file is a file, so no folder can be made under it"),
    ],
)
@pytest.mark.parametrize("command", ["show", "show-augmentations"])
def test_bad_picture_options_are_one_line_not_an_internal_error(capsys, tmp_path, no_data, command, argv, expected):
    (tmp_path / "a_file").write_text("")
    code, _, err = run(capsys, "data", command, *[arg.format(tmp=tmp_path) for arg in argv])
    assert code == 2 and expected in err and "internal error" not in err and err.count("\n") == 1


def test_a_picture_that_cannot_be_written_is_one_line(capsys, tmp_path, monkeypatch):
    """Permission checks cannot see everything (root, read-only mounts, a full disk): the write itself is caught."""
    from tl_claims.data import show

    def denied(splits, out, *_):
        raise PermissionError(13, "Permission denied", str(out))

    monkeypatch.setattr(commands, "picture_splits", lambda *_: None)
    monkeypatch.setattr(show, "sample_grid", denied)
    code, _, err = run(capsys, "data", "show", "--out", str(tmp_path / "p.png"))
    assert code == 2 and "could not write the picture (Permission denied)" in err and err.count("\n") == 1
