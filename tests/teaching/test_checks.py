"""The teaching checks: each lesson error fails exactly its check with its message; a correct pipeline passes all.

Most tests use the tiny student (fixtures/tiny_student.py): every bug kind of the lesson fails exactly its check
there. The examples/ pipelines, on the real Lite0, cost seconds each (mostly tracing the training step): the fast
suite grades three of them through `pytest --homework` (test_classroom.py); every example, checked here in process
with its message and graded as a class, runs with `-m cpu` (`make teaching`).
"""

from pathlib import Path

import numpy as np
import pytest
from student_styles import BUG_CHECKS

from tl_claims.core.paths import REPO_ROOT
from tl_claims.teaching import checks, input_checks, messages, rehearsal, training_checks
from tl_claims.teaching.checks import CHECKS, parametrize_with_checks, run_checks
from tl_claims.teaching.pipeline import CheckFailure, Pipeline
from tl_claims.teaching.student import ContractError, load_student, probe_config

EXAMPLES = REPO_ROOT / "examples"

# bug -> the checks it must fail (every other check must pass)
TINY_BUGS = BUG_CHECKS

# example file -> (the checks it must fail, a phrase its message must contain)
EXAMPLE_BUGS = {
    "student_correct": (set(), ""),
    "student_wrong_preprocessing": ({"preprocessing_matches_backbone"}, "raw 0-255 pixels"),
    "student_double_scaling": ({"preprocessing_matches_backbone"}, "scaled twice"),
    "student_aug_on_val": ({"augmentation_absent_from_val"}, "two passes over the validation dataset"),
    "student_aug_at_inference": ({"augmentation_inactive_at_inference"}, "tf.image.random_*"),
    "student_base_not_frozen": ({"stage1_trains_only_head"}, "base.trainable = False"),
    "student_high_finetune_lr": ({"finetune_lr_10x_lower"}, "only 1x lower"),
    "student_no_recompile": ({"recompiled_after_unfreezing"}, "moved none of the base's weights"),
    "student_bn_updating": ({"batchnorm_frozen_in_finetuning"}, "layer.trainable = False"),
    "student_bn_training_false": ({"batchnorm_frozen_in_finetuning"}, "calls the base with training=False"),
}


def failed(table) -> set[str]:
    assert set(table["status"]) <= {"passed", "failed"}, table.to_dict("records")
    return set(table.loc[table["status"] == "failed", "check"])


def test_the_names_that_report_the_checks_are_the_checks_in_their_order():
    """`pytest --student`'s process reports the checks by these names without importing the checks (Keras)."""
    assert tuple(CHECKS) == messages.CHECK_NAMES


def test_a_correct_tiny_pipeline_passes_every_check(tiny, tmp_path):
    table = run_checks(tiny())
    assert list(table.columns) == ["check", "status", "message"]
    assert list(table["check"]) == list(CHECKS)
    assert failed(table) == set()


@pytest.mark.parametrize("bug", TINY_BUGS)
def test_each_bug_fails_exactly_its_check(tiny, tmp_path, bug):
    table = run_checks(tiny(bug))
    assert failed(table) == TINY_BUGS[bug]
    message = table.loc[table["status"] == "failed", "message"].iloc[0]
    for part in ("seen:", "rule:", "why:", "fix:"):
        assert part in message


def test_preprocessing_message_names_the_ranges_and_the_fix(tiny, tmp_path):
    pipeline = Pipeline.build(tiny("raw_pixels"))
    with pytest.raises(CheckFailure) as failure:
        input_checks.check_preprocessing_matches_backbone(pipeline)
    message = str(failure.value)
    assert "[0, 255]" in message and "look like raw 0-255 pixels" in message
    assert "mobilenet_v2 expects its input in [-1, 1]" in message
    assert "(x - 127.5) / 127.5" in message


def test_double_scaling_into_a_net_that_rescales_itself_is_named(tiny, tmp_path):
    pipeline = Pipeline.build(tiny("double_scaling"))
    with pytest.raises(CheckFailure, match="scaled twice") as failure:
        input_checks.check_preprocessing_matches_backbone(pipeline)
    assert "remove your Rescaling(1/255)" in str(failure.value)


def test_bn_message_explains_the_keras3_training_false_pitfall(tiny, tmp_path):
    pipeline = Pipeline.build(tiny("bn_training_false"))
    with pytest.raises(CheckFailure) as failure:
        training_checks.check_batchnorm_frozen_in_finetuning(pipeline)
    message = str(failure.value)
    assert "although the model calls the base with training=False" in message
    assert "keras-team/keras#20285" in message and "layer.trainable = False" in message


def test_shuffled_validation_data_is_not_mistaken_for_augmentation(tiny, tmp_path):
    student = tiny()
    pipeline = Pipeline.build(student)
    pipeline.val = pipeline.val.unbatch().shuffle(100, reshuffle_each_iteration=True).batch(4)
    input_checks.check_augmentation_absent_from_val(pipeline)


def test_checks_never_change_the_students_objects(tiny, tmp_path):
    pipeline = Pipeline.build(tiny("bn_updating"))
    model = pipeline.model
    variables = [v.numpy().copy() for v in model.variables]  # weights, BN statistics, augmentation seed states
    flags = [layer.trainable for layer in model.layers] + [layer.trainable for layer in pipeline.base.layers]
    optimizer, rate = model.optimizer, rehearsal.learning_rate(model)
    run_checks(pipeline)
    assert all(np.array_equal(a, v.numpy()) for a, v in zip(variables, model.variables))
    assert flags == [layer.trainable for layer in model.layers] + [layer.trainable for layer in pipeline.base.layers]
    assert model.optimizer is optimizer and rehearsal.learning_rate(model) == rate
    assert int(optimizer.iterations.numpy()) == 0


def test_spanish_messages(tiny, tmp_path):
    table = run_checks(tiny("high_lr"), lang="es")
    message = table.loc[table["check"] == "finetune_lr_10x_lower", "message"].iloc[0]
    assert "visto:" in message and "arreglo:" in message and "al menos 10x menor" in message


def test_an_error_in_the_students_code_is_reported_and_the_other_checks_still_run(student_source, tmp_path):
    source = student_source().replace(
        "def unfreeze_and_compile_stage2(model, base):\n",
        "def unfreeze_and_compile_stage2(model, base):\n    raise RuntimeError('half-written stage 2')\n",
    )
    path = tmp_path / "broken.py"
    path.write_text(source, encoding="utf-8")
    table = run_checks(load_student(path)).set_index("check")
    assert table.loc["preprocessing_matches_backbone", "status"] == "passed"
    assert table.loc["recompiled_after_unfreezing", "status"] == "error"
    assert "RuntimeError: half-written stage 2 (broken.py, line" in table.loc["recompiled_after_unfreezing", "message"]


def test_parametrize_with_checks_gives_one_lazy_case_per_check(tiny, tmp_path):
    mark = parametrize_with_checks(tiny("high_lr"))
    names, cases = mark.args
    assert names == "check" and [case.name for case in cases] == list(CHECKS)
    assert cases[0].pipeline.pipeline is None  # nothing built at collection
    cases[0]()
    with pytest.raises(CheckFailure, match="finetune_lr_10x_lower"):
        cases[-1]()


# ------------------------------------------------------------------------------------------------- contract


def write(tmp_path: Path, source: str) -> Path:
    path = tmp_path / "student.py"
    path.write_text(source, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("def build_model(config):", "def build_modle(config):"),
            "build_model is missing from student: the contract needs build_model(config) -> (model, base). "
            "Did you mean to name 'build_modle' 'build_model'?",
        ),
        (
            ("def compile_stage1(model, base):", "def compile_stage1(model):"),
            "compile_stage1 in student must take compile_stage1(model, base); yours is compile_stage1(model).",
        ),
        (
            ('BACKBONE = "efficientnet_b0" if "double_scaling" in BUGS else "mobilenet_v2"', 'BACKBONE = "resnet50"'),
            "BACKBONE = 'resnet50' in student is not a known backbone; use one of: efficientnet_lite0",
        ),
        (("import keras\n", "import keras\nimport not_a_module\n"), "could not import the student module"),
    ],
)
def test_contract_errors_are_one_clear_sentence(student_source, tmp_path, change, expected):
    path = write(tmp_path, student_source().replace(*change, 1))
    with pytest.raises(ContractError) as error:
        load_student(path)
    assert expected in str(error.value)


def test_import_error_points_at_the_students_line(student_source, tmp_path):
    path = write(tmp_path, student_source().replace("import keras\n", "import keras\n1 / 0\n", 1))
    with pytest.raises(ContractError, match=r"ZeroDivisionError: division by zero \(student.py, line \d+\)"):
        load_student(path)


def test_wrong_return_values_are_explained(student_source, tmp_path):
    source = student_source().replace(
        "    return keras.Model(inputs, outputs), base", "    return keras.Model(inputs, outputs)"
    )
    student = load_student(write(tmp_path, source))
    with pytest.raises(ContractError, match=r"build_model\(...\) in student must return \(model, base\)"):
        Pipeline.build(student)


def test_a_base_outside_the_model_is_explained(student_source, tmp_path):
    source = student_source().replace(
        "    return keras.Model(inputs, outputs), base", "    return keras.Model(inputs, outputs), tiny_base(32)"
    )
    with pytest.raises(ContractError, match="not a layer of the model"):
        Pipeline.build(load_student(write(tmp_path, source)))


def test_the_rehearsal_checks_are_exactly_those_that_read_the_rehearsal(tiny):
    """The homework child runs `REHEARSAL_CHECKS` after the homework (their facts come from its phases): a check
    missing from the set would rehearse anyway, one wrongly in it would only run later."""
    pipeline = Pipeline.build(tiny())

    def refuse():
        raise LookupError("rehearsal read")

    pipeline.rehearsal = refuse
    reading = {name for name, check in CHECKS.items() if checks.run_one(check, pipeline, "en")[1].startswith("Lookup")}
    assert reading == checks.REHEARSAL_CHECKS


def test_probe_config_spans_0_to_255():
    config = probe_config(32)
    assert config.x_val.dtype == np.uint8 and config.x_val.min() == 0 and config.x_val.max() == 255
    assert config.x_train.shape == (10, 32, 32, 3) and set(config.y_train) == set(range(5))


# ------------------------------------------------------------------------------------------------- examples


# The examples the fast suite grades through `pytest --homework` (test_classroom.py asserts each one's outcome per
# check); every bug kind fails exactly its check on the tiny student above (TINY_BUGS), in the fast suite.
GRADED_IN_CLASS = ("student_correct", "student_no_recompile")


# Every example on the real Lite0, checked in this process (the checks rehearse, as `pytest --student` does), message
# included: `make teaching` / `-m cpu` (about 20-30 s an example, mostly tracing Lite0's training step).
@pytest.mark.cpu
@pytest.mark.parametrize("name", list(EXAMPLE_BUGS))
def test_examples_fail_exactly_their_checks(name):
    expected, phrase = EXAMPLE_BUGS[name]
    table = run_checks(EXAMPLES / f"{name}.py")
    assert failed(table) == expected
    messages = "\n".join(table["message"])
    assert phrase in messages
