"""The homework grader (clase 131, "Homework verificable"): the claims `two_stage` and `transfer_vs_scratch`, run by
the claim engine on a student's own recipe, with the test split kept out of every process that runs student code.

Three processes (tl_claims/teaching/grading.py drives them): the grader loads the splits; the training child gets the
training and validation images of each seed only (and is sealed off the data: tl_claims/teaching/seal.py) and, per
seed, runs phase 1 (the student's `compile_stage1`, head warm-up) and phase 2 (`unfreeze_and_compile_stage2`,
fine-tuning) on one model from ImageNet weights, as the lesson runs them, then the same architecture from scratch
(`config.weights=None`, every layer trainable, the student's stage-1 optimizer and loss, as many epochs as both phases
together), saving each model's weights (`train_seed`). A fresh scoring child, sealed too, loads those weights into the
student's architecture and predicts the test images through the student's validation pipeline, fed labels that say
nothing of the truth (`score_seed`). The grader alone holds the test labels: it counts the accuracies and runs the
claims on them (`GradedLab`, `grade`).

Acceptance, as the lesson states it (a homework reports one number per phase, so the rule is applied to the mean
over seeds): each claim's delta reaches the claim's own threshold. The rows carry the engine's interval verdict too,
which is stricter. Margins live in the claims only.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf

from tl_claims import engine
from tl_claims.claims.base import Variant
from tl_claims.claims.registry import CLAIMS
from tl_claims.core.errors import HarnessError
from tl_claims.recipe import measures, training
from tl_claims.recipe.architecture import Classifier
from tl_claims.recipe.evaluation import Evaluation
from tl_claims.recipe.options import LESSON_STAGE1, LESSON_STAGE2, Stage1Options, Stage2Options, changed
from tl_claims.recipe.scales import Scale
from tl_claims.recipe.training import StageBudget
from tl_claims.results.row import Outcomes, Row
from tl_claims.teaching import messages
from tl_claims.teaching.rehearsal import Rehearsal, rehearsal_from, watching_stage1, watching_stage2
from tl_claims.teaching.student import Student, StudentConfig, time_limit

if TYPE_CHECKING:
    from tl_claims.data import Splits

FAILURE_TEXTS = {"two_stage": "homework_two_stage", "transfer_vs_scratch": "homework_scratch"}  # claim -> message
TOLERANCE = 1e-9  # accuracies are ratios of counts: a delta of exactly the threshold passes


PHASES = ("phase 1", "phase 2", "scratch")  # the three models the homework trains per seed


@dataclass(frozen=True)
class Settings:
    """What the training child is told of the scale: its sizes and epochs, never where its data comes from."""

    name: str
    image_size: int
    batch_size: int
    n_train: int
    stage1_epochs: int
    stage2_epochs: int
    seeds: tuple[int, ...]

    @classmethod
    def of(cls, scale: Scale) -> Settings:
        seeds = tuple(range(max(scale.seed_looks))) if scale.seed_looks else tuple(scale.seeds)
        names = ("name", "image_size", "batch_size", "n_train", "stage1_epochs", "stage2_epochs")
        return cls(**{name: getattr(scale, name) for name in names}, seeds=seeds)


def weights_path(work: Path, seed: int, phase: str) -> Path:
    return Path(work) / f"seed{seed}-{phase.replace(' ', '')}.npz"


def data_path(work: Path, seed: int) -> Path:
    return Path(work) / f"seed{seed}-train-val.npz"


def test_images_path(work: Path) -> Path:
    return Path(work) / "test-images.npz"


@dataclass(frozen=True)
class Trained:
    """What the training child reports of one seed: each phase's budget(s) and how far phase 2 moved the base."""

    seed: int
    budgets: dict[str, tuple[StageBudget, ...]]  # phase -> the stages that trained it
    shift: float

    def fields(self) -> dict:
        budgets = {phase: [asdict(budget) for budget in stages] for phase, stages in self.budgets.items()}
        return dict(seed=self.seed, budgets=budgets, shift=self.shift)

    @classmethod
    def from_fields(cls, fields: dict) -> Trained:
        budgets = {
            phase: tuple(StageBudget(**budget) for budget in stages) for phase, stages in fields["budgets"].items()
        }
        return cls(int(fields["seed"]), budgets, float(fields["shift"]))


def train_seed(student: Student, settings: Settings, config: StudentConfig, work: Path) -> tuple[Trained, Rehearsal]:
    """The student's two phases on one model, as the lesson runs them (fit, unfreeze + recompile, fit), then the
    same architecture from scratch; each model's weights saved in `work` for the scoring child. Runs in the training
    child, which holds no test image. The rehearsal: the checks' training facts, read around the two phases."""
    seed = config.seed
    train = training_pipeline(student, config, settings)
    training.seed_everything(seed, "homework-build")
    model, base = student.build_model(config)
    student.compile_stage1(model, base)
    # The student's dataset shuffles itself; `training.fit` builds the training state first (one trace, not two;
    # nothing to build after a missing recompile).
    with watching_stage1(model, base) as stage1:
        training.fit(model, train, epochs=settings.stage1_epochs, seed=seed, step="homework-phase1")
    save_weights(model, weights_path(work, seed, "phase 1"))
    phase1_kernels = measures.base_kernels(base)
    student.unfreeze_and_compile_stage2(model, base)
    with watching_stage2(model, base) as stage2:
        training.fit(model, train, epochs=settings.stage2_epochs, seed=seed, step="homework-phase2")
    save_weights(model, weights_path(work, seed, "phase 2"))
    shift = measures.relative_shift(phase1_kernels, measures.base_kernels(base))
    phase1 = budget("stage 1", settings.stage1_epochs, train, settings, student.lang)
    phase2 = budget("stage 2", settings.stage2_epochs, train, settings, student.lang)
    scratch = train_scratch(student, settings, config, work)
    budgets = {"phase 1": (phase1,), "phase 2": (phase1, phase2), "scratch": (scratch,)}
    return Trained(seed, budgets, shift), rehearsal_from(stage1, stage2, base)


def train_scratch(student: Student, settings: Settings, config: StudentConfig, work: Path) -> StageBudget:
    """The same architecture from random weights, every layer trainable, the student's stage-1 optimizer and loss,
    as many epochs as both phases together (the transfer_vs_scratch claim)."""
    train = training_pipeline(student, config, settings)
    training.seed_everything(config.seed, "homework-scratch-build")
    model, base = student.build_model(replace(config, weights=None))
    student.compile_stage1(model, base)
    optimizer, loss = model.optimizer, model.loss
    training.unfreeze_for_scratch(base)
    model.compile(optimizer=type(optimizer).from_config(optimizer.get_config()), loss=loss)
    epochs = settings.stage1_epochs + settings.stage2_epochs
    training.fit(model, train, epochs=epochs, seed=config.seed, step="homework-scratch")
    save_weights(model, weights_path(work, config.seed, "scratch"))
    return budget("scratch", epochs, train, settings, student.lang)


def training_pipeline(student: Student, config: StudentConfig, settings: Settings):
    train, _ = student.build_datasets(config)
    if int(train.cardinality()) == int(tf.data.INFINITE_CARDINALITY):
        raise HarnessError(messages.text(student.lang, "homework_dataset_repeats", which="train"))
    return train


def budget(stage: str, epochs: int, train, settings: Settings, lang: str) -> StageBudget:
    """A phase's budget, read from the student's own training pipeline (its batch size is the student's)."""
    steps_per_epoch = int(train.cardinality())
    if steps_per_epoch < 0:  # unknown: count one pass, no more batches than images (a batch holds one at least)
        steps_per_epoch = count_batches(train, settings.n_train, lang)
    return StageBudget(stage, settings.n_train, epochs, epochs * steps_per_epoch)


def save_weights(model, path: Path) -> None:
    np.savez(path, *model.get_weights())


def weights_checksum(model) -> str:
    digest = hashlib.sha256()
    for weights in model.get_weights():
        digest.update(np.ascontiguousarray(weights).tobytes())
    return digest.hexdigest()


def score_seed(student: Student, config: StudentConfig, x_test: np.ndarray, work: Path) -> dict[str, list[dict]]:
    """Each trained model of one seed through the student's evaluation pipeline, in the scoring child: the
    architecture built again (no weights to download), the saved weights loaded, the test images in the validation
    slot with labels that say nothing of the truth (`placeholder_labels`). Per phase, the passes (`score_passes`)."""
    scored = {}
    for phase in PHASES:
        model, _ = student.build_model(replace(config, weights=None))
        with np.load(weights_path(work, config.seed, phase)) as saved:
            model.set_weights([saved[f"arr_{index}"] for index in range(len(saved.files))])
        before = weights_checksum(model)
        scored[phase] = score_passes(student, model, config, x_test)
        if weights_checksum(model) != before:
            raise HarnessError(messages.text(student.lang, "homework_test_changed_model"))
    return scored


def placeholder_labels(n: int, num_classes: int) -> np.ndarray:
    """The labels the scoring pipeline is fed: image i is labelled i mod K, so the label slot tells where each
    image went and nothing of its class."""
    return (np.arange(n) % num_classes).astype(np.int32)


def score_passes(student: Student, model, config: StudentConfig, x_test: np.ndarray) -> list[dict]:
    """One pass over all the test images; where the pipeline reorders them (it shuffles), one pass per group of K
    images instead, each labelled 0..K-1, so the label slot tells each image's place."""
    n, k = len(x_test), config.num_classes
    whole = score_pass(student, model, config, x_test)
    if np.array_equal(whole.labels, placeholder_labels(n, k)):
        return [pass_fields(0, whole)]
    return [
        pass_fields(start, score_pass(student, model, config, x_test[start : start + k])) for start in range(0, n, k)
    ]


def score_pass(student: Student, model, config: StudentConfig, images: np.ndarray) -> Evaluation:
    """The student's validation pipeline over `images`, under the per-call time limit (its elements run the
    student's own code)."""
    labels = placeholder_labels(len(images), config.num_classes)
    _, test = student.build_datasets(replace(config, x_val=images, y_val=labels))
    if int(test.cardinality()) == int(tf.data.INFINITE_CARDINALITY):
        raise HarnessError(messages.text(student.lang, "homework_dataset_repeats", which="test"))
    with time_limit(student.time_limit, "build_datasets (test pass)", student.lang, student.announce):
        return evaluate_pipeline(model, test, len(images), student.lang)


def pass_fields(start: int, evaluation: Evaluation) -> dict:
    return dict(start=start, predictions=evaluation.predictions.tolist(), labels=evaluation.labels.tolist())


def predictions_in_order(passes: list[dict], n: int, num_classes: int, lang: str = "en") -> np.ndarray:
    """The prediction for each test image in the order of the test set, read from the scoring child's passes by
    their label slots (the parent's side of `score_passes`); a pipeline that changes labels is refused."""
    if len(passes) == 1 and passes[0]["start"] == 0:
        (whole,) = passes
        if np.array_equal(np.asarray(whole["labels"]), placeholder_labels(n, num_classes)):
            return np.asarray(whole["predictions"], dtype=np.int64)
    ordered = np.full(n, -1, dtype=np.int64)
    for group in passes:
        start, labels = int(group["start"]), np.asarray(group["labels"], dtype=np.int64)
        size = min(num_classes, n - start)
        if start % num_classes or sorted(labels.tolist()) != list(range(size)):
            raise HarnessError(messages.text(lang, "homework_test_labels_changed"))
        ordered[start + labels] = np.asarray(group["predictions"], dtype=np.int64)
    if (ordered < 0).any():
        raise HarnessError(messages.text(lang, "homework_test_labels_changed"))
    return ordered


class GradedLab:
    """The lab the homework's claims run on, in the grader's process: the student's models as the training child
    trained them (their budgets, phase 2's base shift) and as the scoring child predicted the test images; the
    accuracy is counted here, the only process that holds the test labels."""

    def __init__(
        self, scale: Scale, backbone: str, splits: dict[int, Splits], trained: dict[int, Trained], predictions: dict
    ) -> None:
        self.scale, self.backbone, self._splits, self._trained = scale, backbone, splits, trained
        self._predictions = predictions  # (phase, seed) -> predicted class per test image
        self.ledger: list[StageBudget] = []

    def splits(self, seed: int, n_train: int | None = None) -> Splits:
        return self._splits[seed]

    def stage1(self, seed: int, options: Stage1Options = LESSON_STAGE1) -> Classifier:
        return self._model("phase 1", seed, changed(options))

    def stage2(self, seed: int, options: Stage2Options = LESSON_STAGE2) -> Classifier:
        return self._model("phase 2", seed, changed(options))

    def scratch(self, seed: int) -> Classifier:
        return self._model("scratch", seed, {})

    def evaluate(self, classifier: Classifier, seed: int, split: str = "test") -> Evaluation:
        if split != "test":
            raise HarnessError(f"the homework scores the test split only (asked for {split!r})")
        phase = classifier.key.rsplit(":", 1)[0]
        return Evaluation(self._predictions[(phase, seed)], self._splits[seed].y_test)

    def base_shift(self, after: Classifier, before: Classifier) -> float:
        """Phase 2's move of the base from phase 1 (the only pair the homework trains), measured in training."""
        seed = int(after.key.rsplit(":", 1)[1])
        if (before.key, after.key) != (f"phase 1:{seed}", f"phase 2:{seed}"):
            raise not_graded(f"base_shift between {before.key} and {after.key}")
        return self._trained[seed].shift

    def stage2_without_recompile(self, seed: int) -> Classifier:
        raise not_graded("stage2_without_recompile")

    def linear_probe(self, seed: int, **options: object) -> Evaluation:
        raise not_graded("linear_probe")

    def moving_statistics(self, classifier: Classifier) -> list[tuple[np.ndarray, np.ndarray]]:
        raise not_graded("moving_statistics")

    def imagenet_agreement(self, classifier: Classifier, seed: int) -> float:
        raise not_graded("imagenet_agreement")

    def _model(self, phase: str, seed: int, options: dict) -> Classifier:
        if options:
            raise HarnessError(f"the homework runs the student's own recipe; it cannot set {sorted(options)}")
        if seed not in self._trained:
            raise HarnessError(f"the homework trained seeds {sorted(self._trained)}, not seed {seed}")
        self.ledger.extend(self._trained[seed].budgets[phase])
        return Classifier(None, None, self.backbone, f"{phase}:{seed}")


def not_graded(what: str) -> HarnessError:
    return HarnessError(f"the homework grades two_stage and transfer_vs_scratch only; {what} is not part of it")


def evaluate_pipeline(model, test, expected: int, lang: str = "en") -> Evaluation:
    """Per-image predictions over one pass of the test pipeline, in inference mode; one-hot labels are accepted.

    The pass is bounded by the test set: a pipeline that yields more images than it was given (it repeats, or
    makes up images) is stopped at the first batch past them, and one that yields fewer (it drops a remainder,
    filters, takes a part) is refused rather than scored on that part; either way the message says which."""
    predictions, labels, seen = [], [], 0
    for element in test:
        images, batch_labels = element[0], np.asarray(element[1])
        seen += len(batch_labels)
        if seen > expected:
            raise HarnessError(messages.text(lang, "homework_test_too_many", expected=expected))
        predictions.append(np.argmax(np.asarray(model(images, training=False)), axis=-1))  # eager: no predict trace
        labels.append(np.argmax(batch_labels, axis=-1) if batch_labels.ndim > 1 else batch_labels)
    if seen < expected:
        raise HarnessError(messages.text(lang, "homework_test_too_few", seen=seen, expected=expected))
    return Evaluation(np.concatenate(predictions), np.concatenate(labels))


def count_batches(dataset, most_images: int, lang: str = "en") -> int:
    """The batches of one pass of a pipeline of unknown length, stopped past `most_images` batches (it repeats)."""
    batches = 0
    for _ in dataset:
        batches += 1
        if batches > most_images:
            raise HarnessError(messages.text(lang, "homework_dataset_repeats", which="train"))
    return batches


@dataclass(frozen=True)
class HomeworkResult:
    student: str
    scale: Scale
    rows: tuple[Row, ...]  # one per homework claim
    outcomes: tuple[Outcomes, ...]

    def row(self, claim_id: str) -> Row:
        return next(row for row in self.rows if row.claim == claim_id)

    def accepted(self, row: Row) -> bool:
        return accepted(row)

    def failures(self, lang: str = "en") -> list[str]:
        """The acceptance criteria the result misses, each as a sentence with the measured numbers."""
        return [
            messages.text(lang, FAILURE_TEXTS[row.claim], need=row.threshold * 100, delta=row.delta * 100)
            for row in self.rows
            if not self.accepted(row)
        ]

    def summary(self, lang: str = "en") -> str:
        two_stage, transfer = self.row("two_stage"), self.row("transfer_vs_scratch")
        return messages.text(
            lang,
            "homework_rows",
            scale=self.scale.name,
            phase1=two_stage.baseline,
            phase2=two_stage.treatment,
            scratch=transfer.baseline,
            seeds=len(self.scale.seeds),
        )

    def all_finite(self) -> bool:
        return all(
            math.isfinite(value) and 0.0 <= value <= 1.0
            for row in self.rows
            for values in row.per_seed.values()
            for value in values
        )


def grade(lab: GradedLab, student: str, *, run_id: str, progress: Callable[[str], None] = print) -> HomeworkResult:
    """Run the homework's claims on what the children measured, in the grader's process; one row per claim.
    `student`: the grader's file-safe name of the student. The lesson-literal reference is the caller's to add
    (`lesson_literal_reference`): it does not depend on the student, so a class computes it once."""
    variant = Variant(f"student:{student}")
    measured = [
        engine.run_claim(CLAIMS[claim_id], variant, lab, run_id=run_id, progress=progress) for claim_id in FAILURE_TEXTS
    ]
    rows = tuple(_as_homework(row, lab.backbone) for row, _ in measured)
    outcomes = tuple(outcomes for _, outcomes in measured)
    return HomeworkResult(student, lab.scale, rows, outcomes)


def lesson_literal_reference(
    scale: Scale, backbone: str, cache_dir: Path, run_id: str, progress: Callable[[str], None]
) -> Row | None:
    """The lesson's code as written (exercises 4 + 5: recompile at 1e-5 with `base(x, training=False)`), run by the
    suite on the same data, scale and backbone: what the homework's criterion gives without any fix, beside the
    student's own result. None, said in the progress line, when the suite cannot build that backbone with ImageNet
    weights offline (the student's own build may load them from a file of theirs) or does not know its name."""
    from tl_claims.recipe.lab import Lab

    try:
        lab = Lab(scale.override(backbone=backbone), cache_dir)
        row, _ = engine.run_claim(CLAIMS["two_stage"], "lesson_literal", lab, run_id=run_id, progress=progress)
    except HarnessError as error:
        progress(f"the lesson's code as written was not run for comparison: {error}")
        return None
    return row


def lesson_literal_line(literal: Row, lang: str = "en") -> str:
    """One sentence: the lesson's own code on the same data, and whether it meets the homework's criterion."""
    verdict = "homework_criterion_met" if accepted(literal) else "homework_criterion_missed"
    return messages.text(
        lang,
        "homework_lesson_literal",
        phase1=literal.baseline,
        phase2=literal.treatment,
        delta=literal.delta * 100,
        verdict=messages.text(lang, verdict),
    )


def _as_homework(row: Row, backbone: str) -> Row:
    """The row of a student's recipe: the student's backbone, and the acceptance beside the interval verdict."""
    return replace(
        row,
        backbone=backbone,
        primary=False,
        details={**row.details, "acceptance": "mean delta over seeds >= threshold", "accepted": accepted(row)},
    )


def accepted(row: Row) -> bool:
    """The lesson's acceptance: the mean delta over seeds reaches the claim's threshold."""
    return row.delta >= row.threshold - TOLERANCE


def result_fields(result: HomeworkResult, lang: str = "en") -> dict:
    """The numbers of a graded homework as plain values (a class table row): the student's backbone, the three
    accuracies, each criterion's measured delta, needed margin and verdict, the failures as sentences, and the summary
    (without the lesson-literal line: `with_reference` adds it where the reference is run)."""
    two_stage, transfer = result.row("two_stage"), result.row("transfer_vs_scratch")
    return dict(
        backbone=two_stage.backbone,
        seeds=len(result.scale.seeds),
        phase1=two_stage.baseline,
        phase2=two_stage.treatment,
        scratch=transfer.baseline,
        two_stage_delta=two_stage.delta,
        two_stage_need=two_stage.threshold,
        scratch_delta=transfer.delta,
        scratch_need=transfer.threshold,
        two_stage_accepted=accepted(two_stage),
        scratch_accepted=accepted(transfer),
        failures=result.failures(lang),
        summary=result.summary(lang),
        all_finite=result.all_finite(),
    )


def with_reference(fields: dict, literal: Row | None, lang: str = "en") -> dict:
    """`result_fields` plus the lesson-literal reference's numbers, and its sentence after the summary."""
    if literal is None:
        return {**fields, "lesson_literal_phase1": None, "lesson_literal_phase2": None, "lesson_literal_accepted": None}
    return {
        **fields,
        "summary": fields["summary"] + "\n" + lesson_literal_line(literal, lang),
        "lesson_literal_phase1": literal.baseline,
        "lesson_literal_phase2": literal.treatment,
        "lesson_literal_accepted": accepted(literal),
    }
