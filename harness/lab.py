"""Shared steps that several claims reuse, each built once per configuration and cached in memory and on disk.

A `Lab` is made per scale with its options; the claim arms ask it for data, frozen-base features and trained
stage-1 models. Cache keys hold everything that determines the result (scale fields, data, backbone, seed and
recipe version), so a change of any of them builds afresh, and the same key always gives identical weights.
"""

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import keras
import numpy as np

from harness import backbones, training
from harness.augment import lesson_augmentation
from harness.data import DataConfig, Splits, load_splits
from harness.paths import default_cache_dir
from harness.scales import Scale


def cache_key(**parts: object) -> str:
    """A short stable hash of everything that determines a cached artefact."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


@dataclass
class Lab:
    scale: Scale
    cache_dir: Path = field(default_factory=default_cache_dir)
    _memory: dict = field(default_factory=dict, repr=False)

    # --- data -------------------------------------------------------------------------------------------------
    def data_config(self, n_train: int | None = None) -> DataConfig:
        return DataConfig(
            source=self.scale.dataset,
            image_size=self.scale.image_size,
            n_train=n_train or self.scale.n_train,
            n_val=self.scale.n_val,
            n_test=self.scale.n_test,
            cache_dir=self.cache_dir / "data",
        )

    def splits(self, seed: int, n_train: int | None = None) -> Splits:
        return load_splits(self.data_config(n_train), seed)

    # --- frozen-base features ----------------------------------------------------------------------------------
    def frozen_base(self, backbone: str) -> keras.Model:
        """One ImageNet base per backbone and process, only ever used frozen (never trained)."""
        key = ("base", backbone, self.scale.image_size)
        if key not in self._memory:
            self._memory[key] = backbones.load(backbone, image_size=self.scale.image_size, weights="imagenet")
        return self._memory[key]

    def features(self, seed: int, backbone: str, input_mode: str = "correct",
                 n_train: int | None = None) -> dict[str, np.ndarray]:
        """Pooled features of the frozen ImageNet base for train and test images, and their labels."""
        config = self.data_config(n_train)
        key = cache_key(kind="features", backbone=backbone, input_mode=input_mode, data=asdict(config), seed=seed,
                        version=training.RECIPE_VERSION)

        def build() -> dict[str, np.ndarray]:
            splits = self.splits(seed, n_train)
            base = self.frozen_base(backbone)
            preprocess = training.Preprocess(backbone, input_mode)
            return {
                "train": training.pooled_features(base, splits.x_train, preprocess),
                "test": training.pooled_features(base, splits.x_test, preprocess),
                "y_train": splits.y_train,
                "y_test": splits.y_test,
            }

        return self._cached_arrays(key, build)

    def _cached_arrays(self, key: str, build) -> dict[str, np.ndarray]:
        if key in self._memory:
            return self._memory[key]
        path = self.cache_dir / "features" / f"{key}.npz"
        try:
            with np.load(path) as stored:
                arrays = {name: stored[name] for name in stored.files}
        except (OSError, ValueError, EOFError):  # absent, or torn by an interrupted writer: rebuild
            arrays = build()
            _atomic_save_npz(path, arrays)
        self._memory[key] = arrays
        return arrays

    # --- trained models ------------------------------------------------------------------------------------------
    def classifier(self, seed: int, *, augment: bool = True, weights: str | None = "imagenet", **options):
        """A fresh, untrained classifier of the scale's backbone, seeded for this seed."""
        training.seed_everything(seed, "build")
        return training.build_classifier(
            self.scale.backbone,
            image_size=self.scale.image_size,
            num_classes=len(self.splits(seed).class_names),
            weights=weights,
            augmentation=lesson_augmentation(seed) if augment else None,
            dropout=self.scale.dropout,
            **options,
        )

    def stage1(self, seed: int, *, augment: bool = True, **options) -> training.Classifier:
        """The lesson's stage 1 for this seed: base frozen, head warmed up with Adam at the stage-1 rate."""

        def train(classifier: training.Classifier) -> None:
            training.compile_model(classifier.model, self.scale.stage1_lr)
            self._fit(classifier, seed, self.scale.stage1_epochs, "stage1")

        return self._trained(seed, "stage1", train, augment=augment, **options)

    def stage2(self, seed: int, *, learning_rate: float | None = None, bn_policy: str = "frozen",
               fraction: float = 1.0) -> training.Classifier:
        """Stage 2 from this seed's stage-1 model: unfreeze, recompile, fine-tune at a low rate."""
        learning_rate = learning_rate or self.scale.stage2_lr

        def train(classifier: training.Classifier) -> None:
            # Stage 1 trains a frozen base, so its weights fit every BatchNorm policy's graph.
            classifier.model.set_weights(self.stage1(seed).model.get_weights())
            training.unfreeze(classifier, fraction=fraction, bn_policy=bn_policy)
            training.compile_model(classifier.model, learning_rate)
            self._fit(classifier, seed, self.scale.stage2_epochs, "stage2")

        return self._trained(seed, "stage2", train, learning_rate=learning_rate, bn_policy=bn_policy,
                             fraction=fraction, stage1_epochs=self.scale.stage1_epochs)

    def scratch(self, seed: int) -> training.Classifier:
        """The same architecture from random weights, every layer trained for as many epochs as both stages."""

        def train(classifier: training.Classifier) -> None:
            classifier.base.trainable = True
            training.compile_model(classifier.model, self.scale.stage1_lr)
            self._fit(classifier, seed, self.scale.stage1_epochs + self.scale.stage2_epochs, "scratch")

        return self._trained(seed, "scratch", train, weights=None, bn_policy="train")

    def _fit(self, classifier: training.Classifier, seed: int, epochs: int, step: str) -> None:
        train = self.splits(seed).dataset("train", self.scale.batch_size, shuffle_seed=seed)
        training.fit(classifier.model, train, epochs=epochs, seed=seed, step=step)

    def _trained(self, seed: int, step: str, train, *, augment: bool = True, weights: str | None = "imagenet",
                 bn_policy: str = "frozen", **settings) -> training.Classifier:
        """Train once per key (memory, then disk), and give every caller its own copy with identical weights."""
        scale = self.scale
        key = cache_key(kind=step, backbone=scale.backbone, weights=weights, data=asdict(self.data_config()),
                        seed=seed, augment=augment, bn_policy=bn_policy, batch=scale.batch_size,
                        dropout=scale.dropout, stage1=(scale.stage1_epochs, scale.stage1_lr),
                        settings=settings, version=training.RECIPE_VERSION)
        classifier = self.classifier(seed, augment=augment, weights=weights, bn_policy=bn_policy)
        stored = self._memory.get(key) or self._load_weights(key, classifier.model)
        if stored is None:
            train(classifier)
            self._save_weights(key, classifier.model)
            stored = classifier.model.get_weights()
        classifier.model.set_weights(stored)
        self._memory[key] = stored
        return classifier

    def _weights_path(self, key: str) -> Path:
        return self.cache_dir / "models" / f"{key}.weights.h5"

    def _load_weights(self, key: str, model: keras.Model) -> list[np.ndarray] | None:
        path = self._weights_path(key)
        if not path.exists():
            return None
        try:
            model.load_weights(path)
        except (OSError, ValueError):  # torn or stale file: train again
            path.unlink(missing_ok=True)
            return None
        return model.get_weights()

    def _save_weights(self, key: str, model: keras.Model) -> None:
        path = self._weights_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{key}.{os.getpid()}.partial.weights.h5")
        model.save_weights(partial)
        partial.replace(path)


def _atomic_save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write then rename, so a killed run never leaves a half-written cache entry under the real name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.stem}.{os.getpid()}.partial.npz")
    np.savez(partial, **arrays)
    partial.replace(path)
