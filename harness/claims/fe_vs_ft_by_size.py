"""Definitions: "Feature extraction: base frozen, solo entreno head. Bueno para n < 1000." / "Fine-tune: descongelar
parte/total y reentrenar con LR muy bajo"; objective: compare both "según tamaño del dataset".

Per seed and per training-set size n (images per class): FE = the stage-1 model (frozen base, head, augmentation);
FT = stage 2 from it (whole base unfrozen, lesson rate, BatchNorm frozen). Gap(n) = FT(n) − FE(n), test accuracy.
Sizes: the scale's learning-curve sizes up to the scale's own n_train (what its budget allows to fine-tune; larger
sets are cheap only for feature extraction, see `min_images`). Training subsets are nested across n for a seed and
the test set is the same for every n, so the gaps are paired.
Arms: gap at the smallest n → gap at the largest n. Rule: the gap grows with n (difference > 0).
"""

from harness import figures
from harness.claims.base import Arm, Claim, Measurement, Trial


def fine_tuning_sizes(trial: Trial) -> list[int]:
    scale = trial.lab.scale
    sizes = sorted({n for n in scale.learning_curve_sizes if n <= scale.n_train} | {scale.n_train})
    if len(sizes) < 2:
        raise ValueError(f"{scale.name}: fe_vs_ft_by_size needs two sizes up to n_train={scale.n_train}; "
                         f"learning_curve_sizes={scale.learning_curve_sizes}")
    return sizes


def gap(trial: Trial, n_per_class: int) -> tuple[float, dict]:
    """FT − FE at one size, with both accuracies under the figure's keys."""
    lab, seed = trial.lab, trial.seed
    fe = lab.evaluate(lab.stage1(seed, n_train=n_per_class), seed).accuracy  # at the scale's n_train: the shared
    ft = lab.evaluate(lab.stage2(seed, n_train=n_per_class), seed).accuracy  # stage-1 and stage-2 models
    return ft - fe, {figures.curve_key("fe_stage1", n_per_class, seed): fe,
                     figures.curve_key("ft_stage2", n_per_class, seed): ft}


def gap_at_smallest(trial: Trial) -> Measurement:
    n = fine_tuning_sizes(trial)[0]
    value, _ = gap(trial, n)
    return Measurement(value, {"n per class": n})


def gap_at_largest(trial: Trial) -> Measurement:
    """The largest size's gap; the whole curve goes into the row for the learning-curve figure."""
    curve: dict[str, object] = {}
    for n in fine_tuning_sizes(trial):
        value, accuracies = gap(trial, n)
        curve.update(accuracies)
    return Measurement(value, {"n per class": n, **curve})


CLAIM = Claim(
    id="fe_vs_ft_by_size",
    statement="Feature extraction suits small data sets; the more images, the more fine-tuning adds over it.",
    lesson_section="Definiciones: feature extraction / fine-tune; Objetivo: comparar según tamaño del dataset",
    metric="FT − FE test accuracy (pp) at one training-set size",
    baseline=Arm("FT − FE at the smallest n", gap_at_smallest),
    treatment=Arm("FT − FE at the largest n", gap_at_largest),
    threshold=0.0,
    variants=("stage1_vs_stage2",),
    reading="'FE for n < 1000, fine-tune with more' read as a trend: the fine-tuning gain grows with n",
)
