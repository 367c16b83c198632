"""The homework grader (clase 131, "Homework verificable"): a student's two-phase pipeline on the 5-class data set.

For each seed of the scale: phase 1 (the student's `compile_stage1`, head warm-up) and phase 2 (the student's
`unfreeze_and_compile_stage2`, fine-tuning) from ImageNet weights, then the same architecture from scratch
(`config.weights=None`, every layer trainable, the student's stage-1 optimizer and loss, as many epochs as both
phases together, as in the transfer_vs_scratch claim). All three are scored on the same held-out test images.

Acceptance, as the lesson states it (a homework reports one number per phase, so the rule is applied to the mean
over seeds): phase 2 >= phase 1 + 2 pp, and transfer (phase 2) >= scratch + 10 pp - our reading of "por mucho
margen", the same margin as the claim engine's transfer_vs_scratch. The results rows also carry the paired
t-interval and its verdict, which is stricter.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import keras
import numpy as np

from harness import stats, training
from harness.data import DataConfig, load_splits
from harness.paths import default_cache_dir
from harness.results import Row
from harness.scales import Scale
from harness.teaching import messages
from harness.teaching.student import Student, StudentConfig

CLAIM_ID = "homework"
LESSON_SECTION = "Homework verificable: criterio de aceptación"
PHASE1, PHASE2, SCRATCH = "phase 1 (head warm-up)", "phase 2 (fine-tuned)", "from scratch"
TWO_STAGE_MARGIN = 0.02  # "la etapa 2 mejora la 1 en >= 2 pp"
TRANSFER_MARGIN = 0.10  # "supera desde cero por mucho margen", read as in claims/transfer_vs_scratch.py
TOLERANCE = 1e-9  # accuracies are ratios of counts: a delta of exactly the margin passes


@dataclass(frozen=True)
class Criterion:
    variant: str
    statement: str
    baseline: str
    treatment: str
    margin: float
    failure_text: str  # key of messages.TEXTS


CRITERIA = (
    Criterion("two_stage", "Phase 2 (fine-tuning) improves phase 1 (head warm-up) by at least 2 pp.",
              PHASE1, PHASE2, TWO_STAGE_MARGIN, "homework_two_stage"),
    Criterion("transfer_vs_scratch", "Transfer learning beats training the same network from scratch by far.",
              SCRATCH, PHASE2, TRANSFER_MARGIN, "homework_scratch"),
)


@dataclass(frozen=True)
class HomeworkResult:
    student: str
    backbone: str
    scale: Scale
    per_seed: dict[str, list[float]]  # arm -> test accuracy per seed
    seconds: float

    def mean(self, arm: str) -> float:
        return float(np.mean(self.per_seed[arm]))

    def mean_delta(self, criterion: Criterion) -> float:
        return float(np.mean(np.subtract(self.per_seed[criterion.treatment], self.per_seed[criterion.baseline])))


def grade(student: Student, scale: Scale, *, cache_dir: Path | None = None,
          progress: Callable[[str], None] = print) -> HomeworkResult:
    """Train phase 1, phase 2 and scratch on every seed of `scale`; return the test accuracies."""
    started = time.perf_counter()
    per_seed: dict[str, list[float]] = {PHASE1: [], PHASE2: [], SCRATCH: []}
    for seed in scale.seeds:
        splits = load_splits(data_config(scale, cache_dir), seed)
        config = StudentConfig(scale.image_size, len(splits.class_names), scale.batch_size, "imagenet", seed,
                               splits.x_train, splits.y_train, splits.x_val, splits.y_val, splits.class_names)
        train, _ = student.build_datasets(config)
        _, test = student.build_datasets(replace(config, x_val=splits.x_test, y_val=splits.y_test))
        phase1, phase2 = transfer_accuracies(student, config, train, test, scale)
        scratch = scratch_accuracy(student, config, train, test, scale)
        for arm, value in ((PHASE1, phase1), (PHASE2, phase2), (SCRATCH, scratch)):
            per_seed[arm].append(value)
        progress(f"homework[{student.name}-{scale.name}] seed {seed}: phase 1 {phase1:.3f}, phase 2 {phase2:.3f}, "
                 f"scratch {scratch:.3f} (elapsed {time.perf_counter() - started:.0f} s)")
    return HomeworkResult(student.name, student.backbone, scale, per_seed, round(time.perf_counter() - started, 1))


def data_config(scale: Scale, cache_dir: Path | None) -> DataConfig:
    """The claims' data for this scale (same cache), so the homework is scored on the suite's test set."""
    return DataConfig(source=scale.dataset, image_size=scale.image_size, n_train=scale.n_train, n_val=scale.n_val,
                      n_test=scale.n_test, cache_dir=(cache_dir or default_cache_dir()) / "data")


def transfer_accuracies(student: Student, config: StudentConfig, train, test, scale: Scale) -> tuple[float, float]:
    """The student's two phases, as the lesson runs them: fit, score, unfreeze + recompile, fit, score."""
    training.seed_everything(config.seed, "homework-build")
    model, base = student.build_model(config)
    student.compile_stage1(model, base)
    training.seed_everything(config.seed, "homework-phase1")
    model.fit(train, epochs=scale.stage1_epochs, shuffle=False, verbose=0)  # the student's dataset shuffles
    phase1 = accuracy(model, test)
    student.unfreeze_and_compile_stage2(model, base)
    training.seed_everything(config.seed, "homework-phase2")
    model.fit(train, epochs=scale.stage2_epochs, shuffle=False, verbose=0)
    return phase1, accuracy(model, test)


def scratch_accuracy(student: Student, config: StudentConfig, train, test, scale: Scale) -> float:
    """Same architecture, random weights, every layer trained with the student's stage-1 optimizer and loss."""
    training.seed_everything(config.seed, "homework-scratch-build")
    model, base = student.build_model(replace(config, weights=None))
    student.compile_stage1(model, base)
    optimizer, loss = model.optimizer, model.loss
    training.unfreeze_for_scratch(base)
    model.compile(optimizer=type(optimizer).from_config(optimizer.get_config()), loss=loss)
    training.seed_everything(config.seed, "homework-scratch")
    model.fit(train, epochs=scale.stage1_epochs + scale.stage2_epochs, shuffle=False, verbose=0)
    return accuracy(model, test)


def accuracy(model: keras.Model, test) -> float:
    """Top-1 accuracy over one pass of the test pipeline, in inference mode; one-hot labels are accepted."""
    correct = total = 0
    for element in test:
        images, labels = element[0], np.asarray(element[1])
        predicted = np.argmax(np.asarray(model(images, training=False)), axis=-1)  # eager: no predict trace
        labels = np.argmax(labels, axis=-1) if labels.ndim > 1 else labels
        correct += int(np.sum(predicted == labels))
        total += len(labels)
    return correct / total


def rows(result: HomeworkResult, run_id: str) -> list[Row]:
    """One results row per acceptance criterion; per_seed carries all three arms' accuracies."""
    return [criterion_row(result, criterion, run_id) for criterion in CRITERIA]


def criterion_row(result: HomeworkResult, criterion: Criterion, run_id: str) -> Row:
    scale = result.scale
    baseline, treatment = result.per_seed[criterion.baseline], result.per_seed[criterion.treatment]
    comparison = stats.compare(baseline, treatment)
    deltas = list(np.subtract(treatment, baseline))
    return Row(
        claim=CLAIM_ID, variant=f"{result.student}:{criterion.variant}", scale=scale.name, backbone=result.backbone,
        dataset=scale.dataset, image_size=scale.image_size, n_train=scale.n_train, seeds=len(scale.seeds),
        baseline=comparison.baseline, treatment=comparison.treatment, delta=comparison.delta,
        ci_low=comparison.ci_low, ci_high=comparison.ci_high, threshold=criterion.margin,
        verdict=stats.verdict(comparison, criterion.margin), seconds=result.seconds, statement=criterion.statement,
        lesson_section=LESSON_SECTION, metric="test accuracy", baseline_arm=criterion.baseline,
        treatment_arm=criterion.treatment, ci_method=stats.CI_METHOD,
        explanation=stats.explain(comparison, criterion.margin, deltas), per_seed=result.per_seed,
        details={"acceptance": "mean delta over seeds >= threshold", "accepted": accepted(result, criterion)},
        run_id=run_id, finished_at=time.strftime("%Y-%m-%dT%H:%M:%S"),
    )


def accepted(result: HomeworkResult, criterion: Criterion) -> bool:
    return result.mean_delta(criterion) >= criterion.margin - TOLERANCE


def failures(result: HomeworkResult, lang: str = "en") -> list[str]:
    """The acceptance criteria the result misses, each as a sentence with the measured numbers."""
    return [
        messages.text(lang, criterion.failure_text, need=criterion.margin * 100,
                      delta=result.mean_delta(criterion) * 100)
        for criterion in CRITERIA
        if not accepted(result, criterion)
    ]


def summary(result: HomeworkResult, lang: str = "en") -> str:
    return messages.text(lang, "homework_rows", scale=result.scale.name, phase1=result.mean(PHASE1),
                         phase2=result.mean(PHASE2), scratch=result.mean(SCRATCH), seeds=len(result.scale.seeds))


def all_finite(result: HomeworkResult) -> bool:
    return all(math.isfinite(value) and 0.0 <= value <= 1.0 for arm in result.per_seed.values() for value in arm)
