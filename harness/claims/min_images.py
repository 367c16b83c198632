"""FAQ: "¿Cuántas imágenes mínimas? 50-100 por clase para feature extraction. 200-500 por clase para fine-tuning
completo."

Feature extraction here is a linear probe: the head trained on the frozen ImageNet base's pooled features, no
augmentation, for at least `MIN_STEPS` optimizer steps at every size (so a small set is not also an undertrained
head). That makes the whole learning curve cheap, up to the scale's largest learning-curve size.
Arms: FE at the largest size ("its best": the most data the scale offers) → FE at 100 per class (the top of the
lesson's range; at scales without 100, the largest size below the top). Training subsets are nested across sizes,
the test set is shared. Rule: FE at 100 per class is within 2 pp of FE at the largest size (threshold −2 pp).
Not built: the fine-tuning half (200–500 per class) needs fine-tuning at 500+ images per class, beyond the cpu budget.
"""

from harness.claims.base import Arm, Claim, Measurement, Metric, Trial, Variant
from harness.records import CurvePoint

STATED_SIZE = 100  # per class: the upper end of the lesson's 50–100 for feature extraction
MIN_STEPS = 300


def sizes(trial: Trial) -> tuple[int, int]:
    """(the size the lesson names, the largest size) for this scale."""
    available = sorted(trial.lab.scale.learning_curve_sizes)
    if len(available) < 2:
        raise ValueError(f"min_images needs two learning-curve sizes; got {available}")
    below_largest = [n for n in available[:-1] if n <= STATED_SIZE]
    return (below_largest[-1] if below_largest else available[0]), available[-1]


def probe(trial: Trial, n_per_class: int) -> Measurement:
    evaluation = trial.lab.linear_probe(trial.seed, n_train=n_per_class, min_steps=MIN_STEPS)
    record = CurvePoint("fe_probe", n_per_class, trial.seed, evaluation.accuracy)
    return Measurement.of(evaluation, {"n per class": n_per_class}, (record,))


def probe_at_largest(trial: Trial) -> Measurement:
    """FE at the largest size; the whole curve goes into the row for the learning-curve figure."""
    curve = [probe(trial, n) for n in sorted(trial.lab.scale.learning_curve_sizes)]
    largest = curve[-1]  # sizes(trial)[1]: the largest learning-curve size
    return Measurement(largest.scores, largest.details, tuple(point for m in curve for point in m.records))


CLAIM = Claim(
    id="min_images",
    statement="50–100 images per class are enough for feature extraction (200–500 for full fine-tuning).",
    lesson_section="Preguntas frecuentes: ¿cuántas imágenes mínimas?",
    metric=Metric("test accuracy of feature extraction (linear probe on frozen features)"),
    baseline=Arm("FE at the largest size", probe_at_largest),
    treatment=Arm("FE at 100 per class", lambda trial: probe(trial, sizes(trial)[0])),
    threshold=-0.02,
    variants=(Variant("feature_extraction", expected={"cpu": "INCONCLUSIVE"}),),
    reading="'enough' read as a plateau: at 100 per class FE is within 2 pp of FE with the most data available",
)
