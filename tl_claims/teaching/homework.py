"""The homework grader (clase 131, "Homework verificable"): the claims `two_stage` and `transfer_vs_scratch`, run by
the claim engine on a lab whose recipe is a student's own functions.

`StudentLab` implements the part of the lab protocol those claims use. For each seed: phase 1 (the student's
`compile_stage1`, head warm-up) and phase 2 (the student's `unfreeze_and_compile_stage2`, fine-tuning) on one model
from ImageNet weights, as the lesson runs them; then the same architecture from scratch (`config.weights=None`,
every layer trainable, the student's stage-1 optimizer and loss, as many epochs as both phases together, as in the
transfer_vs_scratch claim). All three are scored on the suite's test images through the student's own pipeline.

Acceptance, as the lesson states it (a homework reports one number per phase, so the rule is applied to the mean
over seeds): each claim's delta reaches the claim's own threshold. The rows carry the engine's interval verdict too,
which is stricter. Margins live in the claims only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import tensorflow as tf

from tl_claims import engine
from tl_claims.claims.base import Variant
from tl_claims.claims.registry import CLAIMS
from tl_claims.core.errors import HarnessError
from tl_claims.data import Splits, load_splits
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

FAILURE_TEXTS = {"two_stage": "homework_two_stage", "transfer_vs_scratch": "homework_scratch"}  # claim -> message
TOLERANCE = 1e-9  # accuracies are ratios of counts: a delta of exactly the threshold passes


class StudentLab:
    """A lab whose models are trained by a student's functions; evaluations go through the student's test pipeline.

    Phase 1 and phase 2 run on one model object, as in the lesson, so phase 1 is scored before phase 2 changes it.
    """

    def __init__(self, student: Student, scale: Scale, cache_dir: Path) -> None:
        self.student, self.scale, self.cache_dir = student, scale, Path(cache_dir)
        self._evaluations: dict[str, Evaluation] = {}
        self._budgets: dict[str, tuple[StageBudget, ...]] = {}  # evaluation key -> the phases that trained it
        self.ledger: list[StageBudget] = []
        self._shifts: dict[int, float] = {}  # seed -> how far phase 2 moved the base
        self.rehearsal: Rehearsal | None = None  # the checks' training facts, read from the first phases
        self._n_test = 0  # the test images handed to the student's pipeline (set with the pipelines)

    def splits(self, seed: int, n_train: int | None = None) -> Splits:
        return load_splits(self.scale.data_config(self.cache_dir, n_train), seed)

    def stage1(self, seed: int, options: Stage1Options = LESSON_STAGE1) -> Classifier:
        return self._phase(seed, "phase 1", changed(options))

    def stage2(self, seed: int, options: Stage2Options = LESSON_STAGE2) -> Classifier:
        return self._phase(seed, "phase 2", changed(options))

    def scratch(self, seed: int) -> Classifier:
        key = f"{self.student.name}:scratch:{seed}"
        if key not in self._evaluations:
            config, train, test = self._pipelines(seed)
            training.seed_everything(seed, "homework-scratch-build")
            model, base = self.student.build_model(replace(config, weights=None))
            self.student.compile_stage1(model, base)
            optimizer, loss = model.optimizer, model.loss
            training.unfreeze_for_scratch(base)
            model.compile(optimizer=type(optimizer).from_config(optimizer.get_config()), loss=loss)
            epochs = self.scale.stage1_epochs + self.scale.stage2_epochs
            training.fit(model, train, epochs=epochs, seed=seed, step="homework-scratch")
            self._evaluations[key] = self._score(model, test)
            self._budgets[key] = (self._budget("scratch", epochs, train),)
        self.ledger.extend(self._budgets[key])
        return Classifier(None, None, self.student.backbone, key)

    def evaluate(self, classifier: Classifier, seed: int, split: str = "test") -> Evaluation:
        if split != "test":
            raise HarnessError(f"the homework scores the test split only (asked for {split!r})")
        return self._evaluations[classifier.key]

    def stage2_without_recompile(self, seed: int) -> Classifier:
        raise self._not_graded("stage2_without_recompile")

    def linear_probe(self, seed: int, **options: object) -> Evaluation:
        raise self._not_graded("linear_probe")

    def moving_statistics(self, classifier: Classifier) -> list[tuple[np.ndarray, np.ndarray]]:
        raise self._not_graded("moving_statistics")

    def imagenet_agreement(self, classifier: Classifier, seed: int) -> float:
        raise self._not_graded("imagenet_agreement")

    def base_shift(self, after: Classifier, before: Classifier) -> float:
        """Phase 2's move of the base from phase 1 (the only pair the homework trains), measured on the model."""
        name = self.student.name
        seed = int(after.key.rsplit(":", 1)[1])
        if (before.key, after.key) != (f"{name}:phase 1:{seed}", f"{name}:phase 2:{seed}"):
            raise self._not_graded(f"base_shift between {before.key} and {after.key}")
        return self._shifts[seed]

    def _phase(self, seed: int, phase: str, options: dict) -> Classifier:
        if options:
            raise HarnessError(f"the homework runs the student's own recipe; it cannot set {sorted(options)}")
        if f"{self.student.name}:phase 2:{seed}" not in self._evaluations:
            self._run_both_phases(seed)
        key = f"{self.student.name}:{phase}:{seed}"
        self.ledger.extend(self._budgets[key])
        return Classifier(None, None, self.student.backbone, key)

    def _run_both_phases(self, seed: int) -> None:
        """The student's two phases, as the lesson runs them: fit, score, unfreeze + recompile, fit, score."""
        config, train, test = self._pipelines(seed)
        training.seed_everything(seed, "homework-build")
        model, base = self.student.build_model(config)
        self.student.compile_stage1(model, base)
        # The student's dataset shuffles itself; `training.fit` builds the training state first (one trace, not two;
        # nothing to build after a missing recompile).
        with watching_stage1(model, base) as stage1:
            training.fit(model, train, epochs=self.scale.stage1_epochs, seed=seed, step="homework-phase1")
        self._evaluations[f"{self.student.name}:phase 1:{seed}"] = self._score(model, test)
        phase1_kernels = measures.base_kernels(base)
        self.student.unfreeze_and_compile_stage2(model, base)
        with watching_stage2(model, base) as stage2:
            training.fit(model, train, epochs=self.scale.stage2_epochs, seed=seed, step="homework-phase2")
        self._evaluations[f"{self.student.name}:phase 2:{seed}"] = self._score(model, test)
        if self.rehearsal is None:
            self.rehearsal = rehearsal_from(stage1, stage2, base)
        self._shifts[seed] = measures.relative_shift(phase1_kernels, measures.base_kernels(base))
        phase1 = self._budget("stage 1", self.scale.stage1_epochs, train)
        self._budgets[f"{self.student.name}:phase 1:{seed}"] = (phase1,)
        self._budgets[f"{self.student.name}:phase 2:{seed}"] = (
            phase1,
            self._budget("stage 2", self.scale.stage2_epochs, train),
        )

    def _budget(self, stage: str, epochs: int, train) -> StageBudget:
        """A phase's budget, read from the student's own training pipeline (its batch size is the student's)."""
        steps_per_epoch = int(train.cardinality())
        if steps_per_epoch < 0:  # unknown: count one pass, no more batches than images (a batch holds one at least)
            steps_per_epoch = count_batches(train, self.scale.n_train, self.student.lang)
        return StageBudget(stage, self.scale.n_train, epochs, epochs * steps_per_epoch)

    def _score(self, model, test) -> Evaluation:
        """The test pipeline's one pass, under the per-call time limit (its elements run the student's own code)."""
        student = self.student
        with time_limit(student.time_limit, "build_datasets (test pass)", student.lang, student.announce):
            return evaluate_pipeline(model, test, self._n_test, self.student.lang)

    def _pipelines(self, seed: int):
        """The student's config, training pipeline, and their validation pipeline fed the suite's test images."""
        splits = self.splits(seed)
        config = StudentConfig(
            self.scale.image_size,
            len(splits.class_names),
            self.scale.batch_size,
            "imagenet",
            seed,
            splits.x_train,
            splits.y_train,
            splits.x_val,
            splits.y_val,
            splits.class_names,
        )
        train, _ = self.student.build_datasets(config)
        _, test = self.student.build_datasets(replace(config, x_val=splits.x_test, y_val=splits.y_test))
        self._n_test = len(splits.y_test)
        for name, dataset in (("train", train), ("test", test)):
            if int(dataset.cardinality()) == int(tf.data.INFINITE_CARDINALITY):
                raise HarnessError(messages.text(self.student.lang, "homework_dataset_repeats", which=name))
        return config, train, test

    @staticmethod
    def _not_graded(what: str) -> HarnessError:
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
    rehearsal: Rehearsal | None = None  # the checks' training facts, read from the first seed's two phases

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


def grade(
    student: Student,
    scale: Scale,
    *,
    cache_dir: Path,
    run_id: str,
    progress: Callable[[str], None] = print,
    name: str | None = None,
) -> HomeworkResult:
    """Run the homework's claims on the student's recipe at `scale`; one row per claim. The lesson-literal
    reference is the caller's to add (`lesson_literal_reference`): it does not depend on the student, so a class
    computes it once, in the process where no student code has run."""
    lab = StudentLab(student, scale, cache_dir)
    variant = Variant(f"student:{name or student.name}")  # `name`: the grader's file-safe name of the student
    measured = [
        engine.run_claim(CLAIMS[claim_id], variant, lab, run_id=run_id, progress=progress) for claim_id in FAILURE_TEXTS
    ]
    rows = tuple(_as_homework(row, student) for row, _ in measured)
    outcomes = tuple(outcomes for _, outcomes in measured)
    return HomeworkResult(student.name, scale, rows, outcomes, rehearsal=lab.rehearsal)


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


def _as_homework(row: Row, student: Student) -> Row:
    """The row of a student's recipe: the student's backbone, and the acceptance beside the interval verdict."""
    return replace(
        row,
        backbone=student.backbone,
        primary=False,
        details={**row.details, "acceptance": "mean delta over seeds >= threshold", "accepted": accepted(row)},
    )


def accepted(row: Row) -> bool:
    """The lesson's acceptance: the mean delta over seeds reaches the claim's threshold."""
    return row.delta >= row.threshold - TOLERANCE


def result_fields(result: HomeworkResult, lang: str = "en") -> dict:
    """The numbers of a graded homework as plain values (what the sandbox's child hands the parent, and a class
    table row): the student's backbone, the three accuracies, each criterion's measured delta, needed margin and
    verdict, the failures as sentences, and the summary (without the lesson-literal line: `with_reference` adds it
    where the reference is run)."""
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
