"""Common error: "Forgot to recompile después de cambiar trainable → el optimizer no ve los nuevos pesos como
trainable."

Arms: the stage-1 model, `base.trainable = True`, `fit` again without `compile()` (where a student's model is after
stage 1's `fit`: compiled, its train step traced) → the same with `compile()` at the lesson's stage-2 rate (the
shared stage 2). Both unfreeze the whole base with BatchNorm layers frozen and train for stage 2's epochs.
Metric: the share of the base's weight tensors that stage 2 sets out to train (every non-BatchNorm tensor) that
changed at all. Rule (exact: a deterministic measurement, no interval): with − without > 0.99, i.e. every one moves
with compile() and none without ("ignores").
Test accuracy of both arms is reported beside it. Version-sensitive: the row carries the installed Keras version.
"""

import keras

from tl_claims.claims.base import Arm, Claim, Measurement, Metric, Trial, Variant
from tl_claims.recipe import measures, training
from tl_claims.recipe.architecture import Classifier
from tl_claims.stats.rules import Exact


def share_of_base_tensors_moved(trial: Trial, model: Classifier) -> Measurement:
    lab, seed = trial.lab, trial.seed
    before, after = trained_base_tensors(lab.readonly(lab.stage1(seed))), trained_base_tensors(lab.readonly(model))
    changed = measures.fraction_of_tensors_changed(before, after)
    details = {"keras": keras.__version__, "test accuracy": lab.evaluate(model, seed).accuracy}
    return Measurement.of(changed, details)


def trained_base_tensors(classifier: Classifier) -> list:
    """The base's weights that stage 2 sets out to train: every layer's except BatchNorm's (kept frozen)."""
    return [
        weight
        for layer in training.weighted_layers(classifier.base)
        if not isinstance(layer, keras.layers.BatchNormalization)
        for weight in layer.get_weights()
    ]


CLAIM = Claim(
    id="recompile",
    statement="After changing `trainable`, the model must be compiled again; otherwise the optimizer ignores the "
    "newly trainable weights.",
    lesson_section="Errores comunes: forgot to recompile; Ejercicio 4",
    metric=Metric("share of the base's trainable weight tensors changed by stage 2's fit", share_of_base_tensors_moved),
    baseline=Arm("unfrozen, not recompiled", lambda trial: trial.lab.stage2_without_recompile(trial.seed)),
    treatment=Arm("unfrozen, recompiled", lambda trial: trial.lab.stage2(trial.seed)),
    threshold=0.99,
    rule=Exact(0.99),
    variants=(Variant("unfreeze_all"),),
    reading="'the optimizer does not see the new weights' read strictly: without compile() no base tensor moves, "
    "with it every one does",
    advice="on this Keras, unfreezing without compile() did not leave the base untouched; whatever the version, "
    "call compile() after changing `trainable` — it is what makes the change take effect",
)
