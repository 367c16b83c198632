"""Definition: "LR diferencial: capas tempranas LR bajo (1e-5), tardías más alto (1e-4)"; objective: "fine-tuning
en 2 fases con LR diferencial".

Arms: stage 2 at one uniform rate → stage 2 with differential rates (the first half of the base's weighted layers
at 1e-5, the later half and the head at 1e-4), from the same stage-1 model, BatchNorm frozen, same epochs.
Keras has no per-layer rate; `tl_claims.recipe.optimizers` runs each variable's update at its group's rate.
Metric: test accuracy. Rule: differential > uniform.
Variants: against uniform 1e-5 (`vs_uniform_1e-5`: does letting late layers move faster help?) and against uniform
1e-4 (`vs_uniform_1e-4`: does holding early layers back help?). At five seeds the second one's verdict changed with
the TensorFlow thread count (REFUTED −1.3 pp [−2.3, −0.3] with two threads, INCONCLUSIVE −0.9 pp [−1.9, +0.1]
with one: the last bits of the weights move a seed's Δ by up to 1 pp), so it runs ten seeds at cpu scale.
"""

from tl_claims.claims.base import Arm, Claim, Measurement, Metric, Trial, Variant
from tl_claims.recipe.options import Stage2Options

EARLY_RATE, LATE_RATE = 1e-5, 1e-4


def uniform(trial: Trial) -> Measurement:
    model = trial.lab.stage2(trial.seed, Stage2Options(learning_rate=trial.params["uniform_rate"]))
    return Measurement.of(trial.lab.evaluate(model, trial.seed), {"rate": trial.params["uniform_rate"]})


def differential(trial: Trial) -> Measurement:
    model = trial.lab.stage2(trial.seed, Stage2Options(learning_rate=LATE_RATE, early_learning_rate=EARLY_RATE))
    details = {
        "early layers": "first half of the base's weighted layers",
        "early rate": EARLY_RATE,
        "late rate (later half + head)": LATE_RATE,
    }
    return Measurement.of(trial.lab.evaluate(model, trial.seed), details)


CLAIM = Claim(
    id="differential_lr",
    statement="Fine-tuning with a lower learning rate for early layers than for late layers works better than "
    "one uniform rate.",
    lesson_section="Definiciones: LR diferencial; Objetivo: fine-tuning en 2 fases con LR diferencial",
    metric=Metric("test accuracy after stage 2"),
    baseline=Arm("uniform {uniform}", uniform),
    treatment=Arm("early 1e-5, late 1e-4", differential),
    threshold=0.0,
    variants=(
        Variant("vs_uniform_1e-5", {"uniform_rate": 1e-5, "uniform": "1e-5"}),
        Variant(
            "vs_uniform_1e-4",
            {"uniform_rate": 1e-4, "uniform": "1e-4"},
            expected={"cpu": "REFUTED"},
            min_seeds={"cpu": 10},
        ),
    ),
    smoke=("vs_uniform_1e-5",),
    reading="'differential ≥ uniform' tested as differential > uniform against each of the two rates it mixes",
)
