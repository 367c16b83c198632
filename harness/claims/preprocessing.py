"""Lesson: "preprocess_input por modelo (cada red espera su escalado)"; common error #1, images in [0, 255].

Arms: the realistic mistake for each backbone → its own preprocessing. Networks that rescale internally
(EfficientNetB0, MobileNetV3Small) expect 0–255, so their mistake is scaling twice (/255 first); the others
(Lite0, MobileNetV2) expect a small range, so their mistake is raw 0–255 pixels.
Metric: test accuracy of feature extraction (frozen ImageNet base, head trained on its pooled features).
"""

from harness import backbones, training
from harness.claims.base import Arm, Claim, Trial

BACKBONE_OF_VARIANT = {
    "lite0": "efficientnet_lite0",
    "b0": "efficientnet_b0",
    "mnv3s": "mobilenet_v3_small",
    "mnv2": "mobilenet_v2",
}


def mistaken_mode(backbone: str) -> str:
    """The preprocessing bug a student makes with this backbone."""
    _, high = backbones.get(backbone).input_range
    return "double" if high > 1 else "raw"


def mistaken_accuracy(trial: Trial) -> float:
    return feature_extraction_accuracy(trial, mistaken_mode(BACKBONE_OF_VARIANT[trial.variant]))


def correct_accuracy(trial: Trial) -> float:
    return feature_extraction_accuracy(trial, "correct")


def feature_extraction_accuracy(trial: Trial, input_mode: str) -> float:
    lab, scale = trial.lab, trial.lab.scale
    features = lab.features(trial.seed, BACKBONE_OF_VARIANT[trial.variant], input_mode)
    head = training.train_linear_head(
        features["train"], features["y_train"], num_classes=int(features["y_train"].max()) + 1,
        epochs=scale.stage1_epochs, batch_size=scale.batch_size, learning_rate=scale.stage1_lr,
        dropout=scale.dropout, seed=trial.seed,
    )
    return training.accuracy(head, features["test"], features["y_test"])


CLAIM = Claim(
    id="preprocessing",
    statement="Each network expects its own input scaling; the wrong range breaks the pretrained features.",
    lesson_section="Temas: preprocess_input por modelo; Errores comunes: imágenes en [0, 255]",
    metric="test accuracy, frozen ImageNet base + trained head",
    baseline=Arm("wrong scaling", mistaken_accuracy),
    treatment=Arm("backbone's preprocess", correct_accuracy),
    threshold=0.0,
    variants=tuple(BACKBONE_OF_VARIANT),
    variant_backbones=BACKBONE_OF_VARIANT,
    reading="correct preprocessing beats the backbone's realistic mistake (raw 0–255, or /255 twice)",
)
