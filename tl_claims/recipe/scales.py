"""Scale presets as data: how big each experiment is at `smoke`, `cpu` and `gpu` scale.

Command-line options override single fields (`Scale.override`). Each default has a reason next to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tl_claims.core.errors import HarnessError
from tl_claims.core.limits import MAX_IMAGE_SIZE, MAX_SEED

if TYPE_CHECKING:
    from tl_claims.data import DataConfig

AUTO_SEED_LOOKS = (5, 7, 10)  # `--seeds auto`: looks at 5, 7 and 10 seeds (tl_claims.stats.sequential's default design)
VARIANT_SETS = ("all", "primary", "smoke")  # `Scale.variants`: which of each claim's variants a scale runs
MIN_IMAGE_SIZE = 32  # five stride-2 stages in every backbone: smaller inputs leave no spatial extent
# A batch of 32 float32 images at 1024 px is 400 MB before the first activation: larger sizes end in an out-of-memory
# crash, not a result (the lesson's own size is 224).
MAX_SEEDS = 1000  # `--seeds N`: seeds 0..N-1; more would train for weeks and fill memory with their tuple
# `Scale.dry_run` takes these from the smoke preset: sizes only, never the backbone, data set or recipe settings.
DRY_RUN_FIELDS = (
    "image_size",
    "n_train",
    "n_val",
    "n_test",
    "batch_size",
    "stage1_epochs",
    "stage2_epochs",
    "seeds",
    "learning_curve_sizes",
)


@dataclass(frozen=True)
class Scale:
    name: str
    backbone: str
    dataset: str
    image_size: int
    n_train: int  # training images per class
    n_val: int  # validation images per class
    n_test: int  # test images per class: only forward passes, so as many as the budget allows
    batch_size: int
    stage1_epochs: int  # head warm-up, base frozen, Adam 1e-3
    stage2_epochs: int  # fine-tuning, base unfrozen, low learning rate
    seeds: tuple[int, ...]
    stage1_lr: float = 1e-3  # the lesson's head warm-up rate
    stage2_lr: float = 1e-5  # the lesson's fine-tuning rate
    dropout: float = 0.2
    learning_curve_sizes: tuple[int, ...] = field(default=(10, 25, 50, 100, 200))
    seed_looks: tuple[int, ...] = ()  # `--seeds auto`: seed counts at which an undecided row gets more seeds
    variants: str = "all"  # every variant, each claim's primary (the lesson's own reading) or its smoke variants
    # Replication: every claim case runs once per data set × backbone listed here (empty: `dataset` / `backbone`).
    datasets: tuple[str, ...] = ()
    backbones: tuple[str, ...] = ()
    findings_from: str = ""  # whose known findings this scale expects (replicate: the cpu scale's)
    # Runs instead of `backbone` where that one's ImageNet weights are not on the machine (`with_weights_on_disk`):
    # the gpu scale's offline path. Empty: `backbone` or nothing (its loading says how to get the weights).
    offline_backbone: str = ""

    def __post_init__(self) -> None:
        """Every scale checks its own numbers, so no caller has to: a bad value fails here with what is allowed."""
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ScaleError(
                f"{self.name}: seeds must be distinct and at least one (got {self.seeds}); --seeds N runs seeds 0..N-1"
            )
        if not MIN_IMAGE_SIZE <= self.image_size <= MAX_IMAGE_SIZE:
            raise ScaleError(
                f"{self.name}: image size must be at least {MIN_IMAGE_SIZE} pixels and at most {MAX_IMAGE_SIZE} "
                f"(got {self.image_size})"
            )
        if not all(0 <= seed <= MAX_SEED for seed in self.seeds):
            raise ScaleError(f"{self.name}: seeds must lie in 0..{MAX_SEED} (got {self.seeds})")
        for name in ("n_train", "n_test", "batch_size", "stage1_epochs", "stage2_epochs"):
            if getattr(self, name) < 1:
                raise ScaleError(f"{self.name}: {name.replace('_', '-')} must be positive (got {getattr(self, name)})")
        if self.seed_looks and self.seed_looks[0] != len(self.seeds):
            raise ScaleError(
                f"{self.name}: the first seed look ({self.seed_looks[0]}) must be the seeds run first "
                f"({len(self.seeds)})"
            )
        if self.n_val < 0:
            raise ScaleError(f"{self.name}: n-val must be zero or more (got {self.n_val})")
        if self.variants not in VARIANT_SETS:
            raise ScaleError(f"{self.name}: variants must be one of {VARIANT_SETS} (got {self.variants!r})")

    def runs(self, claim: Any, variant: str) -> bool:
        """Does this scale run this variant of `claim` (a `tl_claims.claims.base.Claim`)? Per `variants`."""
        if self.variants == "primary":
            return variant == claim.primary_variant
        if self.variants == "smoke":
            return variant in claim.smoke_variants
        return True

    def known_finding(self, variant: Any) -> str:
        """The verdict a variant (a `tl_claims.claims.base.Variant`) is known to give here instead of CONFIRMED,
        or "" where none is."""
        return variant.expected.get(self.name) or variant.expected.get(self.findings_from, "")

    def configurations(self) -> list[Scale]:
        """This scale once per (data set, backbone) of its replication matrix; itself when it has none."""
        if not self.datasets and not self.backbones:
            return [self]
        return [
            replace(self, dataset=dataset, backbone=backbone, datasets=(), backbones=())
            for dataset in self.datasets or (self.dataset,)
            for backbone in self.backbones or (self.backbone,)
        ]

    def with_weights_on_disk(self) -> Scale:
        """This scale as it runs on this machine: `offline_backbone` in place of `backbone` when the latter's
        ImageNet weights are not on disk (looked for, never downloaded), so a machine without network still runs it;
        each row records the backbone that ran. Unchanged without an `offline_backbone`."""
        if not self.offline_backbone:
            return self
        from tl_claims import backbones

        chosen = self.backbone if backbones.weights_on_disk(self.backbone) else self.offline_backbone
        return replace(self, backbone=chosen, offline_backbone="")

    def override(self, **changes: Any) -> Scale:
        """A copy with the non-None `changes` applied (`seeds=N` means seeds 0..N-1; a comma-separated `dataset` or
        `backbone` is a replication matrix); backbone and data-set names are checked against their registries here,
        where they come from a user."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown scale field(s) {sorted(unknown)}; known: {sorted(known)}")
        applied = {key: value for key, value in changes.items() if value is not None}
        if applied.get("seeds") == "auto":
            applied["seeds"], applied["seed_looks"] = tuple(range(AUTO_SEED_LOOKS[0])), AUTO_SEED_LOOKS
        elif isinstance(applied.get("seeds"), int):
            if not 1 <= applied["seeds"] <= MAX_SEEDS:
                raise ScaleError(
                    f"{self.name}: --seeds must be at least 1 and at most {MAX_SEEDS} (got {applied['seeds']})"
                )
            applied["seeds"] = tuple(range(applied["seeds"]))
        for name, plural in (("dataset", "datasets"), ("backbone", "backbones")):
            if name in applied:
                listed = tuple(part.strip() for part in str(applied[name]).split(","))
                if not all(listed) or len(set(listed)) != len(listed):
                    raise ScaleError(f"--{name} {applied[name]!r}: give distinct names separated by commas")
                applied[name], applied[plural] = listed[0], listed if len(listed) > 1 else ()
        if "backbone" in applied:
            applied["offline_backbone"] = ""  # a backbone typed on the command line runs as typed, or not at all
        scale = replace(self, **applied)
        for each in scale.configurations():
            if "backbone" in applied:
                _check_backbone(each.backbone)
            if "dataset" in applied:
                _check_dataset(each.dataset)
        return scale

    def dry_run(self) -> Scale:
        """This preset at the smoke scale's sizes and nothing else changed: the same backbone, data source and
        recipe settings, so a CPU can run every code path of a scale it cannot afford (the gpu scale's dry run in
        `tests/claims/test_gpu_dry_run.py`) before the first real run finds a broken path."""
        sizes = {name: getattr(SCALES["smoke"], name) for name in DRY_RUN_FIELDS}
        return replace(self, name=f"{self.name}_dry", seed_looks=(), **sizes)

    def data_config(self, cache_dir: Path, n_train: int | None = None) -> DataConfig:
        """The data this scale trains and tests on (`n_train` per class instead of the scale's, if given)."""
        from tl_claims.data import DataConfig

        return DataConfig(
            source=self.dataset,
            image_size=self.image_size,
            n_train=n_train or self.n_train,
            n_val=self.n_val,
            n_test=self.n_test,
            cache_dir=Path(cache_dir) / "data",
            # real photos: one training pool (hence one test set) for every size a learning curve asks for
            pool_min=self.n_train,
            pool_max=max(self.n_train, *self.learning_curve_sizes),
        )


class ScaleError(HarnessError, ValueError):
    """A scale setting that cannot work; the message says which and what is allowed."""


def _check_backbone(name: str) -> None:
    from tl_claims import backbones

    try:
        backbones.get(name)
    except HarnessError as error:
        raise ScaleError(f"--backbone: {error}") from None


def _check_dataset(spec: str) -> None:
    from tl_claims.data.spec import parse_dataset_spec  # the one parser for data-set specs

    try:
        parse_dataset_spec(spec, require_folder=True)
    except HarnessError as error:
        raise ScaleError(f"--dataset {spec!r}: {error}") from None


SCALES: dict[str, Scale] = {
    # Every claim's code path end to end in seconds: tiny images, a handful of them, one seed, no verdict asserted.
    "smoke": Scale(
        name="smoke",
        backbone="efficientnet_lite0",
        dataset="synthetic",
        image_size=32,
        n_train=4,
        n_val=2,
        n_test=4,
        batch_size=8,
        stage1_epochs=1,
        stage2_epochs=1,
        seeds=(0,),
        learning_curve_sizes=(2, 4),
        variants="smoke",
    ),
    # Verdicts on a 2-core CPU, on the shipped tf_flowers photos (docs/measured-facts.md, "The cpu preset on the
    # photos"): 80 px (64 px starves the ImageNet features, 96 px does not fit `make verify`'s 15 minutes), 50 per
    # class (the lesson's small data), the lesson's 5 stage-1 epochs, 6 of its 10 stage-2 epochs (the budget's
    # limit), 200 test photos per class (forward passes only; test noise well under the effects measured).
    "cpu": Scale(
        name="cpu",
        backbone="efficientnet_lite0",
        dataset="tf_flowers",
        image_size=80,
        n_train=50,
        n_val=10,
        n_test=200,
        batch_size=32,
        stage1_epochs=5,
        stage2_epochs=6,
        seeds=(
            0,
            1,
            2,
            3,
            4,
        ),  # five: the seed term of an interval at 3 seeds has t(2) = 4.30 (see tl_claims.stats.intervals)
    ),
    # The lesson's recipe at 224 px, 5 + 10 epochs, five seeds, primary variants only (all of them would add five
    # models per seed to the 17 the primaries train), and offline: the shipped tf_flowers photos (227 px, read at
    # 224) with EfficientNetB0 "imagenet" where Keras' weights file is on disk, else Lite0 (weights from its
    # package; B0's closest offline relative: native 224 px, 0.385 G multiply-adds a forward pass there, as B0).
    # 80 training images per class: the primaries then fit the claims' share of one 10-minute H100 call of
    # benchmarks/gpu_run.sh (about 8 minutes) with a minute to spare, by docs/gpu.md's estimate (100 per class: no
    # spare minute; 200: about 12 minutes). The photos' smallest class, roses, holds 429 distinct photos.
    "gpu": Scale(
        name="gpu",
        backbone="efficientnet_b0",
        offline_backbone="efficientnet_lite0",
        dataset="tf_flowers",
        image_size=224,
        n_train=80,
        n_val=50,
        n_test=200,
        batch_size=32,
        stage1_epochs=5,
        stage2_epochs=10,
        seeds=(0, 1, 2, 3, 4),
        learning_curve_sizes=(10, 25, 50, 80),
        variants="primary",
    ),
}
# Replication (`pytest -m replicate`, `make replicate`): the cpu scale's primary variants on the real tf_flowers
# photos and on two independently designed generated families, with two ImageNet backbones, every combination; the
# table marks where each verdict holds (tl_claims.results.replication).
SCALES["replicate"] = replace(
    SCALES["cpu"],
    name="replicate",
    variants="primary",
    findings_from="cpu",
    datasets=("tf_flowers", "synthetic", "synthetic:objects"),
    backbones=("efficientnet_lite0", "efficientnet_lite1"),
)
