"""The homework grader: the claims two_stage and transfer_vs_scratch through the engine on a student's recipe; the
correct example through `pytest --homework` at cpu scale (acceptance)."""

import csv
import hashlib
import re
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from tl_claims.backbones import keras_apps
from tl_claims.claims.registry import CLAIMS
from tl_claims.core.errors import HarnessError
from tl_claims.core.paths import REPO_ROOT
from tl_claims.data import load_splits
from tl_claims.recipe.scales import SCALES
from tl_claims.results import rowfile
from tl_claims.results.row import Row
from tl_claims.teaching import checks, homework, seal
from tl_claims.teaching.pipeline import Pipeline
from tl_claims.teaching.rehearsal import Rehearsal
from tl_claims.teaching.student import StudentConfig, StudentTimeout, probe_config

CORRECT = REPO_ROOT / "examples" / "student_correct.py"
CHEATER = Path(__file__).parent / "cheating_student.py"
LANDLOCK, UNSEALED = seal.landlock_abi()


@pytest.mark.cpu
@pytest.mark.longest
def test_the_correct_example_passes_the_homework(pytester):
    """`pytest --homework student_correct.py -m cpu` as a student runs it (graded in a child): both acceptance
    criteria and every check hold, its rows are on disk with the claims' own margins, and the lesson's code as written
    is beside its numbers. At smoke scale the class test grades it with the other examples (test_classroom.py)."""
    scale_name = "cpu"
    pytester.makeconftest('pytest_plugins = ["tl_claims.plugin.hooks", "tl_claims.teaching.plugin"]')
    student = pytester.path / CORRECT.name
    student.write_text(CORRECT.read_text(encoding="utf-8"), encoding="utf-8")
    results_dir = pytester.path / "results"
    result = pytester.runpytest("--homework", str(student), "--results-dir", str(results_dir), "-m", scale_name)
    result.assert_outcomes(passed=1, deselected=2)  # both acceptance criteria and every check hold
    rows = [row for row in rowfile.read_rows(results_dir / scale_name) if row["variant"] == "student:student_correct"]
    assert {row["claim"] for row in rows} == {"two_stage", "transfer_vs_scratch"}
    seeds = len(SCALES[scale_name].seeds)
    assert all(len(values) == seeds for row in rows for values in row["per_seed"].values())
    assert all(row["threshold"] == CLAIMS[row["claim"]].threshold for row in rows)  # margins from the claims
    with (results_dir / scale_name / "homework_class.csv").open(encoding="utf-8") as handle:
        (record,) = csv.DictReader(handle)  # its class-table row
    phase2 = next(row["treatment"] for row in rows if row["claim"] == "two_stage")
    assert (record["student"], float(record["phase2"])) == ("student_correct", pytest.approx(phase2, abs=5e-4))
    said = (result.stdout.str() + result.stderr.str()).splitlines()  # progress lines go to stderr
    lines = [line for line in said if "the lesson's code as written" in line]  # on the same data and backbone
    literal = re.search(r"phase 2 \d\.\d{3}", lines[-1]).group(0)
    feedback = (results_dir / scale_name / "feedback" / "student_correct.md").read_text(encoding="utf-8")
    assert literal in feedback


def fabricated(phase1: list[float], phase2: list[float], scratch: list[float]) -> homework.HomeworkResult:
    scale = SCALES["cpu"].override(seeds=len(phase1))

    def row(claim_id: str, baseline: list[float]) -> Row:
        delta = sum(phase2) / len(phase2) - sum(baseline) / len(baseline)
        return Row(
            claim=claim_id,
            variant="student:hw",
            scale="cpu",
            backbone="efficientnet_lite0",
            dataset="synthetic",
            image_size=96,
            n_train=50,
            seeds=len(phase1),
            baseline=sum(baseline) / len(baseline),
            treatment=sum(phase2) / len(phase2),
            delta=delta,
            ci_low=delta,
            ci_high=delta,
            threshold=CLAIMS[claim_id].threshold,
            verdict="CONFIRMED",
            seconds=1.0,
            per_seed={"b": baseline, "t": phase2},
        )

    return homework.HomeworkResult("hw", scale, (row("two_stage", phase1), row("transfer_vs_scratch", scratch)), ())


def test_acceptance_uses_the_mean_delta_and_the_claims_thresholds():
    assert fabricated([0.80, 0.82], [0.83, 0.83], [0.50, 0.52]).failures() == []  # +2.0 pp exactly passes
    (two_stage,) = fabricated([0.80, 0.82], [0.81, 0.83], [0.50, 0.52]).failures()
    assert "at least 2 pp" in two_stage and "measured +1.0 pp" in two_stage
    (scratch,) = fabricated([0.50, 0.50], [0.60, 0.60], [0.55, 0.55]).failures()
    assert "at least 10 pp" in scratch and "+5.0 pp" in scratch
    assert "al menos 10 pp" in fabricated([0.5], [0.6], [0.55]).failures(lang="es")[0]


def test_the_summary_names_all_three_arms():
    summary = fabricated([0.80, 0.82], [0.86, 0.88], [0.40, 0.42]).summary()
    assert "phase 1 0.810" in summary and "phase 2 0.870" in summary and "from scratch 0.410" in summary


def test_the_lesson_literal_line_says_whether_the_lessons_code_meets_the_criterion():
    fields = homework.result_fields(fabricated([0.80, 0.82], [0.86, 0.88], [0.40, 0.42]))
    literal = fabricated([0.79, 0.79], [0.75, 0.75], [0.4, 0.4]).row("two_stage")
    with_literal = homework.with_reference(fields, literal)
    assert with_literal["summary"].splitlines()[0] == fields["summary"]
    line = with_literal["summary"].splitlines()[-1]
    assert "lesson's code as written" in line and "-4.0 pp" in line and "missed" in line
    assert with_literal["lesson_literal_phase2"] == 0.75 and with_literal["lesson_literal_accepted"] is False
    assert "no cumple" in homework.with_reference(homework.result_fields(fabricated([0.8], [0.86], [0.4]), "es"),
                                                  literal, "es")["summary"]  # fmt: skip
    assert homework.with_reference(fields, None)["summary"] == fields["summary"]  # no reference: no sentence


@pytest.mark.parametrize(
    ("backbone", "reason"),
    [("mobilenet_v2", "mobilenet_v2"), ("resnet_9000", "unknown backbone")],
    ids=["offline", "unknown"],
)
def test_the_lesson_literal_reference_is_left_out_with_its_reason_when_the_suite_cannot_build_the_base(
    tmp_path, monkeypatch, backbone, reason
):
    """A student's own base may load ImageNet weights from a file of theirs; the suite's reference needs them here
    (or a backbone it knows): without them, no reference and one line saying why, never a crash."""
    monkeypatch.setattr(keras_apps, "keras_models_dirs", lambda: [tmp_path / "models"])  # no cached file, no network
    monkeypatch.setattr(keras_apps, "_network_reachable", lambda url: False)
    lines = []
    assert homework.lesson_literal_reference(SCALES["smoke"], backbone, tmp_path, "run", lines.append) is None
    (line,) = lines
    assert line.startswith("the lesson's code as written was not run for comparison:") and reason in line.lower()


@pytest.mark.parametrize(
    "bugs",
    [(), ("base_not_frozen",), ("no_recompile",), ("bn_updating",), ("high_lr",)],
    ids=lambda bugs: "+".join(bugs) or "correct",
)
def test_the_homeworks_first_phases_give_the_checks_what_a_rehearsal_gives(tiny, tmp_path, bugs):
    """The homework child's checks read training's facts from the student's first two phases (sandbox.py): the same
    verdict for every check that reads them as the checks' own rehearsal gives, and the same facts."""
    student, scale = tiny(*bugs), SCALES["smoke"]
    splits = load_splits(scale.data_config(tmp_path), 0)
    config = StudentConfig(scale.image_size, len(splits.class_names), scale.batch_size, "imagenet", 0, splits.x_train,
                           splits.y_train, splits.x_val, splits.y_val, splits.class_names)  # fmt: skip
    trained, rehearsal = homework.train_seed(student, homework.Settings.of(scale), config, tmp_path)
    assert set(trained.budgets) == set(homework.PHASES)
    assert all(homework.weights_path(tmp_path, 0, phase).is_file() for phase in homework.PHASES)
    rehearsed, from_phases = Pipeline.build(student), Pipeline.build(student)
    from_phases.use_rehearsal(rehearsal)
    for name in checks.REHEARSAL_CHECKS:
        assert (
            checks.run_one(checks.CHECKS[name], from_phases, "en")[0]
            == checks.run_one(checks.CHECKS[name], rehearsed, "en")[0]
        ), name

    def facts(rehearsal: Rehearsal) -> dict:  # variable paths differ between two builds: count them
        return {key: len(value) if isinstance(value, list) else value for key, value in vars(rehearsal).items()}

    assert facts(rehearsal) == facts(rehearsed.rehearsal())


def identity_model(images, training=False):
    """A 'model' whose prediction for an image is its first pixel (enough to follow which images were scored)."""
    return tf.one_hot(tf.cast(images[:, 0], tf.int32), 4)


def test_scoring_reads_one_pass_of_the_test_pipeline_and_refuses_one_that_repeats_or_falls_short():
    """A validation pipeline that repeats forever made scoring loop without bound; one that yielded part of the test
    set was scored on that part without a word. Both are refused with a sentence that says which."""
    images, labels = np.arange(10, dtype="float32")[:, None] % 4, np.arange(10) % 4
    data = tf.data.Dataset.from_tensor_slices((images, labels))
    evaluation = homework.evaluate_pipeline(identity_model, data.batch(3), expected=10)
    assert list(evaluation.labels) == list(labels) and evaluation.predictions.tolist() == labels.tolist()
    with pytest.raises(HarnessError, match="more than the 10 images it was given"):
        homework.evaluate_pipeline(identity_model, data.batch(3).repeat(), expected=10)
    with pytest.raises(HarnessError, match="yielded 9 of the 10 images"):
        homework.evaluate_pipeline(identity_model, data.batch(3, drop_remainder=True), expected=10)
    with pytest.raises(HarnessError, match="repeats without end"):
        homework.count_batches(data.batch(2).repeat(), most_images=10)
    assert homework.count_batches(data.batch(4), most_images=10) == 3


def test_the_per_call_time_limit_covers_the_test_pass(tiny):
    """Scoring runs the student's pipeline (its map functions): it is bounded by --call-timeout like every call."""
    student = replace(tiny(), time_limit=0.5)

    def slow(image):
        time.sleep(0.2)
        return image

    data = tf.data.Dataset.from_tensor_slices((np.zeros((20, 1), "float32"), np.zeros(20, "int64")))
    slowed = data.map(lambda x, y: (tf.py_function(slow, [x], tf.float32), y)).batch(1)
    student.module.build_datasets = lambda config: (slowed, slowed)
    started = time.monotonic()
    with pytest.raises(StudentTimeout, match="build_datasets"):
        homework.score_pass(student, identity_model, probe_config(), np.zeros((20, 1), "float32"))
    assert time.monotonic() - started < 2.0


def shuffling(student, seed: int = 3):
    """`student` whose validation pipeline shuffles its images (harmless: it must be graded all the same)."""
    honest = student.module.build_datasets

    def build_datasets(config):
        train, val = honest(config)
        return train, val.unbatch().shuffle(64, seed=seed).batch(3)

    student.module.build_datasets = build_datasets
    return student


def test_a_validation_pipeline_that_shuffles_is_scored_image_by_image_in_groups(tiny):
    """The scoring child feeds labels i mod K, so that the grader alone knows the truth: a pipeline that reorders the
    images is scored again in groups of K, each image found by its label."""
    student = shuffling(tiny())
    images = np.arange(23, dtype="float32")[:, None] % 4  # the identity model predicts each image's first pixel
    passes = homework.score_passes(student, identity_model, replace(probe_config(), num_classes=4), images)
    assert len(passes) == 6 and [group["start"] for group in passes] == [0, 4, 8, 12, 16, 20]
    assert homework.predictions_in_order(passes, 23, 4).tolist() == (np.arange(23) % 4).tolist()
    honest = homework.score_passes(tiny(name="honest"), identity_model, replace(probe_config(), num_classes=4), images)
    assert len(honest) == 1 and homework.predictions_in_order(honest, 23, 4).tolist() == (np.arange(23) % 4).tolist()
    with pytest.raises(HarnessError, match="did not keep each image with its label"):
        homework.predictions_in_order([{**group, "labels": [0] * len(group["labels"])} for group in passes], 23, 4)


def test_a_validation_pipeline_that_changes_the_model_is_refused(tiny, tmp_path):
    """The scoring child loads the trained weights and checks them after the pass: a pipeline that adapts the model
    to the test images (here: through the module's own handle on it) is refused with a sentence."""
    student, config = tiny(), probe_config()
    model, _ = student.build_model(config)
    for phase in homework.PHASES:
        homework.save_weights(model, homework.weights_path(tmp_path, config.seed, phase))
    honest_build_model, honest_build_datasets = student.module.build_model, student.module.build_datasets
    built = []

    def build_model(config):
        built.append(honest_build_model(config))
        return built[-1]

    def nudge(images):
        weights = built[-1][0].weights[0]
        weights.assign(weights + 1.0)
        return images

    def build_datasets(config):
        train, val = honest_build_datasets(config)
        return train, val.map(lambda x, y: (tf.py_function(nudge, [x], tf.float32), y))

    student.module.build_model, student.module.build_datasets = build_model, build_datasets
    with pytest.raises(HarnessError, match="changed the model's weights"):
        homework.score_seed(student, config, config.x_val, tmp_path)


def photo_folder(root: Path, classes: int = 5, per_class: int = 16) -> Path:
    """Class folders of small PNGs, each class a colour under noise: data the students never had."""
    rng = np.random.default_rng(7)
    for label in range(classes):
        folder = root / f"class_{label}"
        folder.mkdir(parents=True)
        colour = rng.integers(40, 216, 3)
        for index in range(per_class):
            image = np.clip(colour + rng.integers(-40, 41, (40, 40, 3)), 0, 255).astype(np.uint8)
            (folder / f"{index}.png").write_bytes(tf.io.encode_png(image).numpy())
    return root


@pytest.mark.skipif(not LANDLOCK, reason=f"test split not sealed: {UNSEALED}")
def test_a_student_that_trains_on_everything_it_can_reach_scores_like_its_honest_twin(pytester, tmp_path):
    """The grader handed the test images and labels to the student's build_datasets, and the child could rebuild the
    split itself: a pipeline that trained on them scored 0.90 against 0.20 for its honest twin. Now the training
    child holds training and validation images only and cannot read the data, the cache nor the network: the same
    test accuracies as the twin, and no image it trained on is a test image. About a minute: two tiny students."""
    pytester.makeconftest('pytest_plugins = ["tl_claims.plugin.hooks", "tl_claims.teaching.plugin"]')
    folder = photo_folder(tmp_path / "photos")
    cache, results, log = (tmp_path / name for name in ("cache", "results", "log"))
    source = CHEATER.read_text(encoding="utf-8")
    placeholders = {"TINY_STUDENT": REPO_ROOT / "fixtures" / "tiny_student.py", "DATA_FOLDER": folder, "CACHE": cache}
    for name, value in {**placeholders, "LOG": log}.items():
        source = source.replace(f'{name} = ""', f"{name} = {str(value)!r}", 1)
    pytester.path.joinpath("cheater.py").write_text(source, encoding="utf-8")
    pytester.path.joinpath("honest.py").write_text(source.replace("CHEAT = True", "CHEAT = False", 1), encoding="utf-8")
    dataset = f"folder:{folder}"
    result = pytester.runpytest("--homework", "cheater.py", "--homework", "honest.py", "--results-dir", str(results),
                                "--cache-dir", str(cache), "--dataset", dataset)  # fmt: skip
    with (results / "smoke" / "homework_class.csv").open(encoding="utf-8") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert rows["cheater"]["problem"] == rows["honest"]["problem"] == "", result.stdout.str()
    assert "not sealed" not in rows["cheater"]["note"]
    numbers = ("phase1", "phase2", "scratch")
    assert [rows["cheater"][number] for number in numbers] == [rows["honest"][number] for number in numbers]
    splits = load_splits(SCALES["smoke"].override(dataset=dataset).data_config(cache), 0)
    test_images = {hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest() for image in splits.x_test}
    trained_on = set(log.read_text(encoding="utf-8").split())
    assert trained_on and not trained_on & test_images
