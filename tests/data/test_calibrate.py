"""Calibration: the numpy logistic regression, the gates, a smoke run of the whole path, and the cpu-scale gates."""

import json

import numpy as np
import pytest

from tl_claims.data import calibrate
from tl_claims.data.calibrate import CalibrationSettings, gate_failures

PASSING = {"color_histogram": 0.35, "linear_probe": 0.81}


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
    failures = gate_failures({"color_histogram": 0.6, "linear_probe": 0.95})
    assert len(failures) == 2
    assert "colour alone" in failures[0] and "too easy" in failures[1]
    assert "too hard" in gate_failures({"color_histogram": 0.2, "linear_probe": 0.5})[0]


# Each gate and why it exists. A gate says whether the data are learnable at all; none may measure an outcome that a
# claim tests (raw vs preprocessed input is `preprocessing`; scratch vs pretrained is `transfer_vs_scratch`).
GATES = {
    "color_histogram": "colour alone must not solve the task, or the backbone's features would not matter",
    "linear_probe": "frozen features must carry the classes (>= 0.70) and leave fine-tuning room (<= 0.92)",
}


def test_the_gates_are_learnability_checks_and_none_tests_a_claim():
    assert set(calibrate.RESULT_KEYS) == set(GATES)
    for key in GATES:  # each gate can fail on its own measurement alone
        worst = {**PASSING, key: 0.99 if key == "color_histogram" else 0.1}
        assert len(gate_failures(worst)) == 1
    claims_outcomes = ("raw", "scratch", "augment", "fine-tun", "stage")
    assert not [key for key in calibrate.RESULT_KEYS if any(word in key for word in claims_outcomes)]


@pytest.mark.smoke
def test_calibrate_smoke_runs_the_whole_path_prints_json_and_repeats(capsys):
    """Tiny sizes, no gates: every classifier runs, the JSON has the promised keys and ranges, and a second run
    gives the same numbers. One family: the path is the same for both (`--dataset synthetic:objects` reaches it:
    test_data_commands.py; the cpu gates: below)."""
    dataset = "synthetic"
    from tl_claims.cli import main

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
        ]
    )
    results = json.loads(capsys.readouterr().out)
    assert set(results) == {"color_histogram", "linear_probe"}
    assert all(0.0 <= value <= 1.0 for value in results.values())
    settings = CalibrationSettings(source=dataset, image_size=32, n_train=3, n_test=3)
    again = calibrate.calibrate(settings)
    assert {key: round(value, 4) for key, value in again.items()} == results


@pytest.mark.cpu
@pytest.mark.parametrize("dataset", ["synthetic:flowers", "synthetic:objects"])
def test_synthetic_families_meet_the_calibration_gates(dataset):
    """96 px, 50 train / 100 test per class, on the calibration's own streams: colour alone fails, ImageNet
    features carry the classes and leave fine-tuning room."""
    results = calibrate.calibrate(CalibrationSettings(source=dataset))
    assert gate_failures(results) == [], results
