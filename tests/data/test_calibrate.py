"""Calibration: the numpy logistic regression, the gates, a smoke run of the whole path, and the cpu-scale gates."""

import json

import numpy as np
import pytest

from harness.data import calibrate
from harness.data.calibrate import CalibrationSettings, gate_failures

PASSING = {"color_histogram": 0.35, "linear_probe": 0.81, "linear_probe_raw": 0.52, "scratch_cnn": 0.41}


def test_softmax_regression_separates_separable_data():
    rng = np.random.default_rng(0)
    centres = np.array([[3.0, 0.0], [-3.0, 0.0], [0.0, 3.0]])
    y = np.repeat(np.arange(3), 30)
    x = centres[y] + rng.normal(0, 0.5, (90, 2))
    weights = calibrate.fit_softmax_regression(x, y, 3, l2=1e-3)
    assert calibrate.accuracy(calibrate.predict(weights, x), y) == 1.0


def test_colour_histogram_is_a_normalised_colour_only_descriptor():
    images = np.random.default_rng(0).integers(0, 256, (4, 8, 8, 3)).astype(np.uint8)
    features = calibrate.colour_histogram_features(images)
    assert features.shape == (4, calibrate.HISTOGRAM_BINS**3)
    assert np.allclose((features**2).sum(axis=1), 1.0)
    shuffled = images.reshape(4, 64, 3)[:, ::-1].reshape(images.shape)  # same colours, other places
    assert np.allclose(calibrate.colour_histogram_features(shuffled), features)


def test_gates_pass_on_good_numbers_and_name_each_miss():
    assert gate_failures(PASSING) == []
    bad = {"color_histogram": 0.6, "linear_probe": 0.95, "linear_probe_raw": 0.93, "scratch_cnn": 0.9}
    failures = gate_failures(bad)
    assert len(failures) == 4
    assert "too easy" in failures[1]


@pytest.mark.smoke
def test_calibrate_smoke_runs_the_whole_path_prints_json_and_repeats(capsys):
    """Tiny sizes, no gates: every classifier runs, the JSON has the promised keys and ranges, and the seeded
    from-scratch CNN (the only stochastic part) gives the same number when trained again. One family: the path is
    the same for both (`--dataset synthetic:objects` reaches it: test_data_commands.py; the cpu gates: below)."""
    dataset = "synthetic"
    from harness.cli import main
    from harness.data import load_splits

    main(
        [
            "data",
            "calibrate",
            "--json",
            "--dataset",
            dataset,
            "--image-size",
            "32",
            "--n-train",
            "3",
            "--n-test",
            "3",
            "--epochs",
            "1",
        ]
    )
    results = json.loads(capsys.readouterr().out)
    assert set(results) == {"color_histogram", "linear_probe", "linear_probe_raw", "scratch_cnn"}
    assert all(0.0 <= value <= 1.0 for value in results.values())
    settings = CalibrationSettings(source=dataset, image_size=32, n_train=3, n_test=3, scratch_epochs=1)
    again = calibrate.scratch_cnn_accuracy(load_splits(settings.data_config(), 0), epochs=1, seed=0)
    assert round(again, 4) == results["scratch_cnn"]


@pytest.mark.cpu
@pytest.mark.parametrize("dataset", ["synthetic:flowers", "synthetic:objects"])
def test_synthetic_families_meet_the_calibration_gates(dataset):
    """96 px, 50 train / 100 test per class, on the calibration's own streams: colour alone fails, ImageNet
    features help, scratch lags far behind."""
    results = calibrate.calibrate(CalibrationSettings(source=dataset))
    assert gate_failures(results) == [], results
