"""The lesson's model, built: [augmentation,] preprocessing, base, pooling, dropout, dense (its exercise 2).

Apart from the training stages (`tl_claims.recipe.training`) because most of the code only hands a `Classifier` around:
the claims read it, the lab and the homework build and store it, the evaluations run it. `INPUT_MODES` are the
lesson's preprocessing mistakes a claim can build in; `BN_POLICIES` the ways BatchNorm can behave once stage 2
unfreezes the base (docs/measured-facts.md).
"""

from collections.abc import Callable
from pathlib import Path

import keras

from tl_claims import backbones

INPUT_MODES = ("correct", "raw", "double")  # the backbone's preprocess / raw 0-255 / divided by 255 first
BN_POLICIES = ("train", "call_inference", "frozen")  # BN updates / base(x, training=False) / BN trainable=False


@keras.saving.register_keras_serializable(package="tl_claims")
class Preprocess(keras.layers.Layer):
    """Maps RGB 0–255 images to a backbone's input: its own preprocessing, or one of the classic mistakes."""

    def __init__(self, backbone: str, mode: str = "correct", **kwargs) -> None:
        super().__init__(**kwargs)
        if mode not in INPUT_MODES:
            raise ValueError(f"unknown input mode {mode!r}; choose one of {INPUT_MODES}")
        self.backbone, self.mode = backbone, mode

    def call(self, images):
        if self.mode == "raw":
            return images
        if self.mode == "double":
            images = images / 255.0
        return backbones.get(self.backbone).preprocess(images)

    def get_config(self) -> dict:
        return {**super().get_config(), "backbone": self.backbone, "mode": self.mode}


class Classifier:
    """The whole model and a handle on its base (which stage 2 unfreezes), with the cache key of its weights.

    `Classifier.deferred` builds the model on first use. The lab hands out stored models that way, so asking for a
    model whose measurements are already memoised (under its key) costs no model build, about a second each.
    """

    def __init__(
        self, model: keras.Model | None, base: keras.Model | None, backbone: str, key: str = "", architecture: str = ""
    ) -> None:
        self._model, self._base, self._build = model, base, None
        self.backbone, self.key = backbone, key
        self.architecture = architecture  # how it was built, seeds aside: models that can share a traced train step

    @classmethod
    def deferred(cls, build: Callable[[], "Classifier"], backbone: str, key: str) -> "Classifier":
        classifier = cls(None, None, backbone, key)
        classifier._build = build
        return classifier

    @property
    def model(self) -> keras.Model:
        self._materialise()
        return self._model

    @property
    def base(self) -> keras.Model:
        self._materialise()
        return self._base

    def _materialise(self) -> None:
        if self._build is not None:
            built, self._build = self._build(), None
            self._model, self._base = built.model, built.base


def build_classifier(
    backbone: str,
    *,
    image_size: int,
    num_classes: int,
    weights: str | None = "imagenet",
    augmentation: keras.Layer | None = None,
    dropout: float = 0.2,
    input_mode: str = "correct",
    bn_policy: str = "frozen",
    cache_dir: Path | None = None,
) -> Classifier:
    """The lesson's exercise 2: `[augmentation,] preprocess, base, GlobalAvgPool, Dropout, Dense(num_classes)`.

    The base starts frozen. `bn_policy="call_inference"` builds the graph as `base(x, training=False)`; the other
    policies only matter once the base is unfrozen (`unfreeze`).
    """
    if bn_policy not in BN_POLICIES:
        raise ValueError(f"unknown BatchNorm policy {bn_policy!r}; choose one of {BN_POLICIES}")
    base = backbones.load(backbone, image_size=image_size, include_top=False, weights=weights, cache_dir=cache_dir)
    base.trainable = False
    inputs = keras.Input((image_size, image_size, 3), name="images_0_255")
    x = augmentation(inputs) if augmentation is not None else inputs
    x = Preprocess(backbone, input_mode, name="preprocess")(x)
    x = base(x, training=False) if bn_policy == "call_inference" else base(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(num_classes, name="logits")(x)
    return Classifier(keras.Model(inputs, outputs, name=f"{backbone}_classifier"), base, backbone)
