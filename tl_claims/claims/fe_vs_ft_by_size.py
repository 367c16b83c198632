"""Definitions: "Feature extraction: base frozen, solo entreno head. Bueno para n < 1000." / "Fine-tune: descongelar
parte/total y reentrenar con LR muy bajo"; objective: compare both "según tamaño del dataset".

Per seed and per training-set size n (images per class): FE = the stage-1 model (frozen base, head, augmentation);
FT = stage 2 from it (whole base unfrozen, lesson rate, BatchNorm frozen). Gap(n) = FT(n) − FE(n), test accuracy,
image by image (the test set is the same for every n, so the gaps are paired per image).
Sizes: the scale's learning-curve sizes up to the scale's own n_train (what its budget allows to fine-tune), or a
variant's own sizes at a scale (`lesson_sizes`: 10 to 500 per class at cpu scale, toward the lesson's ~1000;
elsewhere the scale's). Training subsets are nested across n for a seed.
Arms: gap at the smallest n → gap at the largest n. Rule: the gap grows with n (difference > 0).
"""

from tl_claims.claims.base import Arm, Claim, Measurement, Metric, Trial, Variant
from tl_claims.claims.records import CurvePoint
from tl_claims.recipe.options import Stage1Options, Stage2Options


def fine_tuning_sizes(trial: Trial) -> list[int]:
    scale = trial.lab.scale
    own = trial.params.get("sizes", {}).get(scale.name)
    if own:
        return sorted(own)
    sizes = sorted({n for n in scale.learning_curve_sizes if n <= scale.n_train} | {scale.n_train})
    if len(sizes) < 2:
        raise ValueError(
            f"{scale.name}: fe_vs_ft_by_size needs two sizes up to n_train={scale.n_train}; "
            f"learning_curve_sizes={scale.learning_curve_sizes}"
        )
    return sizes


def gap(trial: Trial, n_per_class: int) -> Measurement:
    """FT − FE at one size, per test image, with both accuracies as learning-curve points."""
    lab, seed = trial.lab, trial.seed
    subset = Stage1Options(n_train=n_per_class)
    fe = lab.evaluate(lab.stage1(seed, subset), seed)
    ft = lab.evaluate(lab.stage2(seed, Stage2Options(stage1=subset)), seed)
    records = (
        CurvePoint("fe_stage1", n_per_class, seed, fe.accuracy),
        CurvePoint("ft_stage2", n_per_class, seed, ft.accuracy),
    )
    return Measurement.of(ft.correct - fe.correct, {"n per class": n_per_class}, records)


def gap_at_largest(trial: Trial) -> Measurement:
    """The largest size's gap; every size's points go into the row for the learning-curve figure."""
    measured = [gap(trial, n) for n in fine_tuning_sizes(trial)]
    records = tuple(record for measurement in measured for record in measurement.records)
    return Measurement(measured[-1].scores, measured[-1].details, records)


CLAIM = Claim(
    id="fe_vs_ft_by_size",
    statement="Feature extraction suits small data sets; the more images, the more fine-tuning adds over it.",
    lesson_section="Definiciones: feature extraction / fine-tune; Objetivo: comparar según tamaño del dataset",
    metric=Metric("FT − FE test accuracy (pp) at one training-set size"),
    baseline=Arm("FT − FE at the smallest n", lambda trial: gap(trial, fine_tuning_sizes(trial)[0])),
    treatment=Arm("FT − FE at the largest n", gap_at_largest),
    threshold=0.0,
    variants=(
        Variant("stage1_vs_stage2", expected={"cpu": "INCONCLUSIVE"}),
        # The lesson's rule is about ~1000 images: fine-tuning up to 500 per class (about 470 stage-2 steps there).
        Variant("lesson_sizes", {"sizes": {"cpu": (10, 50, 100, 200, 500)}}, expected={"cpu": "INCONCLUSIVE"}),
    ),
    reading="'FE for n < 1000, fine-tune with more' read as a trend: the fine-tuning gain grows with n",
)
