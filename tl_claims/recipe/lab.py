"""The lab: what claims ask for, each built once per configuration and kept in memory and in the artefact store.

A claim may ask a lab for exactly what `tl_claims.claims.base.LabProtocol` lists: the scale, the data splits,
stage-1 / stage-2 / scratch models, evaluations with per-image outcomes, and the few measurements of trained models
the fine-tuning claims report. The training itself is `tl_claims.recipe.training`'s recipes; this class only decides the
key of each artefact (everything that determines it, from the stages' typed options of `tl_claims.recipe.options`
among the rest) and memoises. The homework's `StudentLab` implements the same
protocol with a student's own functions.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import keras
import numpy as np

from tl_claims import backbones
from tl_claims.core.store import ArtefactStore
from tl_claims.data import DataConfig, Splits, load_splits
from tl_claims.data.augment import BATCH_AUGMENTATIONS, augment_training_batches, lesson_augmentation
from tl_claims.recipe import architecture, evaluation, measures, training
from tl_claims.recipe.architecture import Classifier
from tl_claims.recipe.evaluation import Evaluation
from tl_claims.recipe.options import LESSON_STAGE1, LESSON_STAGE2, Stage1Options, Stage2Options
from tl_claims.recipe.scales import Scale
from tl_claims.recipe.training import StageBudget

if TYPE_CHECKING:
    from tl_claims.data.batches import Batches


class Lab:
    """The suite's own recipe at one scale, memoised."""

    def __init__(self, scale: Scale, cache_dir: Path, weights_in_memory: int = 8) -> None:
        self.scale = scale
        self.cache_dir = Path(cache_dir)
        self.store = ArtefactStore(self.cache_dir)
        self._memory: dict = {}
        # Trained weights, the least recently used first out: a long run trains hundreds of models (about 14 MB each
        # for Lite0), and holding them all grew each worker by gigabytes. The store holds every one of them.
        self.weights_in_memory = weights_in_memory
        self._weights_kept: OrderedDict[str, list[np.ndarray]] = OrderedDict()
        self._makers: dict[str, tuple[Callable[[], Classifier], Callable[[Classifier], None]]] = {}
        # One built model per architecture that the lab's own measurements load weights into (`readonly`).
        self._signatures: dict[str, tuple] = {}
        self._templates: dict[tuple, _Template] = {}
        self.ledger: list[StageBudget] = []  # every stage handed out, in order: the engine reads a row's regime here
        # Traced train steps reused across seeds (training.Trainers); None trains every model on its own.
        self.trainers: training.Trainers | None = training.Trainers()

    # --- data ------------------------------------------------------------------------------------------------------
    def data_config(self, n_train: int | None = None) -> DataConfig:
        return self.scale.data_config(self.cache_dir, n_train)

    def splits(self, seed: int, n_train: int | None = None) -> Splits:
        return load_splits(self.data_config(n_train), seed)

    def train_dataset(self, seed: int, n_train: int | None = None) -> Batches:
        return self.splits(seed, n_train).dataset("train", self.scale.batch_size, shuffle_seed=seed)

    # --- trained models --------------------------------------------------------------------------------------------
    def stage1(self, seed: int, options: Stage1Options = LESSON_STAGE1) -> Classifier:
        """Base frozen, head warmed up; optionally with MixUp / CutMix / RandAugment on every training batch, and
        for at least `options.min_steps` optimizer steps (more epochs on a small training set)."""
        scale, n_train, mixing = self.scale, options.n_train, options.batch_augmentation
        budget = self._budget(seed, "stage 1", scale.stage1_epochs, n_train, options.min_steps)

        def train(classifier: Classifier) -> None:
            training.stage1(
                classifier,
                self.train_dataset(seed, n_train),
                learning_rate=scale.stage1_lr,
                epochs=budget.epochs,
                seed=seed,
                trainers=self.trainers,
            )

        def train_mixed(classifier: Classifier) -> None:
            training.stage1(
                classifier,
                self._mixed_batches(seed, n_train, mixing),
                learning_rate=scale.stage1_lr,
                epochs=budget.epochs,
                seed=seed,
                soft_labels=True,
                trainers=self.trainers,
            )

        # Options at their defaults stay out of the key, so the same training under two spellings is one model.
        extra: dict = {"epochs": budget.epochs} if budget.epochs != scale.stage1_epochs else {}
        if mixing is not None:
            extra |= {"batch_augmentation": mixing, "recipe": BATCH_AUGMENTATIONS[mixing]}
        trainer = train if mixing is None else train_mixed
        return self._trained(seed, "stage1", trainer, budget, augment=options.augment, n_train=n_train, **extra)

    def stage2(self, seed: int, options: Stage2Options = LESSON_STAGE2) -> Classifier:
        """Stage 2 from this seed's stage-1 model trained as `options.stage1` says; a batch augmentation goes on
        through stage 2's batches too. `options.min_steps` lengthens stage 2 alone (default: stage 1's)."""
        scale, first = self.scale, options.stage1
        n_train, mixing = first.n_train, first.batch_augmentation
        learning_rate = options.learning_rate or scale.stage2_lr
        stage1 = self.stage1(seed, first)
        stage2_steps = first.min_steps if options.min_steps is None else options.min_steps
        budget = self._budget(seed, "stage 2", scale.stage2_epochs, n_train, stage2_steps)

        def train(classifier: Classifier) -> None:
            batches = self.train_dataset(seed, n_train)
            if mixing is not None:
                batches = self._mixed_batches(seed, n_train, mixing)
            training.stage2(
                classifier,
                self._weights(stage1),
                batches,
                learning_rate=learning_rate,
                epochs=budget.epochs,
                seed=seed,
                bn_policy=options.bn_policy,
                fraction=options.fraction,
                early_learning_rate=options.early_learning_rate,
                soft_labels=mixing is not None,
                trainers=self.trainers,
            )

        early = options.early_learning_rate
        extra: dict = {"early_learning_rate": early} if early is not None else {}
        extra |= {"stage1": stage1.key}  # the model it starts from, whatever options made it
        extra |= {"epochs": budget.epochs} if budget.epochs != scale.stage2_epochs else {}
        return self._trained(
            seed,
            "stage2",
            train,
            budget,
            learning_rate=learning_rate,
            bn_policy=options.bn_policy,
            fraction=options.fraction,
            n_train=n_train,
            augment=first.augment,
            **extra,
        )

    def stage2_without_recompile(self, seed: int) -> Classifier:
        scale = self.scale
        stage1 = self.stage1(seed)
        budget = self._budget(seed, "stage 2 (not recompiled)", scale.stage2_epochs)

        def train(classifier: Classifier) -> None:
            training.stage2_without_recompile(
                classifier,
                self._weights(stage1),
                self.train_dataset(seed),
                stage1_learning_rate=scale.stage1_lr,
                epochs=budget.epochs,
                seed=seed,
            )

        return self._trained(seed, "stage2_without_recompile", train, budget, stage1=stage1.key)

    def scratch(self, seed: int) -> Classifier:
        """Random weights, every layer trained for as many epochs as both stages together."""
        scale = self.scale
        budget = self._budget(seed, "scratch", scale.stage1_epochs + scale.stage2_epochs)

        def train(classifier: Classifier) -> None:
            training.scratch(
                classifier,
                self.train_dataset(seed),
                learning_rate=scale.stage1_lr,
                epochs=budget.epochs,
                seed=seed,
                trainers=self.trainers,
            )

        return self._trained(
            seed,
            "scratch",
            train,
            budget,
            weights=None,
            bn_policy="train",
            bn_momentum=training.SCRATCH_BN_MOMENTUM,
        )

    # --- evaluations and measurements, each made once per model -----------------------------------------------------
    def evaluate(self, classifier: Classifier, seed: int, split: str = "test") -> Evaluation:
        """Per-image predictions on a split (inference mode), with the pooled features behind them."""

        def run() -> Evaluation:
            images, labels = self.splits(seed).arrays(split)
            template = self._template(classifier)
            if template is None:
                return evaluation.evaluate(classifier.model, images, labels, with_features=True)
            return template.evaluate(images, labels)

        return self._once(("evaluation", classifier.key or id(classifier), seed, split), run)

    def linear_probe(
        self,
        seed: int,
        *,
        backbone: str | None = None,
        input_mode: str = "correct",
        n_train: int | None = None,
        min_steps: int = 0,
    ) -> Evaluation:
        """Feature extraction without augmentation: a head trained on frozen-base features of n_train per class."""
        backbone = backbone or self.scale.backbone
        budget = self._budget(seed, "linear head", self.scale.stage1_epochs, n_train, min_steps)
        self.ledger.append(budget)

        def train_and_evaluate() -> Evaluation:
            scale = self.scale
            features = self.features(seed, backbone, input_mode, n_train)
            head = training.train_linear_head(
                features["train"],
                features["y_train"],
                num_classes=len(self.splits(seed).class_names),
                epochs=budget.epochs,
                batch_size=scale.batch_size,
                learning_rate=scale.stage1_lr,
                dropout=scale.dropout,
                seed=seed,
            )
            return evaluation.evaluate(head, features["test"], features["y_test"])

        return self._once(("linear probe", seed, backbone, input_mode, n_train, min_steps), train_and_evaluate)

    def features(
        self, seed: int, backbone: str, input_mode: str = "correct", n_train: int | None = None
    ) -> dict[str, np.ndarray]:
        """Pooled features of the frozen ImageNet base for train and test images, and their labels.

        The test set is the same for every seed and training size, so its features are computed once per backbone
        and input mode: learning curves then cost only their training images.
        """
        config = self.data_config(n_train)
        recipe = {"backbone": backbone, "input_mode": input_mode}
        test_data = {name: value for name, value in asdict(config).items() if name not in ("n_train", "cache_dir")}

        def pooled(split: str) -> dict[str, np.ndarray]:
            images, labels = self.splits(seed, n_train).arrays(split)
            base, preprocess = self.frozen_base(backbone), architecture.Preprocess(backbone, input_mode)
            return {"features": evaluation.pooled_features(base, images, preprocess), "labels": labels}

        train_data = {name: value for name, value in asdict(config).items() if name != "cache_dir"}
        train = self._stored_arrays(
            self._key(kind="train features", data=train_data, seed=seed, **recipe), lambda: pooled("train")
        )
        test = self._stored_arrays(self._key(kind="test features", data=test_data, **recipe), lambda: pooled("test"))
        return {
            "train": train["features"],
            "y_train": train["labels"],
            "test": test["features"],
            "y_test": test["labels"],
        }

    def frozen_base(self, backbone: str):
        """One ImageNet base per backbone and process, only ever used frozen (never trained)."""
        return self._once(
            ("base", backbone, self.scale.image_size),
            lambda: backbones.load(
                backbone, image_size=self.scale.image_size, weights="imagenet", cache_dir=self.cache_dir
            ),
        )

    def moving_statistics(self, classifier: Classifier) -> list[tuple[np.ndarray, np.ndarray]]:
        """The base's BatchNorm moving means and variances, input to output."""
        return self._once(
            ("moving statistics", classifier.key or id(classifier)),
            lambda: measures.moving_statistics(self.readonly(classifier).base),
        )

    def base_shift(self, after: Classifier, before: Classifier) -> float:
        """How far training moved the base's kernels from `before` to `after` (relative L2; see measures)."""
        return self._once(
            ("base shift", after.key or id(after), before.key or id(before)),
            lambda: measures.relative_shift(
                measures.base_kernels(self.readonly(before).base), measures.base_kernels(self.readonly(after).base)
            ),
        )

    def imagenet_agreement(self, classifier: Classifier, seed: int) -> float:
        """Top-1 agreement, on augmented crops of real photos, between the original ImageNet model and the same
        model with this classifier's base in place of its own: how much ImageNet knowledge the base kept."""
        backbone, size = self.scale.backbone, self.scale.image_size
        if backbone not in measures.IMAGENET_BACKBONES:
            raise ValueError(f"no offline ImageNet head for {backbone}; only {measures.IMAGENET_BACKBONES}")

        def measure() -> float:
            crops = self._once(("photo crops", seed, size), lambda: measures.photo_crops(size, seed))
            original = self._once(("imagenet model", backbone, size), self._imagenet_model)
            reference = self._once(("imagenet top1", seed, size), lambda: measures.top1(original, crops, backbone))
            probe = self._once(("imagenet probe model", backbone, size), self._imagenet_model)
            with_base = measures.with_base_weights(probe, self.readonly(classifier).base)
            predicted = measures.top1(with_base, crops, backbone)
            return float(np.mean(predicted == reference))

        return self._once(("imagenet agreement", classifier.key or id(classifier), seed), measure)

    # --- plumbing --------------------------------------------------------------------------------------------------
    def _budget(
        self, seed: int, stage: str, epochs: int, n_train: int | None = None, min_steps: int = 0
    ) -> StageBudget:
        per_class = n_train or self.scale.n_train
        images = len(self.splits(seed, n_train).y_train)
        return training.stage_budget(
            stage,
            per_class=per_class,
            images=images,
            batch_size=self.scale.batch_size,
            epochs=epochs,
            min_steps=min_steps,
        )

    def _mixed_batches(self, seed: int, n_train: int | None, name: str | None) -> Batches:
        if name is None:
            raise ValueError("a batch-augmented stage needs the augmentation's name")
        classes = len(self.splits(seed, n_train).class_names)
        return augment_training_batches(self.train_dataset(seed, n_train), name, seed, classes)

    def _imagenet_model(self):
        return backbones.load(
            self.scale.backbone,
            image_size=self.scale.image_size,
            include_top=True,
            weights="imagenet",
            cache_dir=self.cache_dir,
        )

    def _classifier(self, seed: int, *, augment: bool, weights: str | None, bn_policy: str) -> Classifier:
        """A fresh, untrained classifier of the scale's backbone, seeded for this seed."""
        training.seed_everything(seed, "build")
        classifier = architecture.build_classifier(
            self.scale.backbone,
            image_size=self.scale.image_size,
            num_classes=len(self.splits(seed).class_names),
            weights=weights,
            augmentation=lesson_augmentation(seed) if augment else None,
            dropout=self.scale.dropout,
            bn_policy=bn_policy,
            cache_dir=self.cache_dir,
        )
        scale = self.scale
        classifier.architecture = (
            f"{scale.backbone} {scale.image_size}px {len(self.splits(seed).class_names)} classes augment={augment} "
            f"weights={weights} bn={bn_policy} dropout={scale.dropout}"
        )
        return classifier

    @property
    def models_in_memory(self) -> int:
        """How many trained models' weights this lab holds in memory now (at most `weights_in_memory`)."""
        return len(self._weights_kept)

    def _weights(self, classifier: Classifier) -> list[np.ndarray]:
        return self._trained_weights(classifier.key)

    def _trained_weights(self, key: str) -> list[np.ndarray]:
        """The weights trained under `key`: from memory, else from the store, else trained now (and stored). A
        model trained again after its weights left memory (a cache that cannot be written) is the same model: every
        training step is seeded (tests/test_lab.py)."""
        if key in self._weights_kept:
            self._weights_kept.move_to_end(key)
            return self._weights_kept[key]
        fresh, train = self._makers[key]
        classifier = fresh()
        with self.store.building(key):  # another process training this very model: wait for it, then load
            if not self.store.load_weights(key, classifier.model):
                train(classifier)
                self.store.save_weights(key, classifier.model)
        return self._keep(key, classifier.model.get_weights())

    def _keep(self, key: str, weights: list[np.ndarray]) -> list[np.ndarray]:
        self._weights_kept[key] = weights
        while len(self._weights_kept) > self.weights_in_memory:
            self._weights_kept.popitem(last=False)
        return weights

    def _trained(
        self,
        seed: int,
        step: str,
        train: Callable[[Classifier], None],
        budget: StageBudget,
        *,
        augment: bool = True,
        weights: str | None = "imagenet",
        bn_policy: str = "frozen",
        n_train: int | None = None,
        **settings: object,
    ) -> Classifier:
        """Train once per key (memory, then the store), and give every caller its own copy with identical weights
        (a fresh model, base frozen, not compiled, built on first use). `budget`: the stage that trains it (on top of
        the model it starts from, which was asked for, and so noted, first), noted in the ledger on every request."""
        scale = self.scale
        data = {name: value for name, value in asdict(self.data_config(n_train)).items() if name != "cache_dir"}
        key = self._key(
            kind=step,
            backbone=scale.backbone,
            weights=weights,
            data=data,
            seed=seed,
            augment=augment,
            bn_policy=bn_policy,
            batch=scale.batch_size,
            dropout=scale.dropout,
            stage1=(scale.stage1_epochs, scale.stage1_lr),
            settings=settings,
        )

        def fresh() -> Classifier:
            return self._classifier(seed, augment=augment, weights=weights, bn_policy=bn_policy)

        if key not in self._makers:  # trained (or loaded) at its first request, as every caller expects
            self._makers[key] = (fresh, train)
            self._signatures[key] = (augment, weights, bn_policy)  # what the built model depends on, seeds aside
            self._trained_weights(key)
        self.ledger.append(budget)

        def stored_copy() -> Classifier:
            classifier = fresh()
            if key not in self._weights_kept and self.store.load_weights(key, classifier.model):
                self._keep(key, classifier.model.get_weights())  # read back into the copy itself: no second build
            else:
                classifier.model.set_weights(self._trained_weights(key))
            return classifier

        # Built on first use only: a caller that reads memoised measurements of this key never pays for a build.
        return Classifier.deferred(stored_copy, scale.backbone, key)

    def readonly(self, classifier: Classifier) -> Classifier:
        """A model with `classifier`'s weights, for reading only (evaluations, measurements) and only until the lab's
        next `readonly` or `evaluate`: the lab's one built model of that architecture, its weights replaced in place.
        Each request saves a model build (about a second for Lite0) and an evaluation's trace; the outputs are the
        same bit for bit (tests/test_lab.py). A classifier the lab did not hand out is returned as it is."""
        template = self._template(classifier)
        return classifier if template is None else template.classifier

    def _template(self, classifier: Classifier) -> _Template | None:
        key = classifier.key
        if key not in self._signatures:
            return None
        signature = self._signatures[key]
        if signature not in self._templates:
            built = self._makers[key][0]()
            self._templates[signature] = _Template(built, evaluation.evaluator(built.model, with_features=True))
        template = self._templates[signature]
        if template.holds != key:
            model = template.classifier.model
            if key in self._weights_kept:
                model.set_weights(self._trained_weights(key))
            elif self.store.load_weights(key, model):
                self._keep(key, model.get_weights())
            else:
                model.set_weights(self._trained_weights(key))
            template.holds = key
        return template

    def _key(self, **parts: object) -> str:
        """The store key of an artefact: the backend is part of it, since each backend's kernels give their own
        numbers (a model trained under JAX is not the TensorFlow one, and a row must say which it measured)."""
        return self.store.key(backend=keras.backend.backend(), **parts)

    def _stored_arrays(self, key: str, build: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
        return self._once(("arrays", key), lambda: self.store.arrays(key, build, names=("features", "labels")))

    def _once(self, memo: tuple, build: Callable[[], object]):
        if memo not in self._memory:
            self._memory[memo] = build()
        return self._memory[memo]


@dataclass(eq=False)
class _Template:
    """The lab's one built model of an architecture, the evaluation traced on it, and whose weights it holds now."""

    classifier: Classifier
    evaluate: Callable[[np.ndarray, np.ndarray], Evaluation]
    holds: str = ""
