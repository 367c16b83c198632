"""Shared steps that several claims reuse, each built once per configuration and cached in memory and on disk.

A `Lab` is made per scale with its options; the claim arms ask it for data, frozen-base features and trained
stage-1 models. Cache keys hold everything that determines the result (scale fields, data, backbone, seed and a
hash of the recipe's code), so a change of any of them builds afresh, and the same key always gives identical weights.
"""

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import keras
import numpy as np

from harness import augment, backbones, measures, training
from harness.augment import lesson_augmentation
from harness.data import DataConfig, Splits, load_splits
from harness.paths import default_cache_dir
from harness.scales import Scale


def _code_fingerprint() -> str:
    """A hash of the code that decides what a cached artefact holds: any change there rebuilds the caches, so a
    stale model can never stand in for the current recipe."""
    package = Path(__file__).parent
    sources = [package / name for name in ("lab.py", "training.py", "augment.py", "differential_lr.py", "measures.py")]
    sources += sorted((package / "backbones").glob("*.py")) + sorted((package / "data").glob("*.py"))
    return hashlib.sha256(b"".join(path.read_bytes() for path in sources)).hexdigest()[:12]


CODE_FINGERPRINT = _code_fingerprint()


def cache_key(**parts: object) -> str:
    """A short stable hash of everything that determines a cached artefact, the recipe's code included."""
    text = json.dumps({**parts, "code": CODE_FINGERPRINT}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Evaluation:
    accuracy: float
    features: np.ndarray  # pooled features of the classifier's base, one row per image of the split


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
        """Pooled features of the frozen ImageNet base for train and test images, and their labels.

        The test set is the same for every seed and training size, so its features are computed once per backbone
        and input mode, not once per (seed, n_train): learning curves then cost only their training images.
        """
        config = self.data_config(n_train)
        recipe = dict(backbone=backbone, input_mode=input_mode)
        test_data = {name: value for name, value in asdict(config).items() if name != "n_train"}

        def pooled(split: str) -> dict[str, np.ndarray]:
            images, labels = self.splits(seed, n_train).arrays(split)
            base, preprocess = self.frozen_base(backbone), training.Preprocess(backbone, input_mode)
            return {"features": training.pooled_features(base, images, preprocess), "labels": labels}

        train = self._cached_arrays(cache_key(kind="train features", data=asdict(config), seed=seed, **recipe),
                                    lambda: pooled("train"))
        test = self._cached_arrays(cache_key(kind="test features", data=test_data, **recipe), lambda: pooled("test"))
        return {"train": train["features"], "y_train": train["labels"],
                "test": test["features"], "y_test": test["labels"]}

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

    def stage1(self, seed: int, *, augment: bool = True, n_train: int | None = None,
               **options) -> training.Classifier:
        """The lesson's stage 1 for this seed: base frozen, head warmed up with Adam at the stage-1 rate."""

        def train(classifier: training.Classifier) -> None:
            training.compile_model(classifier.model, self.scale.stage1_lr)
            self._fit(classifier, seed, self.scale.stage1_epochs, "stage1", n_train)

        return self._trained(seed, "stage1", train, augment=augment, n_train=n_train, **options)

    def stage1_batch_augmented(self, seed: int, augmentation: str) -> training.Classifier:
        """`stage1` plus one of `augment.BATCH_AUGMENTATIONS` (MixUp, CutMix, RandAugment) on every training batch;
        mixed labels are soft, so this stage 1 trains with cross-entropy on probabilities."""

        def train(classifier: training.Classifier) -> None:
            # loss only, like `training.compile_with`: a training metric would make TensorFlow trace the step twice
            classifier.model.compile(optimizer=keras.optimizers.Adam(self.scale.stage1_lr),
                                     loss=augment.soft_label_loss())
            batches = augment.augment_training_batches(self._train_dataset(seed), augmentation, seed,
                                                       len(self.splits(seed).class_names))
            training.fit(classifier.model, batches, epochs=self.scale.stage1_epochs, seed=seed, step="stage1")

        return self._trained(seed, "stage1", train, batch_augmentation=augmentation,
                             recipe=augment.BATCH_AUGMENTATIONS[augmentation])

    def stage2(self, seed: int, *, learning_rate: float | None = None, bn_policy: str = "frozen",
               fraction: float = 1.0, early_learning_rate: float | None = None,
               n_train: int | None = None) -> training.Classifier:
        """Stage 2 from this seed's stage-1 model: unfreeze, recompile, fine-tune at a low rate.

        `early_learning_rate` turns on differential rates: the first half of the base's weighted layers train at
        it, the rest of the base and the head at `learning_rate`. `n_train` fine-tunes (and warms up) on a
        smaller or larger training set than the scale's.
        """
        learning_rate = learning_rate or self.scale.stage2_lr

        def train(classifier: training.Classifier) -> None:
            # Stage 1 trains a frozen base, so its weights fit every BatchNorm policy's graph.
            classifier.model.set_weights(self.stage1(seed, n_train=n_train).model.get_weights())
            training.unfreeze(classifier, fraction=fraction, bn_policy=bn_policy)
            if early_learning_rate is None:
                training.compile_model(classifier.model, learning_rate)
            else:
                training.compile_with(classifier.model, training.differential_optimizer(
                    classifier, early_rate=early_learning_rate, late_rate=learning_rate))
            self._fit(classifier, seed, self.scale.stage2_epochs, "stage2", n_train)

        # Options at their defaults stay out of the key, so models cached before they existed are still found.
        extra = {"early_learning_rate": early_learning_rate} if early_learning_rate is not None else {}
        return self._trained(seed, "stage2", train, learning_rate=learning_rate, bn_policy=bn_policy,
                             fraction=fraction, stage1_epochs=self.scale.stage1_epochs, n_train=n_train, **extra)

    def stage2_without_recompile(self, seed: int) -> training.Classifier:
        """Common error: stage 1's model, `base.trainable = True`, then `fit` again without `compile()`.

        The model is put where a student's is after stage 1's `fit` (stage-1 weights, compiled with stage 1's
        optimizer, its train step traced), then unfrozen like the shared stage 2 and trained for stage 2's epochs.
        """

        def train(classifier: training.Classifier) -> None:
            classifier.model.set_weights(self.stage1(seed).model.get_weights())
            training.compile_model(classifier.model, self.scale.stage1_lr)
            training.trace_train_step(classifier.model, self._train_dataset(seed))
            training.unfreeze(classifier, bn_policy="frozen")
            self._fit(classifier, seed, self.scale.stage2_epochs, "stage2")

        return self._trained(seed, "stage2_without_recompile", train, stage1_epochs=self.scale.stage1_epochs)

    def scratch(self, seed: int) -> training.Classifier:
        """The same architecture from random weights, every layer trained for as many epochs as both stages."""

        def train(classifier: training.Classifier) -> None:
            training.unfreeze_for_scratch(classifier.base)
            training.compile_model(classifier.model, self.scale.stage1_lr)
            self._fit(classifier, seed, self.scale.stage1_epochs + self.scale.stage2_epochs, "scratch")

        return self._trained(seed, "scratch", train, weights=None, bn_policy="train",
                             bn_momentum=training.SCRATCH_BN_MOMENTUM)

    def _fit(self, classifier: training.Classifier, seed: int, epochs: int, step: str,
             n_train: int | None = None) -> None:
        training.fit(classifier.model, self._train_dataset(seed, n_train), epochs=epochs, seed=seed, step=step)

    def _train_dataset(self, seed: int, n_train: int | None = None):
        return self.splits(seed, n_train).dataset("train", self.scale.batch_size, shuffle_seed=seed)

    def _trained(self, seed: int, step: str, train, *, augment: bool = True, weights: str | None = "imagenet",
                 bn_policy: str = "frozen", n_train: int | None = None, **settings) -> training.Classifier:
        """Train once per key (memory, then disk), and give every caller its own copy with identical weights
        (a fresh model: base frozen, not compiled; built when first used)."""
        scale = self.scale
        key = cache_key(kind=step, backbone=scale.backbone, weights=weights, data=asdict(self.data_config(n_train)),
                        seed=seed, augment=augment, bn_policy=bn_policy, batch=scale.batch_size,
                        dropout=scale.dropout, stage1=(scale.stage1_epochs, scale.stage1_lr),
                        settings=settings)

        def stored_copy() -> training.Classifier:
            classifier = self.classifier(seed, augment=augment, weights=weights, bn_policy=bn_policy)
            classifier.model.set_weights(self._memory[key])
            classifier.key = key
            return classifier

        if key not in self._memory:
            classifier = self.classifier(seed, augment=augment, weights=weights, bn_policy=bn_policy)
            stored = self._load_weights(key, classifier.model)
            if stored is not None:  # from disk: this model already holds the weights
                self._memory[key], classifier.key = stored, key
                return classifier
            train(classifier)
            self._save_weights(key, classifier.model)
            self._memory[key] = classifier.model.get_weights()
        # Built on first use only: a caller that reads memoised measurements of this key never pays for a build.
        return training.Classifier.deferred(stored_copy, scale.backbone, key)

    # --- measurements of trained models, each made once per model ---------------------------------------------
    def evaluate(self, classifier: training.Classifier, seed: int, split: str = "test") -> Evaluation:
        """Accuracy on a split (inference mode) and the pooled features behind it, computed in one pass."""
        memo = ("evaluation", classifier.key or id(classifier), seed, split)
        if memo not in self._memory:
            images, labels = self.splits(seed).arrays(split)
            features, logits = training.features_and_logits(classifier.model, images)
            self._memory[memo] = Evaluation(float(np.mean(np.argmax(logits, axis=1) == labels)), features)
        return self._memory[memo]

    def moving_statistics(self, classifier: training.Classifier) -> list[tuple[np.ndarray, np.ndarray]]:
        """The base's BatchNorm moving means and variances, input to output."""
        return self._once(("moving statistics", classifier.key or id(classifier)),
                          lambda: measures.moving_statistics(classifier.base, classifier.backbone))

    def linear_probe_accuracy(self, seed: int, n_train: int, min_steps: int = 0) -> float:
        """Feature extraction without augmentation: a head trained on frozen-base features of n_train per class."""

        def train_and_score() -> float:
            features = self.features(seed, self.scale.backbone, n_train=n_train)
            scale = self.scale
            head = training.train_linear_head(
                features["train"], features["y_train"], num_classes=len(self.splits(seed).class_names),
                epochs=scale.stage1_epochs, batch_size=scale.batch_size, learning_rate=scale.stage1_lr,
                dropout=scale.dropout, seed=seed, min_steps=min_steps,
            )
            return training.accuracy(head, features["test"], features["y_test"])

        return self._once(("linear probe", seed, n_train, min_steps), train_and_score)

    def imagenet_agreement(self, classifier: training.Classifier, seed: int) -> float:
        """Top-1 agreement, on augmented crops of real photos, between the original ImageNet model and the same
        model with this classifier's base in place of its own: how much ImageNet knowledge the base kept."""
        backbone, size = self.scale.backbone, self.scale.image_size
        if backbone not in measures.IMAGENET_BACKBONES:
            raise ValueError(f"no offline ImageNet head for {backbone}; only {measures.IMAGENET_BACKBONES}")
        memo = ("imagenet agreement", classifier.key or id(classifier), seed)
        if memo not in self._memory:
            crops = self._once(("photo crops", seed, size), lambda: measures.photo_crops(size, seed))
            original = self._once(("imagenet model", backbone, size), lambda: measures.imagenet_model(backbone, size))
            reference = self._once(("imagenet top1", seed, size), lambda: measures.top1(original, crops, backbone))
            probe = self._once(("imagenet probe model", backbone, size),
                               lambda: measures.imagenet_model(backbone, size))
            predicted = measures.top1(measures.with_base_weights(probe, classifier.base), crops, backbone)
            self._memory[memo] = float(np.mean(predicted == reference))
        return self._memory[memo]

    def _once(self, memo: tuple, build):
        if memo not in self._memory:
            self._memory[memo] = build()
        return self._memory[memo]

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
