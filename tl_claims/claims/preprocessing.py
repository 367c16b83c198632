"""Lesson: "preprocess_input por modelo (cada red espera su escalado)"; common error #1, images in [0, 255].

Arms: the realistic mistake for each backbone → its own preprocessing. Networks that rescale internally
(EfficientNetB0, MobileNetV3Small) expect 0–255, so their mistake is scaling twice (/255 first); the others
(Lite0, MobileNetV2) expect a small range, so their mistake is raw 0–255 pixels.
Metric: test accuracy of feature extraction (frozen ImageNet base, head trained on its pooled features).
The primary variant runs on the scale's own backbone (Lite0 at cpu scale, Lite1 in the replication matrix,
EfficientNetB0 at gpu scale), so it replicates across backbones; the others pin a keras.applications backbone.
"""

from tl_claims import backbones
from tl_claims.claims.base import Arm, Claim, Measurement, Metric, Trial, Variant

SCALE_BACKBONE = "scale_backbone"  # the primary: whichever backbone the scale runs
BACKBONE_OF_VARIANT = {
    "b0": "efficientnet_b0",
    "mnv3s": "mobilenet_v3_small",
    "mnv2": "mobilenet_v2",
}


def mistaken_mode(backbone: str) -> str:
    """The preprocessing bug a student makes with this backbone."""
    _, high = backbones.get(backbone).input_range
    return "double" if high > 1 else "raw"


def feature_extraction(trial: Trial, *, mistaken: bool) -> Measurement:
    backbone = trial.params.get("backbone") or trial.lab.scale.backbone
    mode = mistaken_mode(backbone) if mistaken else "correct"
    return Measurement.of(trial.lab.linear_probe(trial.seed, backbone=backbone, input_mode=mode))


CLAIM = Claim(
    id="preprocessing",
    statement="Each network expects its own input scaling; the wrong range breaks the pretrained features.",
    lesson_section="Temas: preprocess_input por modelo; Errores comunes: imágenes en [0, 255]",
    metric=Metric("test accuracy, frozen ImageNet base + trained head"),
    baseline=Arm("wrong scaling", lambda trial: feature_extraction(trial, mistaken=True)),
    treatment=Arm("backbone's preprocess", lambda trial: feature_extraction(trial, mistaken=False)),
    threshold=0.0,
    variants=(
        Variant(SCALE_BACKBONE),
        *(Variant(name, {"backbone": backbone}) for name, backbone in BACKBONE_OF_VARIANT.items()),
    ),
    reading="correct preprocessing beats the backbone's realistic mistake (raw 0–255, or /255 twice)",
)
