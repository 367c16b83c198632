"""BN gotcha: "cuando descongelás, BN sigue actualizando moving averages → puede dañar pretraining"; "para datasets
chicos, mantener BN en inference mode"; exercise 5: with `base.trainable = True`, pass `training=False` to the base
during fine-tuning → BN is not updated.

Arms (stage 2 from the same stage-1 model, whole base unfrozen, lesson rate, same epochs):
- baseline: BatchNorm in training mode (batch statistics, moving averages updated);
- `call_inference`: the lesson's fix as written, `x = base(inputs, training=False)`;
- `bn_frozen`: BatchNorm layers set `trainable=False` (inference mode in Keras 3).
Metric: test accuracy. Rule (the lesson's): inference-mode BN beats training-mode BN. Primary: `bn_frozen`, the
inference mode the lesson promises; `call_inference` is the form exercise 5 teaches, measured beside it.
Factual variant `call_freezes_bn`: metric = share of moving-statistic values left exactly as they were; rule: the
call form keeps more of them fixed than training mode does. On Keras 3 the outer `fit` passes `training=True` down
and overrides the call's `training=False` (keras-team/keras#20285), so the call form updates BN just the same.
Every row carries the installed Keras version and each arm's moving-mean drift.
"""

import keras

from tl_claims.claims.base import Arm, Claim, Measurement, Metric, Trial, Variant
from tl_claims.claims.records import BatchNormPoint
from tl_claims.recipe import measures
from tl_claims.recipe.options import Stage2Options
from tl_claims.stats.rules import Exact


def stage2_with_policy(trial: Trial, policy: str) -> Measurement:
    """Stage 2 under one BatchNorm policy: accuracy (or, for call_freezes_bn, the share of moving statistics left
    unchanged), with drift and the Keras version beside it, and a point for the BatchNorm figure."""
    lab, seed = trial.lab, trial.seed
    model = lab.stage2(seed, Stage2Options(bn_policy=policy))
    before, after = lab.moving_statistics(lab.stage1(seed)), lab.moving_statistics(model)
    unchanged = measures.fraction_of_statistics_unchanged(before, after)
    drift = measures.moving_mean_drift(before, after)
    evaluation = lab.evaluate(model, seed)
    details = {
        "keras": keras.__version__,
        "test accuracy": evaluation.accuracy,
        "moving statistics unchanged": unchanged,
        "moving-mean drift (σ)": drift,
    }
    value = unchanged if trial.params.get("measure") == "unchanged" else evaluation
    return Measurement.of(value, details, (BatchNormPoint(policy, seed, evaluation.accuracy, drift),))


CLAIM = Claim(
    id="bn_gotcha",
    statement="When fine-tuning on small data, keep BatchNorm in inference mode: moving statistics updated on a few "
    "batches damage the pretrained features (the lesson's way: pass training=False to the base).",
    lesson_section="Temas: BN gotcha; Ejercicio 5; Errores comunes: BatchNorm en fine-tuning",
    metric=Metric("test accuracy after stage 2 (call_freezes_bn: share of BN moving statistics left unchanged)"),
    baseline=Arm("BN training mode", lambda trial: stage2_with_policy(trial, "train")),
    treatment=Arm("{arm}", lambda trial: stage2_with_policy(trial, trial.params["policy"])),
    threshold=0.0,
    variants=(
        Variant(
            "call_inference",
            {"policy": "call_inference", "arm": "base(x, training=False)"},
            expected={"cpu": "REFUTED"},
        ),
        Variant("bn_frozen", {"policy": "frozen", "arm": "BN trainable=False"}),
        Variant(
            "call_freezes_bn",
            {"policy": "call_inference", "arm": "base(x, training=False)", "measure": "unchanged"},
            expected={"cpu": "REFUTED"},
            rule=Exact(0.0),
        ),
    ),
    # The lesson's promise (inference-mode BatchNorm protects fine-tuning) is the primary; the call form it teaches
    # changes nothing under Keras 3's fit, so it is a mechanism row (2026-12-07: it used to be the primary, and a
    # REFUTED primary read as "inference mode does not help", which bn_frozen shows it does).
    primary="bn_frozen",
    smoke=("bn_frozen",),
    reading="inference-mode BN > training-mode BN in test accuracy; call_freezes_bn checks the mechanism itself",
    advice=f"on Keras {keras.__version__}, `base(x, training=False)` does not freeze BatchNorm under fit(): the "
    "outer training=True overrides it (keras-team/keras#20285) and the moving statistics keep updating. "
    "Fix: set `layer.trainable = False` on every BatchNormalization layer of the base, then compile() again",
)
